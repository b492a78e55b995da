/**
 * The `node` host program: `node FILE [args]`, `node -e CODE`, `node -p CODE`, `node -v`. Each
 * process runs in its own worker thread with its own memory-capped QuickJS engine.
 */
import type { HostProgram, KernelApi, KernelProcess } from "../kernel/types.js";
import { runNodeProcess } from "./node-process.js";
import { DEFAULT_MAX_WASM_MEMORY, sharedNodeWorkerPool, type NodeWorkerPool } from "./pool.js";

export interface NodeProgramOptions {
  /** Hard cap of each guest's Wasm memory (default 128 MiB, at least 16 MiB). */
  maxWasmMemoryBytes?: number;
  /** CPU time a guest may use before it is killed with SIGXCPU (exit 152); 0 or unset = no limit. */
  cpuTimeLimitMs?: number;
  /** Defaults to the engine-wide pool for the memory cap. */
  pool?: NodeWorkerPool;
}

/** A `node` host program with its own limits (the workspace wires its resource limits in here). */
export function createNodeProgram(options: NodeProgramOptions = {}): HostProgram {
  return (proc: KernelProcess, kernel: KernelApi) => {
    const pool = options.pool ?? sharedNodeWorkerPool(options.maxWasmMemoryBytes ?? DEFAULT_MAX_WASM_MEMORY);
    return runNodeProcess(proc, kernel, {
      pool,
      cpuTimeLimitMs: options.cpuTimeLimitMs ?? 0,
    });
  };
}

/** `node` with the default limits (128 MiB of Wasm memory, no CPU-time limit). */
export const nodeHostProgram: HostProgram = createNodeProgram();
