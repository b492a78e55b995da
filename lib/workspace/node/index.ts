/**
 * The workspace's `node`: JavaScript guest programs (`node file.js`, `node -e CODE`) in a
 * sandboxed QuickJS engine, one worker thread and one memory-capped engine instance per process,
 * with Node's core modules mapped onto the kernel (files, sockets, processes).
 */
export { createNodeProgram, nodeHostProgram, type NodeProgramOptions } from "./program.js";
export {
  NodeWorkerPool,
  sharedNodeWorkerPool,
  closeSharedNodeWorkerPools,
  DEFAULT_MAX_WASM_MEMORY,
  MIN_WASM_MEMORY,
  type NodeWorkerPoolOptions,
} from "./pool.js";
