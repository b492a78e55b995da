/**
 * Pieces both drivers share, so that MemoryStore and LevelStore agree on semantics: op
 * validation, range normalization, the closed-store error and the group commit queue.
 */
import { Errors, err, type EnclaveError } from "../errors.js";
import type { BatchOp, RangeOptions, StoreKey } from "./types.js";

export function unavailable(): EnclaveError {
  return err(Errors.storeUnavailable);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** A plain Uint8Array view (no copy) of a Buffer or other byte view, so both drivers return the same type. */
export function asView(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Checks a caller's ops before they join a group: one malformed caller must not fail the
 * whole group commit it would have been merged into. Copies the keys and values too: the
 * write happens a tick later, and a caller may reuse its buffers once batch() has returned.
 * With `owned` (the caller will not touch the ops again, see BatchOptions) the checked ops are
 * returned as they are, without copies.
 */
export function checkOps(ops: BatchOp[], owned = false): BatchOp[] {
  if (!Array.isArray(ops)) throw new TypeError("batch ops must be an array");
  const out: BatchOp[] = owned ? ops : new Array<BatchOp>(ops.length);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op === undefined || op === null || typeof op !== "object") {
      throw new TypeError(`batch op ${i} is not an object`);
    }
    if (!(op.key instanceof Uint8Array)) throw new TypeError(`batch op ${i}: key must be a Uint8Array`);
    if (op.type === "put") {
      if (!(op.value instanceof Uint8Array)) throw new TypeError(`batch op ${i}: value must be a Uint8Array`);
      if (!owned) out[i] = { type: "put", key: op.key.slice(), value: op.value.slice() };
    } else if (op.type === "del") {
      if (!owned) out[i] = { type: "del", key: op.key.slice() };
    } else {
      throw new TypeError(`batch op ${i}: unknown type ${String((op as { type: unknown }).type)}`);
    }
  }
  return out;
}

export function checkKey(key: StoreKey): void {
  if (!(key instanceof Uint8Array)) throw new TypeError("key must be a Uint8Array");
}

export interface NormalizedRange {
  /** Lower bound and whether it is inclusive. */
  lower?: { key: StoreKey; inclusive: boolean };
  upper?: { key: StoreKey; inclusive: boolean };
  reverse: boolean;
  /** Undefined means no limit. */
  limit?: number;
}

/**
 * One reading of the bounds for both drivers: where both gt and gte (or lt and lte) are given,
 * the stricter one applies. A limit that is not a non-negative integer means no limit.
 */
export function normalizeRange(options: RangeOptions): NormalizedRange {
  const out: NormalizedRange = { reverse: options.reverse === true };
  const { gt, gte, lt, lte } = options;
  if (gt !== undefined && (gte === undefined || compareBytes(gt, gte) >= 0)) {
    out.lower = { key: gt, inclusive: false };
  } else if (gte !== undefined) {
    out.lower = { key: gte, inclusive: true };
  }
  if (lt !== undefined && (lte === undefined || compareBytes(lt, lte) <= 0)) {
    out.upper = { key: lt, inclusive: false };
  } else if (lte !== undefined) {
    out.upper = { key: lte, inclusive: true };
  }
  for (const bound of [out.lower, out.upper]) if (bound) checkKey(bound.key);
  const { limit } = options;
  if (limit !== undefined && Number.isSafeInteger(limit) && limit >= 0) out.limit = limit;
  return out;
}

interface Waiter {
  ops: BatchOp[];
  /** False for durability barriers (clearRange), which are not caller batches. */
  counts: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: batches submitted in the same event-loop turn, and those arriving while a
 * write is in flight, are merged into one write. At most one write is in flight; the next
 * group accumulates meanwhile. Each caller's ops stay contiguous and in order, so the merged
 * write is the callers' batches applied one after another, atomically. Every caller in a group
 * settles with that group's write.
 */
export class GroupCommit {
  commits = 0;
  batches = 0;
  #pending: Waiter[] = [];
  #inFlight = false;
  #scheduled = false;
  #idle: (() => void)[] = [];

  /** `write` must apply ops in order, atomically, and resolve only once they are durable. */
  constructor(private readonly write: (ops: BatchOp[]) => Promise<void>) {}

  submit(ops: BatchOp[]): Promise<void> {
    return this.#enqueue(ops, true);
  }

  /** Resolves after a write that starts after this call: makes earlier unsynced writes durable. */
  barrier(): Promise<void> {
    return this.#enqueue([], false);
  }

  /** Resolves once nothing is pending or in flight. */
  drain(): Promise<void> {
    if (!this.#inFlight && this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #enqueue(ops: BatchOp[], counts: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ ops, counts, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: gathers every batch issued in this event-loop turn,
    // including those issued from later promise continuations.
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#inFlight) return;
    const group = this.#pending;
    if (group.length === 0) return this.#notifyIdle();
    this.#pending = [];
    this.#inFlight = true;
    const merged = group.length === 1 ? group[0]!.ops : group.flatMap((w) => w.ops);
    let write: Promise<void>;
    try {
      write = this.write(merged);
    } catch (error) {
      write = Promise.reject(error);
    }
    write.then(
      () => {
        this.commits++;
        for (const w of group) if (w.counts) this.batches++;
        for (const w of group) w.resolve();
        this.#settled();
      },
      (error: unknown) => {
        for (const w of group) w.reject(error);
        this.#settled();
      },
    );
  }

  #settled(): void {
    this.#inFlight = false;
    if (this.#pending.length > 0) this.#schedule();
    else this.#notifyIdle();
  }

  #notifyIdle(): void {
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }
}
