/**
 * Pre-warmed worker threads for guest node processes. A worker costs tens of milliseconds to
 * start (a V8 isolate, the QuickJS glue, instantiating the engine, evaluating the prelude), so
 * a few wait ready. Workers are single-use: each guest gets a fresh engine instance and memory,
 * and the worker ends with it. One pool per memory cap (the cap is fixed when the engine is
 * instantiated); idle workers are unref'd so they never keep the Node process alive.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Worker, type ResourceLimits } from "node:worker_threads";
import { guestBuiltins, guestPrelude } from "./guest/index.js";
import type { NodeWorkerBoot, WorkerMessage } from "./protocol.js";
import { nodeWorkerMain } from "./worker-main.js";
import { evalWorkerExecArgv } from "../worker-argv.js";

const execArgv = evalWorkerExecArgv();

export const DEFAULT_MAX_WASM_MEMORY = 128 * 1024 * 1024;
/** QuickJS's module starts at 16 MiB of linear memory; a cap below that cannot instantiate. */
export const MIN_WASM_MEMORY = 16 * 1024 * 1024;

const workerSource =
  "const __name = (target) => target;\n" +
  `(${nodeWorkerMain.toString()})(require, require("node:worker_threads").workerData);`;

interface Paths {
  corePath: string;
  variantPath: string;
  wasmPath: string;
}

let paths: Paths | undefined;
function resolvePaths(): Paths {
  if (paths !== undefined) return paths;
  const req = createRequire(import.meta.url);
  // Resolved from quickjs-emscripten's own location: its dependencies need not be hoisted.
  const fromMain = createRequire(req.resolve("quickjs-emscripten"));
  const variantPath = fromMain.resolve("@jitl/quickjs-wasmfile-release-sync");
  paths = {
    corePath: fromMain.resolve("quickjs-emscripten-core"),
    variantPath,
    wasmPath: join(dirname(variantPath), "emscripten-module.wasm"),
  };
  return paths;
}

let compiled: Promise<WebAssembly.Module> | undefined;
/** The QuickJS engine compiled once per Node process and shared with every worker. */
function engineModule(): Promise<WebAssembly.Module> {
  const wasm = (
    globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<WebAssembly.Module> } }
  ).WebAssembly;
  compiled ??= wasm.compile(readFileSync(resolvePaths().wasmPath));
  return compiled;
}

let sources: { prelude: string; builtins: Record<string, string> } | undefined;
function guestSources(): { prelude: string; builtins: Record<string, string> } {
  sources ??= { prelude: guestPrelude(), builtins: guestBuiltins() };
  return sources;
}

/** A started worker: ready once the engine is loaded and the prelude evaluated. */
export class NodeWorker {
  readonly worker: Worker;
  readonly ready: Promise<boolean>;
  startError: Error | undefined;
  #ready = false;
  #alive = true;

  constructor(boot: NodeWorkerBoot, resourceLimits: ResourceLimits | undefined) {
    this.worker = new Worker(workerSource, {
      eval: true,
      workerData: boot,
      resourceLimits,
      ...(execArgv ? { execArgv } : {}),
    });
    this.worker.unref();
    this.ready = new Promise((resolve) => {
      const onMessage = (message: WorkerMessage): void => {
        if (message.type !== "ready") return;
        this.#ready = true;
        this.worker.off("message", onMessage);
        resolve(true);
      };
      this.worker.on("message", onMessage);
      this.worker.once("exit", () => {
        this.#alive = false;
        resolve(false);
      });
      // A worker that fails to start reports through "exit"; the error is kept for the caller.
      this.worker.once("error", (err) => {
        this.startError ??= err;
      });
    });
  }

  get alive(): boolean {
    return this.#alive;
  }

  get isReady(): boolean {
    return this.#ready && this.#alive;
  }

  terminate(): void {
    this.#alive = false;
    void this.worker.terminate();
  }
}

export interface NodeWorkerPoolOptions {
  /** Idle workers kept ready (default 1). */
  idle?: number;
  /** Hard cap of each guest's Wasm memory (default 128 MiB, at least 16 MiB). */
  maxWasmMemoryBytes?: number;
  /** V8 heap limits of each worker: the guest heap is Wasm memory, so these stay small. */
  resourceLimits?: ResourceLimits;
}

export class NodeWorkerPool {
  readonly maxWasmMemoryBytes: number;
  readonly #target: number;
  readonly #limits: ResourceLimits | undefined;
  readonly #idle: NodeWorker[] = [];
  #closed = false;
  #refillQueued = false;
  #failures = 0;
  readonly #starting = new Set<Promise<NodeWorker>>();

  constructor(options: NodeWorkerPoolOptions = {}) {
    this.maxWasmMemoryBytes = Math.max(
      MIN_WASM_MEMORY,
      options.maxWasmMemoryBytes ?? DEFAULT_MAX_WASM_MEMORY,
    );
    this.#target = Math.max(0, options.idle ?? 1);
    this.#limits = options.resourceLimits ?? { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 };
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  async #spawn(): Promise<NodeWorker> {
    const module = await engineModule();
    const { corePath, variantPath } = resolvePaths();
    const { prelude, builtins } = guestSources();
    const boot: NodeWorkerBoot = {
      corePath,
      variantPath,
      wasmModule: module,
      maxWasmMemoryBytes: this.maxWasmMemoryBytes,
      prelude,
      builtins,
    };
    const worker = new NodeWorker(boot, this.#limits);
    void worker.ready.then((ok) => {
      if (ok) this.#failures = 0;
      else {
        this.#failures++;
        const i = this.#idle.indexOf(worker);
        if (i >= 0) this.#idle.splice(i, 1);
      }
    });
    return worker;
  }

  /** Starts idle workers up to the target and resolves when they are ready. */
  async warm(): Promise<void> {
    this.#fill();
    const pending = [...this.#starting];
    await Promise.all(
      pending.map(async (p) => {
        const w = await p;
        // Held open until ready, so a caller awaiting warm() is not left hanging.
        w.worker.ref();
        await w.ready;
        if (this.#idle.includes(w)) w.worker.unref();
      }),
    );
  }

  #fill(): void {
    while (!this.#closed && this.#idle.length + this.#starting.size < this.#target) {
      const p = this.#spawn();
      this.#starting.add(p);
      void p.then(
        (w) => {
          this.#starting.delete(p);
          if (this.#closed) w.terminate();
          else this.#idle.push(w);
        },
        () => this.#starting.delete(p),
      );
    }
  }

  /** A ready worker: an idle one if any (the pool refills in the background), else a new one. */
  async acquire(): Promise<NodeWorker> {
    if (this.#closed) throw new Error("the node worker pool is closed");
    let worker: NodeWorker | undefined;
    // A ready worker first, then one still starting (the quickest to be ready), else a new one.
    const readyAt = this.#idle.findIndex((w) => w.isReady);
    const at = readyAt >= 0 ? readyAt : this.#idle.findIndex((w) => w.alive);
    if (at >= 0) worker = this.#idle.splice(at, 1)[0];
    this.#queueRefill();
    worker ??= await this.#spawn();
    worker.worker.ref();
    if (!(await worker.ready)) {
      worker.terminate();
      const reason = worker.startError === undefined ? "" : `: ${worker.startError.message}`;
      throw new Error(`the JavaScript engine failed to start${reason}`);
    }
    return worker;
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#idle.splice(0)) w.terminate();
  }

  #queueRefill(): void {
    if (this.#refillQueued || this.#closed || this.#failures >= 3) return;
    this.#refillQueued = true;
    // Off the caller's path: starting a worker costs the main thread a little too.
    setImmediate(() => {
      this.#refillQueued = false;
      this.#fill();
    }).unref();
  }
}

const shared = new Map<number, NodeWorkerPool>();

/** The engine-wide pool for a memory cap (created on first use). */
export function sharedNodeWorkerPool(maxWasmMemoryBytes = DEFAULT_MAX_WASM_MEMORY): NodeWorkerPool {
  const cap = Math.max(MIN_WASM_MEMORY, maxWasmMemoryBytes);
  let pool = shared.get(cap);
  if (pool === undefined) {
    pool = new NodeWorkerPool({ maxWasmMemoryBytes: cap });
    shared.set(cap, pool);
  }
  return pool;
}

/** Closes every shared pool (engine shutdown, tests). */
export function closeSharedNodeWorkerPools(): void {
  for (const pool of shared.values()) pool.close();
  shared.clear();
}
