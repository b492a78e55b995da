/**
 * The default on-disk driver: LevelDB through classic-level, one directory per engine.
 *
 * Durability: every caller batch is acknowledged only after a `sync: true` write containing it
 * has completed. Concurrent batches are group-committed (see GroupCommit in shared.ts), so one
 * fsync covers many callers. classic-level's `clear()` writes with `sync: false`, so
 * clearRange follows it with a synced write (a barrier) before resolving; LevelDB's log is
 * sequential, so syncing a later record makes the clear's records durable too.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { ClassicLevel } from "classic-level";
import { EnclaveError, Errors } from "../errors.js";
import { GroupCommit, asView, checkKey, checkOps, normalizeRange, unavailable } from "./shared.js";
import type {
  BatchOp,
  BatchOptions,
  RangeOptions,
  Store,
  StoreKey,
  StoreStats,
  StoreValue,
} from "./types.js";

type Db = ClassicLevel<Uint8Array, Uint8Array>;

/**
 * classic-level's own batch method, under abstract-level's public `batch()`. The public method
 * clones every op, looks up and applies encodings, and checks for hooks and listeners: several
 * times the cost of the write call itself (a large part of the engine's CPU time per durable
 * action, see docs/performance.md). The store's ops are already checked (checkOps) and are
 * byte views, which the database takes natively (`view` encoding: encode is the identity), so
 * that work changes nothing here. Used only while the database is open.
 */
type RawBatch = (ops: BatchOp[], options: { sync: boolean }) => Promise<void>;
const SYNC = { sync: true };

/**
 * Deleted by the clearRange barrier when no caller batch shares its group: a synced write
 * needs at least one op (classic-level skips empty batches). Tuple-packed keys never start
 * with 0xff, so this key is outside every subspace; keys starting 0xff are reserved.
 */
const BARRIER_KEY = new Uint8Array([0xff, 0x00]);

interface LevelRangeOptions {
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
  reverse?: boolean;
  limit?: number;
}

function levelRange(options: RangeOptions): LevelRangeOptions {
  const range = normalizeRange(options);
  const out: LevelRangeOptions = {};
  if (range.lower) out[range.lower.inclusive ? "gte" : "gt"] = range.lower.key;
  if (range.upper) out[range.upper.inclusive ? "lte" : "lt"] = range.upper.key;
  if (range.reverse) out.reverse = true;
  if (range.limit !== undefined) out.limit = range.limit;
  return out;
}

export class LevelStore implements Store {
  readonly kind = "level";
  readonly location: string;
  #db: Db;
  #group: GroupCommit;
  #closing: Promise<void> | undefined;
  #clears = new Set<Promise<void>>();

  private constructor(db: Db, location: string) {
    this.#db = db;
    this.location = location;
    const raw = (db as unknown as { _batch?: RawBatch })._batch;
    this.#group = new GroupCommit((ops) => {
      const write = ops.length > 0 ? ops : [{ type: "del" as const, key: BARRIER_KEY }];
      // Falls back to the public method (and its errors) if the database is not open.
      if (typeof raw === "function" && this.#db.status === "open") return raw.call(this.#db, write, SYNC);
      return this.#db.batch(write, SYNC);
    });
  }

  /** Opens (creating if needed) the store in directory `location`. */
  static async open(location: string): Promise<LevelStore> {
    const dir = path.resolve(location);
    await mkdir(dir, { recursive: true });
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dir, {
      keyEncoding: "view",
      valueEncoding: "view",
    });
    try {
      await db.open();
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown } }).cause;
      if (cause?.code === "LEVEL_LOCKED") {
        throw new EnclaveError(
          Errors.storeUnavailable,
          `data directory ${dir} is in use by another process`,
          { path: dir },
        );
      }
      throw error;
    }
    return new LevelStore(db, dir);
  }

  async get(key: StoreKey): Promise<StoreValue | undefined> {
    this.#check();
    checkKey(key);
    const value = await this.#guard(this.#db.get(key));
    return value === undefined ? undefined : asView(value);
  }

  async getMany(keys: StoreKey[]): Promise<(StoreValue | undefined)[]> {
    this.#check();
    keys.forEach(checkKey);
    if (keys.length === 0) return [];
    const values = await this.#guard(this.#db.getMany(keys));
    return values.map((v) => (v === undefined ? undefined : asView(v)));
  }

  range(options: RangeOptions = {}): AsyncIterable<[StoreKey, StoreValue]> {
    return this.#range(options);
  }

  async *#range(options: RangeOptions): AsyncGenerator<[StoreKey, StoreValue]> {
    this.#check();
    const iterator = this.#db.iterator(levelRange(options));
    try {
      // Small first read (callers often want one entry), then larger ones.
      let size = 16;
      for (;;) {
        const entries = await this.#guard(iterator.nextv(size));
        if (entries.length === 0) return;
        for (const [key, value] of entries) {
          this.#check();
          yield [asView(key), asView(value)];
        }
        size = Math.min(size * 4, 1000);
      }
    } finally {
      // Runs on exhaustion, on error and when the consumer breaks out early.
      await iterator.close();
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
    const bounds = levelRange({ gt: options.gt, gte: options.gte, lt: options.lt, lte: options.lte });
    const clearing = (async () => {
      await this.#db.clear(bounds);
      await this.#group.barrier();
    })();
    this.#clears.add(clearing);
    try {
      await clearing;
    } finally {
      this.#clears.delete(clearing);
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      // A clear enqueues its barrier only after db.clear() returns: wait for clears first.
      await Promise.allSettled([...this.#clears]);
      await this.#group.drain();
      await this.#db.close();
    })();
    return this.#closing;
  }

  stats(): StoreStats {
    return { commits: this.#group.commits, batches: this.#group.batches };
  }

  #check(): void {
    if (this.#closing) throw unavailable();
  }

  /** A call that raced with close() fails with the store error, not a LevelDB one. */
  async #guard<T>(promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      if (this.#closing) throw unavailable();
      throw error;
    }
  }
}
