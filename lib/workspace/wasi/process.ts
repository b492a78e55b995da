/**
 * One WASI process from start to exit: takes a warm worker, hands it the program, serves its
 * calls, and settles the kernel process on exit, trap, kill, CPU-time limit or worker crash.
 * It holds one of the workspace's CPU slots (kernel.cpu) while guest code runs: taken before
 * the program starts, given back while a call waits (pipe, socket, child, sleep) and taken
 * again before that call's answer lets the program go on.
 */
import type { ExitStatus, FileHandle, KernelApi, KernelProcess, Signal } from "../kernel/types.js";
import type { JobHandler, PoolWorker, WorkerPool } from "./pool.js";
import { ExitCode, Op, type JobMessage } from "./protocol.js";
import { wasmApi } from "./wasm-api.js";
import { handleFiletype, SyscallServer, type ExitRequest } from "./syscalls.js";
import { SIGNAL_NUMBERS } from "../kernel/kernel.js";

function signalName(signo: number): Signal | undefined {
  for (const name in SIGNAL_NUMBERS) if (SIGNAL_NUMBERS[name as Signal] === signo) return name as Signal;
  return undefined;
}

function signalOf(reason: unknown): Signal {
  return typeof reason === "string" && reason in SIGNAL_NUMBERS ? (reason as Signal) : "SIGKILL";
}

const encoder = new TextEncoder();

export interface ProcessLimits {
  cpuTimeLimitMs: number;
  maxWasmMemoryBytes: number;
}

export class WasiProcess implements JobHandler {
  #worker: PoolWorker | undefined;
  #server: SyscallServer | undefined;
  #status: ExitStatus | undefined;
  #done = false;
  #cpuTimer: NodeJS.Timeout | undefined;
  /** The CPU slot's release while the program holds one, and since when (performance.now()). */
  #slot: (() => void) | undefined;
  #slotSince = 0;
  /** Aborted when the process ends: a wait for a CPU slot gives up. */
  readonly #ended = new AbortController();
  readonly #onAbort = (): void => this.kill(signalOf(this.proc.signal.reason));

  constructor(
    private readonly proc: KernelProcess,
    private readonly kernel: KernelApi,
    private readonly pool: WorkerPool,
    private readonly limits: ProcessLimits,
  ) {}

  /** Starts the program once `module` is compiled (immediately when it already is). */
  start(module: WebAssembly.Module | Promise<WebAssembly.Module>): void {
    if (this.proc.signal.aborted) {
      this.kill(signalOf(this.proc.signal.reason));
      return;
    }
    this.proc.signal.addEventListener("abort", this.#onAbort, { once: true });
    const launch = (m: WebAssembly.Module): void => {
      const ready = this.#takeCpu();
      if (ready === undefined) this.#launch(m);
      else void ready.then(() => this.#launch(m));
    };
    if (module instanceof wasmApi.Module) launch(module);
    else
      (module as Promise<WebAssembly.Module>).then(launch, (err: unknown) =>
        this.fail(ExitCode.CANNOT_EXECUTE, `wasm: cannot execute: ${messageOf(err)}`),
      );
  }

  /**
   * Takes a CPU slot: undefined when it was free, else a Promise of it (resolved without a slot
   * if the process ends first).
   */
  #takeCpu(): Promise<void> | undefined {
    const cpu = this.kernel.cpu;
    if (cpu === undefined || this.#done) return undefined;
    const now = cpu.tryAcquire();
    if (now !== undefined) {
      this.#holdCpu(now);
      return undefined;
    }
    return cpu.acquire(this.#ended.signal).then(
      (release) => this.#holdCpu(release),
      () => undefined,
    );
  }

  #holdCpu(release: () => void): void {
    // A slot granted after the end goes straight back.
    if (this.#done) return release();
    this.#slot = release;
    this.#slotSince = performance.now();
  }

  #releaseCpu(): void {
    const release = this.#slot;
    this.#slot = undefined;
    release?.();
  }

  #launch(module: WebAssembly.Module): void {
    if (this.#done) return;
    const proc = this.proc;
    const stdio: [number, number, number] = [-1, -1, -1];
    const tty: [boolean, boolean, boolean] = [false, false, false];
    for (let fd = 0; fd < 3; fd++) {
      const handle = stdioHandle(proc, fd);
      if (handle !== undefined) {
        stdio[fd] = handleFiletype(handle);
        tty[fd] = handle.kind === "tty";
      }
    }
    let rootFd: number;
    try {
      rootFd = installRoot(proc, this.kernel);
    } catch (err) {
      this.fail(ExitCode.CANNOT_EXECUTE, `wasm: cannot open the root directory: ${messageOf(err)}`);
      return;
    }
    if (this.#done) return;
    const worker = this.pool.acquire();
    this.#worker = worker;
    this.#server = new SyscallServer(worker.sab, proc, this.kernel, (exit) => this.#onExit(exit));
    const job: JobMessage = {
      module,
      argv: proc.argv,
      // wasi-libc keeps the cwd in the guest, starting at "/": PWD tells the program where it is.
      env: { ...proc.env, PWD: proc.cwd },
      stdio,
      tty,
      rootFd,
      maxMemoryBytes: this.limits.maxWasmMemoryBytes,
    };
    worker.start(job, this);
    if (this.limits.cpuTimeLimitMs > 0) this.#armCpuTimer(this.limits.cpuTimeLimitMs);
  }

  #armCpuTimer(delayMs: number): void {
    this.#cpuTimer = setTimeout(() => {
      const worker = this.#worker;
      if (this.#done || worker === undefined) return;
      const left = this.limits.cpuTimeLimitMs - worker.cpuUsedMs();
      if (left <= 0) this.kill("SIGXCPU");
      else this.#armCpuTimer(Math.max(1, left));
    }, delayMs);
    this.#cpuTimer.unref();
  }

  onCall(op: number): void | Promise<void> {
    const result = this.#server!.handle();
    const cpu = this.kernel.cpu;
    if (cpu === undefined || this.#slot === undefined) return result;
    // An exiting program computes no more: its slot goes now, without waiting for the answer.
    if (op === Op.EXIT) {
      this.#releaseCpu();
      return result;
    }
    if (result instanceof Promise) {
      this.#releaseCpu();
      return result.then(() => this.#takeCpu());
    }
    // A busy program that makes calls takes turns with the ones waiting for a CPU.
    if (cpu.shouldYield(this.#slotSince)) {
      this.#releaseCpu();
      return this.#takeCpu();
    }
    return undefined;
  }

  async #onExit(exit: ExitRequest): Promise<void> {
    if (exit.message !== "") await this.#report(exit.message);
    const signal = signalName(exit.signo);
    this.#status = signal === undefined ? { exitCode: exit.code } : { exitCode: exit.code, signal };
  }

  /** Called by the worker once the program's exit was answered: the worker is free again. */
  onFinished(): void {
    if (this.#done) return;
    this.#cleanup();
    this.pool.release(this.#worker!);
    this.proc.exit(this.#status ?? { exitCode: ExitCode.TRAP });
  }

  onCrash(error: Error): void {
    if (this.#done) return;
    void this.#report(`wasm: worker failed: ${error.message}`).then(() => this.fail(ExitCode.TRAP));
  }

  /** Ends the process by a signal: the worker is terminated wherever it is (loop, call, sleep). */
  kill(signal: Signal): void {
    if (this.#done) return;
    this.#cleanup();
    if (this.#worker !== undefined) this.pool.discard(this.#worker);
    this.proc.exit({ exitCode: 128 + SIGNAL_NUMBERS[signal], signal });
  }

  /** Ends the process with `exitCode`, after an optional message on its stderr. */
  fail(exitCode: number, message?: string): void {
    if (this.#done) return;
    const finish = (): void => {
      if (this.#done) return;
      this.#cleanup();
      if (this.#worker !== undefined) this.pool.discard(this.#worker);
      this.proc.exit({ exitCode });
    };
    if (message === undefined) finish();
    else void this.#report(message).then(finish);
  }

  #cleanup(): void {
    this.#done = true;
    this.#releaseCpu();
    this.#ended.abort();
    // Calls it left blocked (a pipe read, an accept) must not take data or connections later.
    this.#server?.abort();
    if (this.#cpuTimer !== undefined) clearTimeout(this.#cpuTimer);
    this.proc.signal.removeEventListener("abort", this.#onAbort);
  }

  /** Writes a runtime message to the process's stderr; a closed or broken stderr loses it. */
  async #report(message: string): Promise<void> {
    const handle = stdioHandle(this.proc, 2);
    if (handle === undefined) return;
    try {
      await handle.write(encoder.encode(`${message}\n`));
    } catch {
      // Nowhere left to say it.
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function stdioHandle(proc: KernelProcess, fd: number): FileHandle | undefined {
  try {
    return proc.fds.get(fd);
  } catch {
    return undefined;
  }
}

/** Opens "/" as the program's one preopen, at the lowest free fd from 3 (wasi-libc scans from 3). */
function installRoot(proc: KernelProcess, kernel: KernelApi): number {
  const used = new Set(proc.fds.entries().map(([fd]) => fd));
  let fd = 3;
  while (used.has(fd)) fd++;
  const handle = kernel.vfs.open("/", { read: true, directory: true });
  try {
    return proc.fds.install(handle, fd);
  } catch (err) {
    handle.close();
    throw err;
  }
}
