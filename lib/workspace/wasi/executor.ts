/**
 * The kernel's executor for WASI preview-1 programs: each process runs in a pre-warmed worker
 * thread with its file calls proxied to the kernel on the main thread.
 */
import type { Executor, KernelApi, KernelProcess, Program } from "../kernel/types.js";
import { compiledModule } from "./module-cache.js";
import { MemoryCapError } from "./memory-cap.js";
import { sharedWorkerPool, type WorkerPool } from "./pool.js";
import { WasiProcess } from "./process.js";
import { ExitCode } from "./protocol.js";
import { wasmApi } from "./wasm-api.js";

export interface WasiExecutorOptions {
  /** The kernel the processes' path calls go to (a function when the kernel is built after the executor). */
  kernel: KernelApi | (() => KernelApi);
  /** Defaults to the engine-wide pool. */
  pool?: WorkerPool;
  /** CPU time a process may use before it is killed with SIGXCPU (exit 152); 0 or unset = no limit. */
  cpuTimeLimitMs?: number;
  /**
   * Linear memory a program may grow to. Modules given as bytes get the cap written into their
   * memory section (growth past it fails inside the program); precompiled modules are checked
   * at every call and killed (exit 137) once over.
   */
  maxWasmMemoryBytes?: number;
}

export class WasiExecutor implements Executor {
  readonly #kernel: () => KernelApi;
  readonly #pool: WorkerPool;
  readonly #cpuTimeLimitMs: number;
  readonly #maxWasmMemoryBytes: number;

  constructor(options: WasiExecutorOptions) {
    const kernel = options.kernel;
    this.#kernel = typeof kernel === "function" ? kernel : () => kernel;
    this.#pool = options.pool ?? sharedWorkerPool();
    this.#cpuTimeLimitMs = options.cpuTimeLimitMs ?? 0;
    this.#maxWasmMemoryBytes = options.maxWasmMemoryBytes ?? 0;
    void this.#pool.warm();
  }

  run(proc: KernelProcess, program: Program): void {
    const process = new WasiProcess(proc, this.#kernel(), this.#pool, {
      cpuTimeLimitMs: this.#cpuTimeLimitMs,
      maxWasmMemoryBytes: this.#maxWasmMemoryBytes,
    });
    if (program.kind !== "wasm") {
      process.fail(ExitCode.CANNOT_EXECUTE, `wasm: ${program.path} is not a WASI program`);
      return;
    }
    let module: WebAssembly.Module | Promise<WebAssembly.Module>;
    try {
      module =
        program.module instanceof wasmApi.Module
          ? program.module
          : compiledModule(program.module as Uint8Array, this.#maxWasmMemoryBytes);
    } catch (err) {
      const reason = err instanceof MemoryCapError ? err.message : String(err);
      process.fail(ExitCode.CANNOT_EXECUTE, `wasm: cannot execute ${program.path}: ${reason}`);
      return;
    }
    process.start(module);
  }
}
