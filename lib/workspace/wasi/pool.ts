/**
 * Pre-warmed worker threads for WASI processes. A new worker costs tens of milliseconds (a V8
 * isolate plus loading the WASI library); a warm one starts a program in well under one. One
 * pool serves every workspace of an engine; idle workers are unref'd so they never keep the
 * Node process alive, and `close()` ends them all.
 */
import { Worker, type ResourceLimits } from "node:worker_threads";
import { createRequire } from "node:module";
import {
  DATA_BYTES,
  ERRNO_SIGPIPE,
  Layout,
  Op,
  SAB_BYTES,
  type JobMessage,
  type WorkerBoot,
} from "./protocol.js";
import { wasiWorkerMain } from "./worker-main.js";
import { atomicsWaitAsync } from "./wasm-api.js";
import { evalWorkerExecArgv } from "../worker-argv.js";

const execArgv = evalWorkerExecArgv();

/** What the pool worker calls back into while it runs a job. */
export interface JobHandler {
  /** Answers the request in the shared buffer (results written in place). */
  onCall(op: number): void | Promise<void>;
  /** The program's exit call was answered: the worker is idle again. */
  onFinished(): void;
  /** The worker died or failed outside the program (not a trap: those end the job normally). */
  onCrash(error: Error): void;
}

export interface WorkerPoolOptions {
  /** Idle workers kept ready (default 2). */
  idle?: number;
  /** V8 heap limits per worker: guest memory is not JS heap, so these can stay small. */
  resourceLimits?: ResourceLimits;
}

// Loaders that keep function names (tsx, esbuild's keepNames) wrap functions in `__name(...)`:
// the preamble gives the worker's copy of the source the no-op it expects.
const workerSource =
  "const __name = (target) => target;\n" +
  `(${wasiWorkerMain.toString()})(require, require("node:worker_threads").workerData);`;
const wasiPath = createRequire(import.meta.url).resolve("@wasmer/wasi");

/** Workers in a row that may die before starting before the pool stops replacing them. */
const MAX_START_FAILURES = 3;

/** One worker with its shared buffer; serves the calls of the job it runs. */
export class PoolWorker {
  readonly sab = new SharedArrayBuffer(SAB_BYTES);
  readonly #i32 = new Int32Array(this.sab);
  readonly #worker: Worker;
  readonly ready: Promise<void>;
  #handler: JobHandler | undefined;
  #ready = false;
  #lastReq = 0;
  #alive = true;

  constructor(
    resourceLimits: ResourceLimits | undefined,
    private readonly onGone: (w: PoolWorker) => void,
  ) {
    const boot: WorkerBoot = {
      sab: this.sab,
      wasiPath,
      layout: Layout,
      op: Op,
      dataBytes: DATA_BYTES,
      errnoSigpipe: ERRNO_SIGPIPE,
    };
    this.#worker = new Worker(workerSource, {
      eval: true,
      workerData: boot,
      resourceLimits,
      ...(execArgv ? { execArgv } : {}),
    });
    this.#worker.unref();
    this.ready = new Promise((resolve) => {
      this.#worker.once("message", () => {
        this.#ready = true;
        resolve();
      });
      // A worker that dies first is "ready" in the sense that nothing more will come.
      this.#worker.once("exit", () => resolve());
    });
    this.#worker.on("error", (err) => this.#gone(err));
    this.#worker.on("exit", (code) => this.#gone(new Error(`worker exited with code ${code}`)));
  }

  /** Holds the process open until the worker is ready (or gone). */
  keepAliveUntilReady(): Promise<void> {
    if (this.#ready) return Promise.resolve();
    this.#worker.ref();
    return this.ready.then(() => {
      if (this.#handler === undefined) this.#worker.unref();
    });
  }

  get isReady(): boolean {
    return this.#ready;
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Runs a job; `handler` serves its calls until the EXIT call has been answered. */
  start(job: JobMessage, handler: JobHandler): void {
    this.#handler = handler;
    this.#lastReq = Atomics.load(this.#i32, Layout.REQ_SEQ);
    // The CPU meter starts now, not when the worker gets to the job: no stale reading from the last one.
    const f64 = new Float64Array(this.sab, 0, Layout.CPU_SINCE + 1);
    f64[Layout.CPU_USED] = 0;
    f64[Layout.CPU_SINCE] = performance.timeOrigin + performance.now();
    this.#worker.ref();
    this.#listen();
    this.#worker.postMessage(job);
  }

  /** Ends the worker (kill, crash, pool close); a pending wait of ours is woken so nothing leaks. */
  terminate(): void {
    if (!this.#alive) return;
    this.#alive = false;
    this.#handler = undefined;
    Atomics.notify(this.#i32, Layout.REQ_SEQ);
    void this.#worker.terminate();
  }

  #gone(err: Error): void {
    const handler = this.#handler;
    const wasAlive = this.#alive;
    this.terminate();
    if (wasAlive) this.onGone(this);
    handler?.onCrash(err);
  }

  #listen(): void {
    const wait = atomicsWaitAsync.waitAsync(this.#i32, Layout.REQ_SEQ, this.#lastReq);
    if (wait.async) void wait.value.then(() => this.#onRequest());
    else queueMicrotask(() => this.#onRequest());
  }

  #onRequest(): void {
    const handler = this.#handler;
    if (!this.#alive || handler === undefined) return;
    const seq = Atomics.load(this.#i32, Layout.REQ_SEQ);
    if (seq === this.#lastReq) {
      this.#listen();
      return;
    }
    this.#lastReq = seq;
    const op = this.#i32[Layout.OP]!;
    let result: void | Promise<void>;
    try {
      result = handler.onCall(op);
    } catch (err) {
      this.#gone(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (result instanceof Promise) {
      result.then(
        () => this.#answer(seq, op, handler),
        (err: unknown) => this.#gone(err instanceof Error ? err : new Error(String(err))),
      );
    } else {
      this.#answer(seq, op, handler);
    }
  }

  #answer(seq: number, op: number, handler: JobHandler): void {
    // A killed process's late answer (a pipe read that completed after the kill) goes nowhere.
    if (!this.#alive || this.#handler !== handler) return;
    if (op === Op.EXIT) {
      this.#handler = undefined;
      this.#worker.unref();
    }
    Atomics.store(this.#i32, Layout.RESP_SEQ, seq);
    Atomics.notify(this.#i32, Layout.RESP_SEQ);
    if (op === Op.EXIT) handler.onFinished();
    else this.#listen();
  }

  /** CPU milliseconds the current job has used, counting only time it was not blocked in a call. */
  cpuUsedMs(): number {
    const f64 = new Float64Array(this.sab, 0, Layout.CPU_SINCE + 1);
    const since = f64[Layout.CPU_SINCE]!;
    const used = f64[Layout.CPU_USED]!;
    return since > 0 ? used + (performance.timeOrigin + performance.now() - since) : used;
  }
}

export class WorkerPool {
  readonly #idle: PoolWorker[] = [];
  readonly #target: number;
  readonly #limits: ResourceLimits | undefined;
  #closed = false;
  #refillQueued = false;
  #startFailures = 0;

  constructor(options: WorkerPoolOptions = {}) {
    this.#target = Math.max(0, options.idle ?? 2);
    this.#limits = options.resourceLimits ?? { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 };
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  /**
   * Starts idle workers up to the target; resolves when they have loaded the WASI library.
   * Until then they keep the process alive, so a caller awaiting this is not left hanging.
   */
  async warm(): Promise<void> {
    while (!this.#closed && this.#idle.length < this.#target) this.#idle.push(this.#spawn());
    await Promise.all(this.#idle.map((w) => w.keepAliveUntilReady()));
  }

  /** A worker for a job: an idle one if any (the pool refills in the background), else a new one. */
  acquire(): PoolWorker {
    if (this.#closed) throw new Error("the WASI worker pool is closed");
    let worker = this.#idle.pop();
    while (worker !== undefined && !worker.alive) worker = this.#idle.pop();
    this.#queueRefill();
    return worker ?? this.#spawn();
  }

  /**
   * A worker whose job ended normally: back to the idle set. The set may hold up to twice the
   * target, so the replacement spawned when this worker was taken does not cost it its place.
   */
  release(worker: PoolWorker): void {
    if (this.#closed || !worker.alive || this.#idle.length >= this.#target * 2) worker.terminate();
    else this.#idle.push(worker);
  }

  /** A worker that must not be reused (killed process, crash). */
  discard(worker: PoolWorker): void {
    worker.terminate();
    this.#queueRefill();
  }

  /** Ends the idle workers; workers still running jobs end when their job does. */
  close(): void {
    this.#closed = true;
    for (const w of this.#idle.splice(0)) w.terminate();
  }

  #spawn(): PoolWorker {
    const worker = new PoolWorker(this.#limits, (w) => {
      const i = this.#idle.indexOf(w);
      if (i >= 0) this.#idle.splice(i, 1);
      // Workers that cannot even start (heap limit too small, broken install) are not
      // replaced in a loop: after a few, refills wait until one starts.
      if (!w.isReady) this.#startFailures++;
      this.#queueRefill();
    });
    void worker.ready.then(() => {
      if (worker.isReady) this.#startFailures = 0;
    });
    return worker;
  }

  #queueRefill(): void {
    if (this.#refillQueued || this.#closed || this.#startFailures >= MAX_START_FAILURES) return;
    this.#refillQueued = true;
    // Off the caller's path: a worker's construction costs the main thread a little too.
    setImmediate(() => {
      this.#refillQueued = false;
      while (!this.#closed && this.#idle.length < this.#target) this.#idle.push(this.#spawn());
    }).unref();
  }
}

let shared: WorkerPool | undefined;

/** The engine-wide pool (created on first use). */
export function sharedWorkerPool(): WorkerPool {
  if (shared === undefined) shared = new WorkerPool();
  return shared;
}

/** Closes the engine-wide pool; the next `sharedWorkerPool()` makes a new one. */
export function closeSharedWorkerPool(): void {
  shared?.close();
  shared = undefined;
}
