/**
 * One guest node process from start to exit, on the main thread: takes a ready worker, hands it
 * the job, answers its file calls, carries its socket traffic, and settles on exit, uncaught
 * error, kill, CPU-time limit or worker crash. The worker is terminated at the end whatever
 * happened, so nothing a guest did outlives its process.
 */
import { MessageChannel, type MessagePort } from "node:worker_threads";
import type { KernelApi, KernelProcess, Signal } from "../kernel/types.js";
import { FileServer } from "./file-server.js";
import type { NodeWorker, NodeWorkerPool } from "./pool.js";
import {
  Flag,
  FLAG_BYTES,
  NodeExit,
  type EventMessage,
  type JobMessage,
  type RpcRequest,
  type RpcResponse,
  type WorkerMessage,
} from "./protocol.js";
import { SocketBridge } from "./socket-bridge.js";
import { SIGNAL_NUMBERS } from "../kernel/kernel.js";

/** How long a guest may take to end after a catchable signal before its worker is terminated. */
const SIGNAL_GRACE_MS = 1000;
/** How far past its CPU limit a guest stuck outside the interrupt handler's reach may run. */
const CPU_BACKSTOP_MS = 250;

const encoder = new TextEncoder();

export interface NodeProcessOptions {
  pool: NodeWorkerPool;
  /** CPU milliseconds a guest may use before it is killed with SIGXCPU (0 = no limit). */
  cpuTimeLimitMs: number;
}

function signalOf(reason: unknown): Signal {
  return typeof reason === "string" && reason in SIGNAL_NUMBERS ? (reason as Signal) : "SIGKILL";
}

export async function runNodeProcess(
  proc: KernelProcess,
  kernel: KernelApi,
  options: NodeProcessOptions,
): Promise<number> {
  if (proc.signal.aborted) return 128 + SIGNAL_NUMBERS[signalOf(proc.signal.reason)];
  const worker = await options.pool.acquire();
  if (proc.signal.aborted) {
    worker.terminate();
    return 128 + SIGNAL_NUMBERS[signalOf(proc.signal.reason)];
  }
  return new Promise<number>((resolve) => new Session(proc, kernel, worker, options, resolve).start());
}

class Session {
  readonly #flag = new SharedArrayBuffer(FLAG_BYTES);
  readonly #flagI32 = new Int32Array(this.#flag);
  readonly #flagF64 = new Float64Array(this.#flag);
  readonly #rpc: MessagePort;
  readonly #guestPort: MessagePort;
  readonly #files: FileServer;
  readonly #sockets: SocketBridge;
  #done = false;
  #timers: ReturnType<typeof setTimeout>[] = [];
  readonly #onAbort = (): void => this.#signal(signalOf(this.proc.signal.reason));
  readonly #onMessage = (message: WorkerMessage): void => this.#message(message);
  readonly #onError = (err: Error): void => this.#crash(err);
  readonly #onExit = (): void => this.#crash(new Error("the worker exited"));

  constructor(
    private readonly proc: KernelProcess,
    kernel: KernelApi,
    private readonly worker: NodeWorker,
    private readonly options: NodeProcessOptions,
    private readonly resolve: (code: number) => void,
  ) {
    const channel = new MessageChannel();
    this.#rpc = channel.port1;
    this.#guestPort = channel.port2;
    this.#files = new FileServer(proc, kernel);
    this.#sockets = new SocketBridge(proc, kernel, (message: EventMessage, transfer?: ArrayBuffer[]) => {
      if (!this.#done) this.worker.worker.postMessage(message, transfer);
    });
  }

  start(): void {
    const proc = this.proc;
    this.#rpc.on("message", (request: RpcRequest) => this.#call(request));
    this.worker.worker.on("message", this.#onMessage);
    this.worker.worker.on("error", this.#onError);
    this.worker.worker.on("exit", this.#onExit);
    proc.signal.addEventListener("abort", this.#onAbort, { once: true });
    const job: JobMessage = {
      type: "job",
      argv: proc.argv,
      env: proc.env,
      cwd: proc.cwd,
      pid: proc.pid,
      ppid: proc.ppid,
      cpuTimeLimitMs: this.options.cpuTimeLimitMs,
      rpcPort: this.#guestPort,
      flag: this.#flag,
    };
    this.worker.worker.postMessage(job, [this.#guestPort]);
    if (this.options.cpuTimeLimitMs > 0) this.#armCpuBackstop(this.options.cpuTimeLimitMs + CPU_BACKSTOP_MS);
  }

  #call(request: RpcRequest): void {
    const answer = (result: Omit<RpcResponse, "seq">): void => {
      if (this.#done) return;
      const transfer = result.data === undefined ? [] : [result.data.buffer as ArrayBuffer];
      this.#rpc.postMessage({ seq: request.seq, ...result }, transfer);
      Atomics.store(this.#flagI32, Flag.ANSWERED, request.seq);
      Atomics.notify(this.#flagI32, Flag.ANSWERED);
    };
    const result = this.#files.handle(request);
    if (result instanceof Promise) void result.then(answer);
    else answer(result);
  }

  #message(message: WorkerMessage): void {
    if (this.#done) return;
    if (message.type === "op") this.#sockets.handle(message.op, message.info, message.data);
    else if (message.type === "exit") {
      if (message.signal === "SIGXCPU") this.#finish(NodeExit.CPU, "SIGXCPU");
      else this.#finish(message.code);
    }
  }

  /** CPU used by the guest, as the worker's meter last published it. */
  #cpuUsedMs(): number {
    const since = this.#flagF64[Flag.CPU_SINCE]!;
    const used = this.#flagF64[Flag.CPU_USED]!;
    return since > 0 ? used + (performance.timeOrigin + performance.now() - since) : used;
  }

  /**
   * The worker enforces the limit itself through QuickJS's interrupt handler; this catches a guest
   * stuck where the handler is not consulted (one huge native operation).
   */
  #armCpuBackstop(delayMs: number): void {
    const timer = setTimeout(() => {
      if (this.#done) return;
      const left = this.options.cpuTimeLimitMs + CPU_BACKSTOP_MS - this.#cpuUsedMs();
      if (left <= 0) {
        this.#report(`node: CPU time limit of ${this.options.cpuTimeLimitMs} ms exceeded\n`);
        this.#finish(NodeExit.CPU, "SIGXCPU");
      } else this.#armCpuBackstop(Math.max(5, left));
    }, delayMs);
    timer.unref();
    this.#timers.push(timer);
  }

  #signal(signal: Signal): void {
    if (this.#done) return;
    if (signal === "SIGKILL") {
      this.#finish(128 + SIGNAL_NUMBERS.SIGKILL);
      return;
    }
    // Catchable: the guest may handle it (process.on("SIGTERM")); it dies by it otherwise.
    this.worker.worker.postMessage({
      type: "event",
      ev: "signal",
      info: { name: signal, number: SIGNAL_NUMBERS[signal] },
    } satisfies EventMessage);
    const timer = setTimeout(() => this.#finish(128 + SIGNAL_NUMBERS[signal]), SIGNAL_GRACE_MS);
    timer.unref();
    this.#timers.push(timer);
  }

  #crash(err: Error): void {
    if (this.#done) return;
    const oom =
      /out of memory/i.test(err.message) || (err as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY";
    this.#report(
      oom
        ? "FATAL ERROR: the JavaScript engine ran out of memory\n"
        : `node: the JavaScript engine failed: ${err.message}\n`,
    );
    this.#finish(NodeExit.ABORT);
  }

  #report(text: string): void {
    try {
      const r = this.proc.fds.get(2).write(encoder.encode(text));
      if (r instanceof Promise) r.catch(() => {});
    } catch {
      // stderr is gone: the exit status still tells.
    }
  }

  #finish(code: number, signal?: Signal): void {
    if (this.#done) return;
    this.#done = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.proc.signal.removeEventListener("abort", this.#onAbort);
    this.worker.worker.off("message", this.#onMessage);
    this.worker.worker.off("exit", this.#onExit);
    this.#sockets.close();
    this.#rpc.close();
    // Wake a worker asleep in a file call so terminate() is not left waiting on it.
    Atomics.store(this.#flagI32, Flag.ANSWERED, -1);
    Atomics.notify(this.#flagI32, Flag.ANSWERED);
    this.worker.terminate();
    if (signal !== undefined) this.proc.exit({ exitCode: code, signal });
    this.resolve(code);
  }
}
