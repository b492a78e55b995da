import type { MessagePort } from "node:worker_threads";

/**
 * Messages between a guest node process's worker and its main-thread half. File calls are
 * synchronous (the worker posts a request on its RPC port, sleeps in `Atomics.wait` on the flag
 * buffer, and takes the answer with `receiveMessageOnPort`); socket traffic, stdin and signals
 * are asynchronous messages both ways, because guest code sees them as events.
 */

/** What a worker is started with (workerData). */
export interface NodeWorkerBoot {
  /** Absolute paths the worker `require`s (resolved on the main thread, so they hold from dist/ too). */
  corePath: string;
  variantPath: string;
  /** Compiled once per engine and shared by every worker. */
  wasmModule: WebAssembly.Module;
  /** Hard cap of the guest's Wasm memory: the engine refuses growth past it. */
  maxWasmMemoryBytes: number;
  /** Guest sources: the prelude and the built-in modules, by name. */
  prelude: string;
  builtins: Record<string, string>;
}

/** Main -> worker: run this process. */
export interface JobMessage {
  type: "job";
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  pid: number;
  ppid: number;
  /** CPU milliseconds the guest may use (0 = unlimited). */
  cpuTimeLimitMs: number;
  /** The port file calls go through, and the flag the answer is signalled on (Int32 [0] = answered seq). */
  rpcPort: MessagePort;
  flag: SharedArrayBuffer;
}

/** Main -> worker: something happened that guest code sees as an event. */
export interface EventMessage {
  type: "event";
  /** Event name the guest dispatcher switches on ("accept", "data", "end", "close", "error", ...). */
  ev: string;
  /** Small JSON-able details (ids, codes, ports). */
  info?: Record<string, unknown>;
  data?: Uint8Array;
}

/** Worker -> main messages. */
export type WorkerMessage =
  /** The engine and prelude are loaded: the worker can take a job. */
  | { type: "ready" }
  /** The guest ended: exit code, and the signal when it ended by one (SIGXCPU). */
  | { type: "exit"; code: number; signal?: "SIGXCPU" }
  /** A socket or stdin operation for the main thread (see `SocketBridge`). */
  | { type: "op"; op: string; info: Record<string, unknown>; data?: Uint8Array };

/** One synchronous file call. */
export interface RpcRequest {
  seq: number;
  op: string;
  args: unknown[];
  data?: Uint8Array;
}

export interface RpcResponse {
  seq: number;
  value?: unknown;
  data?: Uint8Array;
  error?: { code: string; message: string };
}

/** Float64 slots of the flag buffer: the worker's CPU meter, read by the main thread's backstop. */
export const Flag = {
  /** Int32 index: seq of the last answered call. */
  ANSWERED: 0,
  /** Float64 index: CPU ms used before the current slice. */
  CPU_USED: 1,
  /** Float64 index: wall-clock ms the current slice began (0 = not running guest code). */
  CPU_SINCE: 2,
} as const;

export const FLAG_BYTES = 32;

/** Exit codes decided by the runtime. */
export const NodeExit = {
  /** Uncaught exception, syntax error. */
  ERROR: 1,
  /** Out of memory or an engine trap: like Node's abort on heap exhaustion. */
  ABORT: 134,
  /** 128 + SIGXCPU. */
  CPU: 152,
} as const;
