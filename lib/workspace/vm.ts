/**
 * One booted workspace VM: the kernel plus what the actor's actions need on top of it (process
 * bookkeeping with output streaming, shells, durable flushes). It knows nothing of actors, so
 * it can be tested and benchmarked on its own; `workspace.ts` wires it to an actor.
 */
import type { ExitStatus, FileHandle, ProcessHandle, ProcessInfo, Signal } from "./kernel/types.js";
import type { BootedKernel } from "./boot.js";
import { runShellCommand, ShellSession } from "./shell/index.js";
import { toWorkspaceError } from "./errors.js";
import { homePath } from "./fs-actions.js";
import { Errors, err } from "../errors.js";

export interface ExecOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Bytes or text fed to the command's stdin (then EOF). */
  stdin?: string | Uint8Array;
  /** Kill the command (SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Set when the command was ended by a signal (e.g. "SIGKILL" after `timeoutMs`). */
  signal?: Signal;
}

export interface SpawnProcessOptions {
  cwd?: string;
  env?: Record<string, string>;
}

export interface ProcessExitEvent {
  pid: number;
  exitCode: number;
  signal?: Signal;
}

export interface ProcessOutputEvent {
  pid: number;
  stream: "stdout" | "stderr";
  data: string;
}

export interface VmEvents {
  processOutput(e: ProcessOutputEvent): void;
  processExit(e: ProcessExitEvent): void;
  shellData(e: { shellId: string; data: string }): void;
  shellExit(e: { shellId: string; exitCode: number }): void;
  /** Called when a background process changed files, so they can be made durable. */
  dirty(): void;
}

interface Spawned {
  handle: ProcessHandle;
  stdin: FileHandle | undefined;
  status?: ExitStatus;
}

/** How many finished processes stay listable/waitable. */
const FINISHED_KEPT = 64;

export class Vm {
  readonly kernel: BootedKernel;
  readonly #events: VmEvents;
  readonly #env: Record<string, string>;
  readonly #spawned = new Map<number, Spawned>();
  readonly #shells = new Map<string, ShellSession>();
  readonly #shellDone = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  #shellSeq = 0;
  #closed = false;
  readonly #bootedAt = Date.now();

  constructor(kernel: BootedKernel, env: Record<string, string>, events: VmEvents) {
    this.kernel = kernel;
    this.#env = env;
    this.#events = events;
  }

  get home(): string {
    return this.#env.HOME ?? "/home/user";
  }

  /** Running processes started through `spawn` or shells (they keep the workspace awake). */
  get busy(): boolean {
    for (const s of this.#spawned.values()) if (!s.status) return true;
    return this.#shells.size > 0;
  }

  #path(p: unknown): string {
    return homePath(p, this.home, "cwd");
  }

  #envFor(extra: Record<string, string> | undefined): Record<string, string> {
    if (extra === undefined) return { ...this.#env };
    if (typeof extra !== "object" || extra === null)
      throw err(Errors.badRequest, "env must be an object of strings");
    for (const [k, v] of Object.entries(extra)) {
      if (typeof v !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
        throw err(Errors.badRequest, `env entry ${JSON.stringify(k)} must be NAME=string`);
      }
    }
    return { ...this.#env, ...extra };
  }

  // ---- processes -------------------------------------------------------------------------

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    if (typeof command !== "string") throw err(Errors.badRequest, "exec takes a command string");
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs !== undefined) {
      if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
        throw err(Errors.badRequest, "timeoutMs must be a positive number of milliseconds");
      }
      timer = setTimeout(() => ac.abort("SIGKILL"), options.timeoutMs);
    }
    try {
      return await runShellCommand(this.kernel, command, {
        cwd: options.cwd === undefined ? this.home : this.#path(options.cwd),
        env: this.#envFor(options.env),
        stdin: options.stdin,
        signal: ac.signal,
      });
    } catch (e) {
      throw toWorkspaceError(e);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  spawn(command: string, args: string[] = [], options: SpawnProcessOptions = {}): { pid: number } {
    if (typeof command !== "string" || command.length === 0) {
      throw err(Errors.badRequest, "spawn takes a command name and an array of string arguments");
    }
    if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) {
      throw err(Errors.badRequest, "spawn arguments must be an array of strings");
    }
    const k = this.kernel;
    const [stdinR, stdinW] = k.createPipe();
    const [outR, outW] = k.createPipe();
    const [errR, errW] = k.createPipe();
    let handle: ProcessHandle;
    try {
      handle = k.spawn({
        argv: [command, ...args],
        env: this.#envFor(options.env),
        cwd: options.cwd === undefined ? this.home : this.#path(options.cwd),
        stdio: [stdinR, outW, errW],
      });
    } catch (e) {
      for (const h of [stdinR, stdinW, outR, outW, errR, errW]) h.close();
      throw toWorkspaceError(e);
    }
    // The child took its own refs; ours on the child's ends go.
    stdinR.close();
    outW.close();
    errW.close();
    const pid = handle.pid;
    const entry: Spawned = { handle, stdin: stdinW };
    this.#spawned.set(pid, entry);
    const pumps = [this.#pump(pid, "stdout", outR), this.#pump(pid, "stderr", errR)];
    void handle.wait().then(async (status) => {
      await Promise.allSettled(pumps);
      entry.status = status;
      entry.stdin?.close();
      entry.stdin = undefined;
      this.#trimFinished();
      this.#events.dirty();
      if (!this.#closed) {
        const ev: ProcessExitEvent = { pid, exitCode: status.exitCode };
        if (status.signal) ev.signal = status.signal;
        this.#events.processExit(ev);
      }
    });
    return { pid };
  }

  async #pump(pid: number, stream: "stdout" | "stderr", from: FileHandle): Promise<void> {
    const buf = new Uint8Array(65536);
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const r = from.read(buf);
        const n = typeof r === "number" ? r : await r;
        if (n === 0) break;
        const data = decoder.decode(buf.subarray(0, n), { stream: true });
        if (data && !this.#closed) this.#events.processOutput({ pid, stream, data });
      }
      const tail = decoder.decode();
      if (tail && !this.#closed) this.#events.processOutput({ pid, stream, data: tail });
    } catch {
      // The pipe broke because the VM is shutting down; nothing left to deliver.
    } finally {
      from.close();
    }
  }

  #trimFinished(): void {
    const finished = [...this.#spawned].filter(([, s]) => s.status);
    for (const [pid] of finished.slice(0, Math.max(0, finished.length - FINISHED_KEPT)))
      this.#spawned.delete(pid);
  }

  #process(pid: unknown): Spawned {
    const s = typeof pid === "number" ? this.#spawned.get(pid) : undefined;
    if (!s)
      throw err(Errors.wsNoSuchProcess, `No process with pid ${String(pid)} was started by spawn`, { pid });
    return s;
  }

  async writeProcessStdin(pid: number, data: string | Uint8Array): Promise<void> {
    const s = this.#process(pid);
    if (!s.stdin) throw err(Errors.wsInvalid, `The stdin of process ${pid} is closed`, { pid });
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (!(bytes instanceof Uint8Array)) throw err(Errors.badRequest, "stdin data must be a string or bytes");
    let off = 0;
    try {
      while (off < bytes.length) {
        const r = s.stdin.write(bytes.subarray(off));
        off += typeof r === "number" ? r : await r;
      }
    } catch (e) {
      throw toWorkspaceError(e);
    }
  }

  closeProcessStdin(pid: number): void {
    const s = this.#process(pid);
    s.stdin?.close();
    s.stdin = undefined;
  }

  async waitProcess(pid: number): Promise<ProcessExitEvent> {
    const s = this.#process(pid);
    const status = s.status ?? (await s.handle.wait());
    const out: ProcessExitEvent = { pid, exitCode: status.exitCode };
    if (status.signal) out.signal = status.signal;
    return out;
  }

  listProcesses(): ProcessInfo[] {
    return this.kernel.processes();
  }

  killProcess(pid: number, signal: Signal = "SIGTERM"): void {
    if (typeof pid !== "number") throw err(Errors.badRequest, "killProcess takes a pid number");
    const known: Signal[] = ["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP"];
    if (!known.includes(signal))
      throw err(Errors.wsInvalid, `Unknown signal ${String(signal)}; use one of ${known.join(", ")}`);
    try {
      this.kernel.kill(pid, signal);
    } catch (e) {
      throw toWorkspaceError(e);
    }
  }

  // ---- shells ----------------------------------------------------------------------------

  openShell(options: { cols?: number; rows?: number; cwd?: string; env?: Record<string, string> } = {}): {
    shellId: string;
  } {
    const cols = options.cols ?? 80;
    const rows = options.rows ?? 24;
    checkSize(cols, rows);
    const shellId = `sh${++this.#shellSeq}`;
    const session = new ShellSession(this.kernel, {
      cwd: options.cwd === undefined ? this.home : this.#path(options.cwd),
      env: { TERM: "xterm-256color", ...this.#envFor(options.env) },
      cols,
      rows,
    });
    session.onData((data) => {
      if (!this.#closed) this.#events.shellData({ shellId, data });
    });
    session.onExit((exitCode) => {
      this.#shells.delete(shellId);
      this.#settleShell(shellId);
      this.#events.dirty();
      if (!this.#closed) this.#events.shellExit({ shellId, exitCode });
    });
    this.#shells.set(shellId, session);
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#shellDone.set(shellId, { promise, resolve });
    return { shellId };
  }

  /** Settles when the shell exits or is closed (an open shell keeps the workspace awake). */
  shellClosed(shellId: string): Promise<void> {
    return this.#shellDone.get(shellId)?.promise ?? Promise.resolve();
  }

  #settleShell(shellId: string): void {
    this.#shellDone.get(shellId)?.resolve();
    this.#shellDone.delete(shellId);
  }

  #shell(shellId: unknown): ShellSession {
    const s = typeof shellId === "string" ? this.#shells.get(shellId) : undefined;
    if (!s) throw err(Errors.wsNoSuchShell, `No open shell ${JSON.stringify(shellId)}`, { shellId });
    return s;
  }

  writeShell(shellId: string, data: string | Uint8Array): void {
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw err(Errors.badRequest, "writeShell takes a string or bytes");
    }
    this.#shell(shellId).write(data);
  }

  resizeShell(shellId: string, cols: number, rows: number): void {
    checkSize(cols, rows);
    this.#shell(shellId).resize(cols, rows);
  }

  closeShell(shellId: string): void {
    this.#shell(shellId).close();
    this.#shells.delete(shellId);
    this.#settleShell(shellId);
  }

  /** Waits until something listens on `port` (at most `timeoutMs` after the VM booted). */
  async waitForListener(port: number, timeoutMs: number): Promise<void> {
    const deadline = this.#bootedAt + timeoutMs;
    while (
      !this.kernel.net.listening().some((l) => l.port === port) &&
      Date.now() < deadline &&
      !this.#closed
    ) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** Makes every change so far durable. */
  flush(): Promise<void> {
    return this.kernel.flush();
  }

  /** Stops shells and processes, then flushes. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    for (const s of this.#shells.values()) s.close();
    this.#shells.clear();
    for (const id of [...this.#shellDone.keys()]) this.#settleShell(id);
    await this.kernel.shutdown();
  }
}

function checkSize(cols: unknown, rows: unknown): void {
  const ok = (n: unknown): boolean => typeof n === "number" && Number.isInteger(n) && n > 0 && n <= 1000;
  if (!ok(cols) || !ok(rows))
    throw err(Errors.badRequest, "A terminal size is whole columns and rows, 1 to 1000");
}
