/**
 * An ephemeral store for tests and throwaway engines. Keys are kept in a sorted array
 * (binary search, splice on insert): simple, and fast enough for test-sized data. It shares
 * the group commit queue with LevelStore so batching, visibility, stats and close behave alike.
 */
import {
  GroupCommit,
  checkKey,
  checkOps,
  compareBytes,
  normalizeRange,
  unavailable,
  type NormalizedRange,
} from "./shared.js";
import type {
  BatchOp,
  BatchOptions,
  RangeOptions,
  Store,
  StoreKey,
  StoreStats,
  StoreValue,
} from "./types.js";

interface Entry {
  key: StoreKey;
  value: StoreValue;
}

export class MemoryStore implements Store {
  readonly kind = "memory";
  #entries: Entry[] = [];
  #group = new GroupCommit(async (ops) => this.#apply(ops));
  #closing: Promise<void> | undefined;

  async get(key: StoreKey): Promise<StoreValue | undefined> {
    this.#check();
    checkKey(key);
    const i = this.#find(key);
    return i >= 0 ? this.#entries[i]!.value.slice() : undefined;
  }

  async getMany(keys: StoreKey[]): Promise<(StoreValue | undefined)[]> {
    this.#check();
    keys.forEach(checkKey);
    return keys.map((key) => {
      const i = this.#find(key);
      return i >= 0 ? this.#entries[i]!.value.slice() : undefined;
    });
  }

  range(options: RangeOptions = {}): AsyncIterable<[StoreKey, StoreValue]> {
    return this.#range(options);
  }

  async *#range(options: RangeOptions): AsyncGenerator<[StoreKey, StoreValue]> {
    this.#check();
    // A snapshot taken at the start, as a LevelDB iterator reads from an implicit snapshot.
    const snapshot = this.#slice(normalizeRange(options));
    for (const { key, value } of snapshot) {
      this.#check();
      yield [key.slice(), value.slice()];
    }
  }

  async batch(ops: BatchOp[], options?: BatchOptions): Promise<void> {
    this.#check();
    const checked = checkOps(ops, options?.owned === true);
    if (checked.length === 0) return;
    return this.#group.submit(checked);
  }

  async clearRange(options: Pick<RangeOptions, "gt" | "gte" | "lt" | "lte">): Promise<void> {
    this.#check();
    const { lower, upper } = normalizeRange(options);
    const [start, end] = this.#bounds({ lower, upper, reverse: false });
    if (end > start) this.#entries.splice(start, end - start);
    await this.#group.barrier();
  }

  close(): Promise<void> {
    this.#closing ??= this.#group.drain().then(() => {
      this.#entries = [];
    });
    return this.#closing;
  }

  stats(): StoreStats {
    return { commits: this.#group.commits, batches: this.#group.batches };
  }

  #check(): void {
    if (this.#closing) throw unavailable();
  }

  #apply(ops: BatchOp[]): void {
    for (const op of ops) {
      const i = this.#find(op.key);
      if (op.type === "put") {
        // Replace the entry rather than mutate it: open range snapshots hold entry objects.
        if (i >= 0) this.#entries[i] = { key: op.key, value: op.value };
        else this.#entries.splice(~i, 0, { key: op.key, value: op.value });
      } else if (i >= 0) {
        this.#entries.splice(i, 1);
      }
    }
  }

  /** Index of key, or ~insertionPoint when absent. */
  #find(key: StoreKey): number {
    let lo = 0;
    let hi = this.#entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareBytes(this.#entries[mid]!.key, key);
      if (c < 0) lo = mid + 1;
      else if (c > 0) hi = mid - 1;
      else return mid;
    }
    return ~lo;
  }

  /** [start, end) indexes of the entries within the bounds. */
  #bounds(range: NormalizedRange): [number, number] {
    let start = 0;
    let end = this.#entries.length;
    if (range.lower) {
      const i = this.#find(range.lower.key);
      start = i >= 0 ? (range.lower.inclusive ? i : i + 1) : ~i;
    }
    if (range.upper) {
      const i = this.#find(range.upper.key);
      end = i >= 0 ? (range.upper.inclusive ? i + 1 : i) : ~i;
    }
    return [start, Math.max(start, end)];
  }

  #slice(range: NormalizedRange): Entry[] {
    const [start, end] = this.#bounds(range);
    let out = this.#entries.slice(start, end);
    if (range.reverse) out.reverse();
    if (range.limit !== undefined) out = out.slice(0, range.limit);
    return out;
  }
}
