/**
 * Compiled modules, one per program bytes and memory cap: a program compiles once per engine,
 * not per exec. Keyed weakly by the byte buffer (the software mounts hand out the same
 * Uint8Array every time), so dropping a package drops its compiled code.
 */
import { capMemory } from "./memory-cap.js";
import { wasmApi } from "./wasm-api.js";

type Entry = WebAssembly.Module | Promise<WebAssembly.Module>;

const cache = new WeakMap<Uint8Array, Map<number, Entry>>();

/**
 * The compiled module for `bytes` with its memory capped at `maxMemoryBytes` (0 = no cap).
 * Synchronous once compiled; the first call compiles off the main thread's critical path.
 */
export function compiledModule(bytes: Uint8Array, maxMemoryBytes: number): Entry {
  let byCap = cache.get(bytes);
  if (byCap === undefined) {
    byCap = new Map();
    cache.set(bytes, byCap);
  }
  const hit = byCap.get(maxMemoryBytes);
  if (hit !== undefined) return hit;
  const source = maxMemoryBytes > 0 ? capMemory(bytes, maxMemoryBytes) : bytes;
  const compiling = wasmApi.compile(source).then(
    (module) => {
      byCap.set(maxMemoryBytes, module);
      return module;
    },
    (err: unknown) => {
      byCap.delete(maxMemoryBytes);
      throw err;
    },
  );
  byCap.set(maxMemoryBytes, compiling);
  return compiling;
}
