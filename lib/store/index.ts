/** The storage layer's public face: the Store interface, tuple keys and the two drivers. */
export type {
  BatchOp,
  BatchOptions,
  RangeOptions,
  Store,
  StoreKey,
  StoreStats,
  StoreValue,
} from "./types.js";
export { packKey, unpackKey, prefixRange, Subspace, type KeyPart } from "./keys.js";
export { MemoryStore } from "./memory.js";
export { LevelStore } from "./level.js";

/** Drains an async iterable (e.g. `store.range(...)`) into an array. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
