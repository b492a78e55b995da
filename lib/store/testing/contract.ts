/**
 * The behaviour every Store driver must share, run against each driver by its own test file.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { EnclaveError } from "../../errors.js";
import { packKey, prefixRange, unpackKey, type KeyPart } from "../keys.js";
import type { BatchOp, RangeOptions, Store } from "../types.js";

export interface Driver {
  /** A fresh, empty store. */
  open(): Promise<Store>;
}

const bytes = (...b: number[]) => new Uint8Array(b);
const k = (...parts: KeyPart[]) => packKey(parts);
const text = (s: string) => new TextEncoder().encode(s);

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function keysIn(store: Store, options: RangeOptions = {}): Promise<KeyPart[][]> {
  return (await collect(store.range(options))).map(([key]) => unpackKey(key));
}

async function expectUnavailable(promise: Promise<unknown>): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EnclaveError);
  expect(error).toMatchObject({ group: "store", code: "unavailable" });
}

export function storeContract(name: string, driver: Driver): void {
  describe(`${name}: Store contract`, () => {
    const open: Store[] = [];
    const fresh = async () => {
      const store = await driver.open();
      open.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    async function seeded(count = 10): Promise<Store> {
      const store = await fresh();
      const ops: BatchOp[] = [];
      for (let i = 0; i < count; i++) ops.push({ type: "put", key: k("n", i), value: bytes(i) });
      await store.batch(ops);
      return store;
    }

    it("get returns undefined for a missing key and Uint8Array for a present one", async () => {
      const store = await fresh();
      expect(await store.get(k("missing"))).toBeUndefined();
      await store.batch([{ type: "put", key: k("a"), value: bytes(1, 2, 3) }]);
      const value = await store.get(k("a"));
      expect(value).toBeInstanceOf(Uint8Array);
      expect(value?.constructor).toBe(Uint8Array);
      expect(Array.from(value!)).toEqual([1, 2, 3]);
    });

    it("stores empty values and arbitrary bytes", async () => {
      const store = await fresh();
      const all = new Uint8Array(256).map((_, i) => i);
      await store.batch([
        { type: "put", key: k("empty"), value: new Uint8Array(0) },
        { type: "put", key: k("all"), value: all },
        { type: "put", key: bytes(0, 0xfe), value: bytes(7) },
      ]);
      expect((await store.get(k("empty")))?.length).toBe(0);
      expect(await store.get(k("all"))).toEqual(all);
      expect(await store.get(bytes(0, 0xfe))).toEqual(bytes(7));
    });

    it("copies buffers in and out", async () => {
      const store = await fresh();
      const key = k("x");
      const value = bytes(1, 2, 3);
      const done = store.batch([{ type: "put", key, value }]);
      value[0] = 9; // mutated after batch() returned, before it resolved
      await done;
      const read = await store.get(key);
      expect(read).toEqual(bytes(1, 2, 3));
      read![0] = 42;
      expect(await store.get(key)).toEqual(bytes(1, 2, 3));
    });

    it("owned batches (buffers handed over) write the same data, are checked the same and merge into groups", async () => {
      const store = await fresh();
      const value = bytes(1, 2, 3);
      await Promise.all([
        store.batch([{ type: "put", key: k("o", 1), value }], { owned: true }),
        store.batch([{ type: "put", key: k("o", 2), value: bytes(4) }]),
        store.batch([{ type: "del", key: k("o", 2) }], { owned: true }),
      ]);
      expect(await store.get(k("o", 1))).toEqual(bytes(1, 2, 3));
      expect(await store.get(k("o", 2))).toBeUndefined();
      // What the store reads back is still the caller's to change.
      const read = await store.get(k("o", 1));
      read![0] = 42;
      expect(await store.get(k("o", 1))).toEqual(bytes(1, 2, 3));
      // Malformed ops are refused up front, as without the option, and write nothing.
      await expect(
        store.batch([{ type: "put", key: k("o", 3), value: "x" as unknown as Uint8Array }], { owned: true }),
      ).rejects.toThrow(TypeError);
      await expect(
        store.batch([{ type: "nope", key: k("o", 3) } as unknown as BatchOp], { owned: true }),
      ).rejects.toThrow(TypeError);
      expect(await store.get(k("o", 3))).toBeUndefined();
    });

    it("getMany returns values in key order with undefined for absent keys", async () => {
      const store = await seeded(5);
      const values = await store.getMany([k("n", 3), k("nope"), k("n", 0), k("n", 3)]);
      expect(values).toEqual([bytes(3), undefined, bytes(0), bytes(3)]);
      expect(await store.getMany([])).toEqual([]);
    });

    it("range honours gt, gte, lt, lte, reverse and limit", async () => {
      const store = await seeded(10);
      const ns = (ks: KeyPart[][]) => ks.map((t) => t[1]);
      expect(ns(await keysIn(store))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(ns(await keysIn(store, { gt: k("n", 3), lt: k("n", 6) }))).toEqual([4, 5]);
      expect(ns(await keysIn(store, { gte: k("n", 3), lte: k("n", 6) }))).toEqual([3, 4, 5, 6]);
      expect(ns(await keysIn(store, { gte: k("n", 3), lt: k("n", 6), reverse: true }))).toEqual([5, 4, 3]);
      expect(ns(await keysIn(store, { gt: k("n", 7) }))).toEqual([8, 9]);
      expect(ns(await keysIn(store, { lte: k("n", 1) }))).toEqual([0, 1]);
      expect(ns(await keysIn(store, { limit: 3 }))).toEqual([0, 1, 2]);
      expect(ns(await keysIn(store, { reverse: true, limit: 2 }))).toEqual([9, 8]);
      expect(ns(await keysIn(store, { gte: k("n", 2), reverse: true, limit: 2 }))).toEqual([9, 8]);
      expect(ns(await keysIn(store, { lt: k("n", 5), reverse: true, limit: 2 }))).toEqual([4, 3]);
      expect(await keysIn(store, { limit: 0 })).toEqual([]);
      // Bounds between stored keys, and an empty interval.
      expect(ns(await keysIn(store, { gt: k("n", 3, "x"), lt: k("n", 5, "x") }))).toEqual([4, 5]);
      expect(await keysIn(store, { gte: k("n", 6), lt: k("n", 3) })).toEqual([]);
      // Both gt and gte: the stricter bound applies.
      expect(ns(await keysIn(store, { gt: k("n", 5), gte: k("n", 2), lt: k("n", 8) }))).toEqual([6, 7]);
      expect(ns(await keysIn(store, { gte: k("n", 2), lt: k("n", 4), lte: k("n", 7) }))).toEqual([2, 3]);
    });

    it("range covers a prefix's children but not its siblings", async () => {
      const store = await fresh();
      await store.batch([
        { type: "put", key: k("k", "a"), value: bytes(0) },
        { type: "put", key: k("k", "a", 1), value: bytes(1) },
        { type: "put", key: k("k", "a", "z"), value: bytes(2) },
        { type: "put", key: k("k", "ab", 1), value: bytes(3) },
        { type: "put", key: k("k", "b"), value: bytes(4) },
      ]);
      // Across types the tuple layer orders by type code: strings before integers.
      expect(await keysIn(store, prefixRange(["k", "a"]))).toEqual([
        ["k", "a", "z"],
        ["k", "a", 1],
      ]);
    });

    it("range yields entries as Uint8Array pairs", async () => {
      const store = await seeded(2);
      const entries = await collect(store.range({}));
      expect(entries).toHaveLength(2);
      for (const [key, value] of entries) {
        expect(key.constructor).toBe(Uint8Array);
        expect(value.constructor).toBe(Uint8Array);
      }
      expect(entries[1]).toEqual([k("n", 1), bytes(1)]);
    });

    it("range can be left early, and the store stays usable and closable", async () => {
      const store = await seeded(50);
      let seen = 0;
      for await (const _ of store.range({})) if (++seen === 3) break;
      expect(seen).toBe(3);
      await store.batch([{ type: "put", key: k("after"), value: bytes(1) }]);
      expect(await store.get(k("after"))).toEqual(bytes(1));
    });

    it("range reads a consistent snapshot taken when iteration starts", async () => {
      const store = await seeded(20);
      const seen: number[] = [];
      for await (const [key] of store.range({})) {
        const n = unpackKey(key)[1] as number;
        seen.push(n);
        if (n === 0) await store.batch([{ type: "del", key: k("n", 10) }]);
      }
      expect(seen).toHaveLength(20);
    });

    it("range iterates many entries across internal read chunks", async () => {
      const store = await fresh();
      const ops: BatchOp[] = [];
      for (let i = 0; i < 2500; i++) ops.push({ type: "put", key: k("c", i), value: bytes(i & 0xff) });
      await store.batch(ops);
      const got = await keysIn(store, prefixRange(["c"]));
      expect(got.map((t) => t[1])).toEqual(Array.from({ length: 2500 }, (_, i) => i));
      const rev = await keysIn(store, { ...prefixRange(["c"]), reverse: true, limit: 1100 });
      expect(rev[0]).toEqual(["c", 2499]);
      expect(rev).toHaveLength(1100);
    });

    it("batch applies ops in order: the last op on a key wins", async () => {
      const store = await fresh();
      await store.batch([
        { type: "put", key: k("a"), value: bytes(1) },
        { type: "put", key: k("a"), value: bytes(2) },
        { type: "put", key: k("b"), value: bytes(1) },
        { type: "del", key: k("b") },
        { type: "del", key: k("c") },
        { type: "put", key: k("c"), value: bytes(3) },
      ]);
      expect(await store.getMany([k("a"), k("b"), k("c")])).toEqual([bytes(2), undefined, bytes(3)]);
    });

    it("concurrent batches apply in call order", async () => {
      const store = await fresh();
      const a = store.batch([{ type: "put", key: k("x"), value: bytes(1) }]);
      const b = store.batch([{ type: "put", key: k("x"), value: bytes(2) }]);
      const c = store.batch([
        { type: "del", key: k("x") },
        { type: "put", key: k("y"), value: bytes(3) },
      ]);
      const d = store.batch([{ type: "put", key: k("x"), value: bytes(4) }]);
      await Promise.all([a, b, c, d]);
      expect(await store.getMany([k("x"), k("y")])).toEqual([bytes(4), bytes(3)]);
    });

    it("a malformed batch rejects alone and writes nothing", async () => {
      const store = await fresh();
      const good1 = store.batch([{ type: "put", key: k("g1"), value: bytes(1) }]);
      const bad = store.batch([
        { type: "put", key: k("bad"), value: bytes(1) },
        { type: "put", key: "not bytes" as unknown as Uint8Array, value: bytes(1) },
      ]);
      const good2 = store.batch([{ type: "put", key: k("g2"), value: bytes(2) }]);
      await expect(bad).rejects.toThrow(TypeError);
      await Promise.all([good1, good2]);
      expect(await store.getMany([k("g1"), k("bad"), k("g2")])).toEqual([bytes(1), undefined, bytes(2)]);
      await expect(store.batch([{ type: "nope" } as unknown as BatchOp])).rejects.toThrow(TypeError);
    });

    it("an empty batch resolves and commits nothing", async () => {
      const store = await fresh();
      await store.batch([]);
      expect(store.stats()).toEqual({ commits: 0, batches: 0 });
    });

    it("group commit: 1000 concurrent batches share few commits, all resolve, all data present", async () => {
      const store = await fresh();
      const n = 1000;
      const before = store.stats();
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          store.batch([{ type: "put", key: k("g", i), value: bytes(i & 0xff, i >> 8) }]),
        ),
      );
      const after = store.stats();
      expect(after.batches - before.batches).toBe(n);
      expect(after.commits - before.commits).toBeGreaterThan(0);
      expect(after.commits - before.commits).toBeLessThan(n / 5);
      const values = await store.getMany(Array.from({ length: n }, (_, i) => k("g", i)));
      values.forEach((v, i) => expect(v).toEqual(bytes(i & 0xff, i >> 8)));
    });

    it("group commit: batches arriving over many turns still share commits", async () => {
      const store = await fresh();
      const pending: Promise<void>[] = [];
      for (let turn = 0; turn < 100; turn++) {
        for (let j = 0; j < 10; j++) {
          const i = turn * 10 + j;
          pending.push(store.batch([{ type: "put", key: k("t", i), value: bytes(1) }]));
        }
        await nextTurn();
      }
      await Promise.all(pending);
      const { commits, batches } = store.stats();
      expect(batches).toBe(1000);
      expect(commits).toBeLessThan(batches / 5);
      expect(await keysIn(store, prefixRange(["t"]))).toHaveLength(1000);
    });

    it("clearRange deletes the keys within the bounds only", async () => {
      const store = await seeded(10);
      await store.batch([
        { type: "put", key: k("k", "a", 1), value: bytes(1) },
        { type: "put", key: k("k", "ab"), value: bytes(1) },
      ]);
      await store.clearRange({ gte: k("n", 2), lt: k("n", 5) });
      expect((await keysIn(store, prefixRange(["n"]))).map((t) => t[1])).toEqual([0, 1, 5, 6, 7, 8, 9]);
      await store.clearRange({ gt: k("n", 6), lte: k("n", 8) });
      expect((await keysIn(store, prefixRange(["n"]))).map((t) => t[1])).toEqual([0, 1, 5, 6, 9]);
      await store.clearRange(prefixRange(["k", "a"]));
      expect(await keysIn(store, prefixRange(["k"]))).toEqual([["k", "ab"]]);
      // An empty range is fine.
      await store.clearRange(prefixRange(["nothing"]));
      await store.clearRange({});
      expect(await keysIn(store)).toEqual([]);
      expect(store.stats().commits).toBeGreaterThanOrEqual(2);
    });

    it("close waits for pending batches; afterwards every method rejects", async () => {
      const store = await fresh();
      const pending = store.batch([{ type: "put", key: k("p"), value: bytes(1) }]);
      const closed = store.close();
      await expect(pending).resolves.toBeUndefined();
      await closed;
      await expectUnavailable(store.get(k("p")));
      await expectUnavailable(store.getMany([k("p")]));
      await expectUnavailable(store.batch([{ type: "put", key: k("q"), value: bytes(1) }]));
      await expectUnavailable(store.batch([]));
      await expectUnavailable(store.clearRange({}));
      await expectUnavailable(collect(store.range({})));
      await expect(store.close()).resolves.toBeUndefined();
      expect(store.stats()).toEqual({ commits: 1, batches: 1 });
    });

    it("calls made while close is in progress reject", async () => {
      const store = await fresh();
      const pending = store.batch([{ type: "put", key: k("p"), value: bytes(1) }]);
      const closed = store.close();
      await expectUnavailable(store.batch([{ type: "put", key: k("q"), value: bytes(1) }]));
      await expectUnavailable(store.get(k("p")));
      await Promise.all([pending, closed]);
    });

    it("close waits for a clearRange in progress", async () => {
      const store = await seeded(2000);
      const clearing = store.clearRange(prefixRange(["n"]));
      const closed = store.close();
      await expect(clearing).resolves.toBeUndefined();
      await closed;
    });

    it("an iteration in progress rejects once the store closes", async () => {
      const store = await seeded(3000);
      const iterator = store.range({})[Symbol.asyncIterator]();
      expect((await iterator.next()).done).toBe(false);
      await store.close();
      await expectUnavailable(
        (async () => {
          for (;;) if ((await iterator.next()).done) return;
        })(),
      );
    });

    it("packed tuples sort in tuple order: strings, integers, nested arrays", async () => {
      const store = await fresh();
      const sorted: KeyPart[][] = [
        ["d", -1_000_000],
        ["d", -1],
        ["d", 0],
        ["d", 1],
        ["d", 255],
        ["d", 256],
        ["d", 1_700_000_000_000],
        ["d", 1_700_000_000_001],
        ["d", Number.MAX_SAFE_INTEGER],
        ["i", "ns", "counter", []],
        ["i", "ns", "counter", ["a"]],
        ["i", "ns", "counter", ["a", "b"]],
        ["i", "ns", "counter", ["ab"]],
        ["i", "ns", "counter", ["b"]],
        ["k", ""],
        ["k", "a"],
        ["k", "a", 1],
        ["k", "a\u0000"],
        ["k", "ab"],
        ["k", "b"],
        ["k", "é"],
        ["k", "日本"],
      ];
      const shuffled = [...sorted].sort(() => Math.random() - 0.5);
      await store.batch(shuffled.map((t) => ({ type: "put", key: packKey(t), value: bytes() })));
      expect(await keysIn(store)).toEqual(sorted);
      expect(await keysIn(store, { reverse: true })).toEqual([...sorted].reverse());
    });

    it("stats count commits and caller batches", async () => {
      const store = await fresh();
      expect(store.stats()).toEqual({ commits: 0, batches: 0 });
      await store.batch([{ type: "put", key: text("a"), value: text("1") }]);
      await Promise.all([
        store.batch([{ type: "put", key: text("b"), value: text("1") }]),
        store.batch([{ type: "put", key: text("c"), value: text("1") }]),
      ]);
      const { commits, batches } = store.stats();
      expect(batches).toBe(3);
      expect(commits).toBe(2);
    });
  });
}
