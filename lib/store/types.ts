/**
 * The one storage interface the engine talks to: ordered byte keys, point reads, range scans
 * and atomic batches. A batch's promise resolves only once the batch is durable (synced), so
 * "acknowledged means durable" holds for every caller. Shaped so a multi-node driver
 * (PostgreSQL) can implement it later without touching the engine.
 */

export type StoreKey = Uint8Array;
export type StoreValue = Uint8Array;

export type BatchOp = { type: "put"; key: StoreKey; value: StoreValue } | { type: "del"; key: StoreKey };

export interface BatchOptions {
  /**
   * The caller hands the ops over: neither the op objects nor their key and value bytes are
   * modified after the call (the engine's own freshly built buffers). The store may then keep
   * them as they are instead of copying them. Without it, the store copies what it keeps, as
   * a caller may reuse its buffers once batch() has returned.
   */
  owned?: boolean;
}

export interface RangeOptions {
  gt?: StoreKey;
  gte?: StoreKey;
  lt?: StoreKey;
  lte?: StoreKey;
  /** Newest (largest key) first. */
  reverse?: boolean;
  /** At most this many entries. */
  limit?: number;
}

export interface StoreStats {
  /** Synced batches written since open. */
  commits: number;
  /** Caller batches folded into those commits. */
  batches: number;
}

export interface Store {
  /** The driver name, for logs and metrics. */
  readonly kind: string;
  get(key: StoreKey): Promise<StoreValue | undefined>;
  /** Values in the order of the keys; undefined where a key is absent. */
  getMany(keys: StoreKey[]): Promise<(StoreValue | undefined)[]>;
  /** Entries in key order within the bounds. */
  range(options: RangeOptions): AsyncIterable<[StoreKey, StoreValue]>;
  /**
   * Applies all ops atomically. Resolves once they are durable: concurrent batches are
   * group-committed into one synced write. Ops apply in order (a later op on the same key wins).
   */
  batch(ops: BatchOp[], options?: BatchOptions): Promise<void>;
  /** Deletes every key within the bounds. Durable on resolve; not atomic with other writes. */
  clearRange(options: Pick<RangeOptions, "gt" | "gte" | "lt" | "lte">): Promise<void>;
  /** Flushes pending batches and releases the store. Further calls reject with `store.unavailable`. */
  close(): Promise<void>;
  stats(): StoreStats;
}
