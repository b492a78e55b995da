import { CpuSemaphore } from "./cpu.js";
import { KernelError } from "./errno.js";
import { FdTableImpl } from "./fd-table.js";
import { DeviceHandle } from "./handles.js";
import { MemoryMount, type Mount } from "./inode.js";
import { SocketTable } from "./net.js";
import { FilesystemPermissions } from "./permissions.js";
import { resolvePath } from "./path.js";
import { createPipe } from "./pipe.js";
import { StoreMount } from "./store-mount.js";
import type {
  ExitStatus,
  Executor,
  FileHandle,
  FilesystemPolicy,
  ListenPolicy,
  NetworkAttempt,
  NetworkPolicy,
  HostProgram,
  KernelApi,
  KernelProcess,
  ProcessHandle,
  ProcessInfo,
  Program,
  Signal,
  SpawnOptions,
} from "./types.js";
import { KernelVfs } from "./vfs.js";

export const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

export const SIGNAL_NUMBERS: Record<Signal, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGPIPE: 13,
  SIGTERM: 15,
  SIGXCPU: 24,
};

/** Exit status of a process ended by `signal` (the shell's 128 + signo). */
export function signalStatus(signal: Signal): ExitStatus {
  return { exitCode: 128 + SIGNAL_NUMBERS[signal], signal };
}

/** Finished processes kept for `processes()` and late `wait()`s by pid. */
const EXITED_KEPT = 64;
/** Interpreter ("#!") nesting allowed before ELOOP (Linux allows 4). */
const MAX_INTERPRETER_DEPTH = 4;

/**
 * Compiled modules per byte buffer. Keys are buffers of read-only mounts, which never change and
 * are shared by every workspace of the engine, so a program compiles once per engine.
 */
const moduleCache = new WeakMap<Uint8Array, WebAssembly.Module>();

export interface KernelOptions {
  /** The root filesystem (default: a new in-memory mount). */
  root?: Mount;
  /** Further mounts; the mount point directories are created in the parent mount if missing. */
  mounts?: { path: string; mount: Mount }[];
  limits?: {
    /** Running processes at once; past it, spawn fails with EAGAIN (default 1024). */
    maxProcesses?: number;
    /** Bytes in writable mounts; past it, writes fail with ENOSPC. */
    maxFilesystemBytes?: number;
    /** Inodes in writable mounts; past it, creates fail with ENOSPC. */
    maxInodes?: number;
    /** Processes computing at once (see cpu.ts); default unlimited. */
    cpuCount?: number;
  };
  /** Runs WASI modules. Without it, running one fails with ENOEXEC. */
  executors?: { wasm?: Executor };
  /** Programs named by "#!enclave-host NAME" files. */
  hostPrograms?: Record<string, HostProgram>;
  /** Compiles WASI modules at resolution (cached per buffer); without it executors get bytes. */
  compileModule?: (bytes: Uint8Array) => WebAssembly.Module;
  /** How long a process signalled with anything but SIGKILL may take to end before the kernel marks it exited. */
  killGraceMs?: number;
  /** Outbound network policy for guest programs (default: deny). See permissions.ts. */
  network?: NetworkPolicy;
  /** Which ports guest programs may listen on. */
  listen?: ListenPolicy;
  /** Host loopback ports guest programs may connect to. */
  loopbackExemptPorts?: number[];
  /** Every outbound connect decision of a guest program (wire to the egress audit). */
  onNetworkAttempt?: (attempt: NetworkAttempt) => void;
  /** Which paths guest programs may read and write (absent: all, within file modes). */
  filesystem?: FilesystemPolicy;
}

class Process implements KernelProcess, ProcessHandle {
  readonly fds = new FdTableImpl();
  readonly startedAt = Date.now();
  private readonly controller = new AbortController();
  private result: ExitStatus | undefined;
  private killedBy: Signal | undefined;
  private killTimer: ReturnType<typeof setTimeout> | undefined;
  /** Releases of the fork slots the process holds (see forkSlot). */
  private readonly forks = new Set<() => void>();
  private readonly done: Promise<ExitStatus>;
  private resolveDone!: (status: ExitStatus) => void;

  constructor(
    private readonly kernel: Kernel,
    readonly pid: number,
    readonly ppid: number,
    readonly argv: string[],
    readonly env: Record<string, string>,
    public cwd: string,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get exited(): boolean {
    return this.result !== undefined;
  }

  exit(status: ExitStatus): void {
    if (this.result !== undefined) return;
    this.result = this.killedBy !== undefined ? signalStatus(this.killedBy) : status;
    if (this.killTimer !== undefined) clearTimeout(this.killTimer);
    this.fds.closeAll();
    // Subshells of a killed shell may still be unwinding: their slots are free from now on.
    for (const release of [...this.forks]) release();
    // Listeners bound by pid (not only through the fd table, e.g. by the `node` program) free their ports.
    this.kernel.net.releasePid(this.pid);
    this.kernel.reap(this);
    this.resolveDone(this.result);
  }

  spawn(options: Omit<SpawnOptions, "ppid">): ProcessHandle {
    // A dead process cannot fork: a host program still unwinding after a kill (a shell's
    // subshells) would otherwise leave children nobody kills.
    if (this.result !== undefined)
      throw new KernelError("ESRCH", "spawn", undefined, "the parent has exited");
    return this.kernel.spawn({ ...options, ppid: this.pid });
  }

  wait(): Promise<ExitStatus> {
    return this.done;
  }

  forkSlot(): () => void {
    if (this.result !== undefined)
      throw new KernelError("EAGAIN", "fork", undefined, "the process has exited");
    const release = this.kernel.takeProcessSlot("fork");
    let held = true;
    const once = (): void => {
      if (!held) return;
      held = false;
      this.forks.delete(once);
      release();
    };
    this.forks.add(once);
    return once;
  }

  kill(signal: Signal = "SIGTERM"): void {
    if (this.result !== undefined) throw new KernelError("ESRCH", "kill");
    this.killedBy = this.killedBy === "SIGKILL" ? "SIGKILL" : signal;
    this.controller.abort(signal);
    if (signal === "SIGKILL") {
      // The executor is told through the abort; the process is gone for everyone else now.
      this.exit(signalStatus("SIGKILL"));
    } else if (this.killTimer === undefined) {
      this.killTimer = setTimeout(() => this.exit(signalStatus(signal)), this.kernel.killGraceMs);
      this.killTimer.unref?.();
    }
  }

  info(): ProcessInfo {
    const info: ProcessInfo = {
      pid: this.pid,
      ppid: this.ppid,
      argv: [...this.argv],
      cwd: this.cwd,
      status: this.result === undefined ? "running" : "exited",
      startedAt: this.startedAt,
    };
    if (this.result !== undefined) info.exitCode = this.result.exitCode;
    if (this.result?.signal !== undefined) info.signal = this.result.signal;
    return info;
  }
}

/**
 * One workspace's operating system: the VFS, the process table and program resolution. Programs
 * run through executors (WASI modules) or as host programs (TypeScript functions).
 */
export class Kernel implements KernelApi {
  readonly vfs: KernelVfs;
  readonly net: SocketTable;
  readonly guestFilesystem: FilesystemPermissions | undefined;
  readonly killGraceMs: number;
  /** At most `cpuCount` processes compute at once (WASI and `node` runners hold a slot while running). */
  readonly cpu: CpuSemaphore;
  private readonly table = new Map<number, Process>();
  private readonly exitedOrder: number[] = [];
  private nextPid = 1;
  private running = 0;
  private closed = false;
  private readonly maxProcesses: number;
  private readonly wasmExecutor: Executor | undefined;
  private readonly hostPrograms: Record<string, HostProgram>;
  private readonly compileModule: ((bytes: Uint8Array) => WebAssembly.Module) | undefined;

  constructor(options: KernelOptions = {}) {
    const limits = options.limits ?? {};
    this.vfs = new KernelVfs({
      root: options.root ?? new MemoryMount(),
      limits: { maxFilesystemBytes: limits.maxFilesystemBytes, maxInodes: limits.maxInodes },
    });
    this.maxProcesses = limits.maxProcesses ?? 1024;
    this.cpu = new CpuSemaphore(limits.cpuCount ?? Infinity);
    this.wasmExecutor = options.executors?.wasm;
    this.hostPrograms = options.hostPrograms ?? {};
    this.compileModule = options.compileModule;
    this.killGraceMs = options.killGraceMs ?? 2000;
    // Policies are validated here, so a bad configuration fails the boot with a clear error.
    this.net = new SocketTable({
      network: options.network,
      listen: options.listen,
      loopbackExemptPorts: options.loopbackExemptPorts,
      onAttempt: options.onNetworkAttempt,
    });
    this.guestFilesystem =
      options.filesystem === undefined ? undefined : new FilesystemPermissions(options.filesystem, this.vfs);
    const mounts = [...(options.mounts ?? [])].sort(
      (a, b) => resolvePath("/", a.path).split("/").length - resolvePath("/", b.path).split("/").length,
    );
    for (const { path, mount } of mounts) {
      if (mount instanceof StoreMount && !mount.isLoaded) {
        throw new Error(`the store mount for ${path} must be loaded (await mount.load()) before booting`);
      }
      this.vfs.mount(path, mount);
    }
    if (!this.vfs.rootMount.readOnly) this.populateRoot();
  }

  /** The directories and devices every program expects. */
  private populateRoot(): void {
    const vfs = this.vfs;
    if (!vfs.exists("/dev")) {
      vfs.mkdir("/dev");
      vfs.mknod("/dev/null", "null");
      vfs.mknod("/dev/zero", "zero");
      vfs.mknod("/dev/random", "random");
      vfs.mknod("/dev/urandom", "random");
    }
    if (!vfs.exists("/tmp")) vfs.mkdir("/tmp", { mode: 0o1777 });
  }

  createPipe(): [FileHandle, FileHandle] {
    return createPipe();
  }

  nullHandle(): FileHandle {
    return new DeviceHandle("null");
  }

  resolveProgram(command: string, cwd: string, env: Record<string, string>): Program {
    return this.resolve(command, cwd, env, 0);
  }

  private resolve(command: string, cwd: string, env: Record<string, string>, depth: number): Program {
    if (command === "") throw new KernelError("ENOENT", "execve", command);
    if (command.includes("/")) return this.load(resolvePath(cwd, command), env, depth);
    let denied: KernelError | undefined;
    for (const dir of (env.PATH ?? DEFAULT_PATH).split(":")) {
      const candidate = resolvePath(cwd, `${dir === "" ? "." : dir}/${command}`);
      try {
        return this.load(candidate, env, depth);
      } catch (err) {
        if (!(err instanceof KernelError)) throw err;
        // Like execvp: a file found but not executable is remembered, lookups go on.
        if (err.code === "EACCES") denied ??= err;
        else if (err.code !== "ENOENT" && err.code !== "ENOTDIR" && err.code !== "ELOOP") throw err;
      }
    }
    throw denied ?? new KernelError("ENOENT", "execve", command, "command not found");
  }

  private load(path: string, env: Record<string, string>, depth: number): Program {
    const exe = this.vfs.executable(path);
    const bytes = exe.bytes;
    if (bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d) {
      return { kind: "wasm", path: exe.path, module: this.module(bytes, exe.immutable, path) };
    }
    if (bytes[0] !== 0x23 || bytes[1] !== 0x21) throw new KernelError("ENOEXEC", "execve", path);
    let end = bytes.indexOf(10);
    if (end === -1) end = bytes.length;
    const line = new TextDecoder().decode(bytes.subarray(2, Math.min(end, 2 + 256))).trim();
    if (line.startsWith("enclave-host ")) {
      const name = line.slice("enclave-host ".length).trim();
      if (!Object.hasOwn(this.hostPrograms, name)) {
        throw new KernelError("ENOENT", "execve", path, `host program ${name} is not installed`);
      }
      return { kind: "host", path: exe.path, name };
    }
    const space = line.search(/\s/);
    const interpreter = space === -1 ? line : line.slice(0, space);
    const arg = space === -1 ? "" : line.slice(space).trim();
    if (interpreter === "") throw new KernelError("ENOEXEC", "execve", path);
    if (depth >= MAX_INTERPRETER_DEPTH) throw new KernelError("ELOOP", "execve", path);
    const inner = this.resolve(interpreter, "/", env, depth + 1);
    const scriptArgv = [...(inner.scriptArgv ?? [interpreter]), ...(arg === "" ? [] : [arg]), exe.path];
    return { ...inner, scriptArgv };
  }

  private module(bytes: Uint8Array, immutable: boolean, path: string): WebAssembly.Module | Uint8Array {
    if (immutable) {
      const cached = moduleCache.get(bytes);
      if (cached !== undefined) return cached;
    }
    if (this.compileModule === undefined) return immutable ? bytes : bytes.slice();
    let module: WebAssembly.Module;
    try {
      module = this.compileModule(bytes);
    } catch (err) {
      throw new KernelError(
        "ENOEXEC",
        "execve",
        path,
        `invalid WebAssembly module: ${(err as Error).message}`,
      );
    }
    if (immutable) moduleCache.set(bytes, module);
    return module;
  }

  spawn(options: SpawnOptions): ProcessHandle {
    if (this.closed) throw new KernelError("EAGAIN", "spawn", undefined, "the workspace is shutting down");
    if (this.running >= this.maxProcesses) throw new KernelError("EAGAIN", "spawn");
    const argv0 = options.argv[0];
    if (argv0 === undefined) throw new KernelError("EINVAL", "spawn", undefined, "empty argv");
    const program = this.resolveProgram(argv0, options.cwd, options.env);
    if (program.kind === "wasm" && this.wasmExecutor === undefined) {
      throw new KernelError("ENOEXEC", "spawn", argv0, "no WebAssembly executor");
    }
    const argv = program.scriptArgv ? [...program.scriptArgv, ...options.argv.slice(1)] : [...options.argv];
    const proc = new Process(this, this.nextPid++, options.ppid ?? 0, argv, { ...options.env }, options.cwd);
    try {
      for (let fd = 0; fd < 3; fd++) proc.fds.install(options.stdio[fd]!.ref(), fd);
    } catch (err) {
      proc.fds.closeAll();
      throw err;
    }
    this.table.set(proc.pid, proc);
    this.running++;
    try {
      if (program.kind === "wasm") this.wasmExecutor!.run(proc, program);
      else this.runHost(proc, program.name);
    } catch (err) {
      proc.exit({ exitCode: 126 });
      throw err;
    }
    return proc;
  }

  private runHost(proc: Process, name: string): void {
    const program = this.hostPrograms[name]!;
    Promise.resolve()
      .then(() => program(proc, this))
      .then(
        (code) => proc.exit({ exitCode: code }),
        (err: unknown) => {
          try {
            const text = `${name}: ${err instanceof Error ? err.message : String(err)}\n`;
            const written = proc.fds.get(2).write(new TextEncoder().encode(text));
            if (written instanceof Promise) written.catch(() => {});
          } catch {
            // stderr may be closed already; the exit status still tells.
          }
          proc.exit({ exitCode: err instanceof KernelError && err.code === "ENOENT" ? 127 : 1 });
        },
      )
      .catch(() => proc.exit({ exitCode: 1 }));
  }

  /** One more process against maxProcesses that is not in the table (a fork slot); EAGAIN past it. */
  takeProcessSlot(syscall: string): () => void {
    if (this.closed) throw new KernelError("EAGAIN", syscall, undefined, "the workspace is shutting down");
    if (this.running >= this.maxProcesses) throw new KernelError("EAGAIN", syscall);
    this.running++;
    return () => this.running--;
  }

  /** Called once by a process as it exits. */
  reap(proc: Process): void {
    this.running--;
    this.exitedOrder.push(proc.pid);
    while (this.exitedOrder.length > EXITED_KEPT) this.table.delete(this.exitedOrder.shift()!);
  }

  /** A process by pid (running, or among the recently exited). */
  process(pid: number): ProcessHandle | undefined {
    return this.table.get(pid);
  }

  processes(): ProcessInfo[] {
    return [...this.table.values()].map((proc) => proc.info());
  }

  kill(pid: number, signal: Signal = "SIGTERM"): void {
    const proc = this.table.get(pid);
    if (proc === undefined || proc.exited)
      throw new KernelError("ESRCH", "kill", undefined, `no process ${pid}`);
    proc.kill(signal);
  }

  /** Running processes. */
  get runningCount(): number {
    return this.running;
  }

  /** Commits every store-backed mount; resolves when durable. */
  async flush(): Promise<void> {
    const stores = this.vfs.mounts().flatMap(({ mount }) => (mount instanceof StoreMount ? [mount] : []));
    await Promise.all(stores.map((store) => store.flush()));
  }

  /** Kills every process (SIGKILL), waits for them, and flushes store mounts. Spawns fail after. */
  async shutdown(): Promise<void> {
    this.closed = true;
    const live = [...this.table.values()].filter((proc) => !proc.exited);
    for (const proc of live) proc.kill("SIGKILL");
    await Promise.all(live.map((proc) => proc.wait()));
    this.net.close();
    await this.flush();
  }
}
