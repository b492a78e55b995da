export { WasiExecutor, type WasiExecutorOptions } from "./executor.js";
export { WorkerPool, sharedWorkerPool, closeSharedWorkerPool, type WorkerPoolOptions } from "./pool.js";
export { capMemory, MemoryCapError } from "./memory-cap.js";
export { compiledModule } from "./module-cache.js";
