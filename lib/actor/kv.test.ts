/**
 * `c.kv` as a user sees it, on the on-disk store: strings and bytes, batch calls, prefix listing
 * in key order with limit and reverse, and one actor's keys never visible to another.
 */
import { describe, expect, it } from "vitest";
import { NS, actorId, expectEnclaveError, startEngine } from "../engine/testing/harness.js";
import { actor, systemKv, type KvEntry } from "./index.js";

type Key = string | Uint8Array;
const decoder = new TextDecoder();
const bytes = (...b: number[]) => new Uint8Array(b);
/** Entries as [key, value] text pairs (keys shown as hex when they are not text). */
const show = (entries: KvEntry[]) =>
  entries.map((e) => [
    e.key.every((b) => b >= 0x20 && b < 0x7f) ? decoder.decode(e.key) : Buffer.from(e.key).toString("hex"),
    decoder.decode(e.value),
  ]);

const store = actor({
  state: {},
  actions: {
    get: (c, k: Key) => c.kv.get(k),
    getText: (c, k: Key) => c.kv.getText(k),
    getMany: (c, keys: Key[]) => c.kv.getMany(keys),
    put: (c, k: Key, v: Key) => c.kv.put(k, v),
    putMany: (c, entries: [Key, Key][]) => c.kv.putMany(entries),
    delete: (c, k: Key) => c.kv.delete(k),
    deleteMany: (c, keys: Key[]) => c.kv.deleteMany(keys),
    list: async (c, prefix?: Key, options?: { limit?: number; reverse?: boolean }) =>
      show(await c.kv.list(prefix, options)),
    listRaw: (c, prefix?: Key) => c.kv.list(prefix),
  },
});

describe("c.kv", () => {
  it("puts and gets strings and bytes", async () => {
    const { engine } = await startEngine({ store });
    const id = await actorId(engine, "store", "k");
    const call = (name: string, ...args: unknown[]) => engine.action(NS, id, name, args);

    expect(await call("get", "missing")).toBeUndefined();
    expect(await call("getText", "missing")).toBeUndefined();
    await call("put", "greeting", "héllo ✓");
    expect(await call("getText", "greeting")).toBe("héllo ✓");
    expect(await call("get", "greeting")).toEqual(new TextEncoder().encode("héllo ✓"));

    await call("put", bytes(0, 1, 255), bytes(9, 0, 255));
    expect(await call("get", bytes(0, 1, 255))).toEqual(bytes(9, 0, 255));
    // A string key and the same UTF-8 bytes are the same key.
    expect(await call("getText", bytes(...new TextEncoder().encode("greeting")))).toBe("héllo ✓");
    await call("put", "empty", "");
    expect(await call("get", "empty")).toEqual(bytes());
    expect(await call("getText", "empty")).toBe("");

    await call("put", "greeting", "overwritten");
    expect(await call("getText", "greeting")).toBe("overwritten");
    expect(await call("getMany", ["greeting", "missing", bytes(0, 1, 255)])).toEqual([
      new TextEncoder().encode("overwritten"),
      undefined,
      bytes(9, 0, 255),
    ]);
    expect(await call("getMany", [])).toEqual([]);
  });

  it("putMany, delete and deleteMany", async () => {
    const { engine } = await startEngine({ store });
    const id = await actorId(engine, "store", "k");
    const call = (name: string, ...args: unknown[]) => engine.action(NS, id, name, args);

    await call("putMany", [
      ["a", "1"],
      ["b", "2"],
      [bytes(0xff), "3"],
      ["c", "4"],
    ]);
    expect(await call("list")).toEqual([
      ["a", "1"],
      ["b", "2"],
      ["c", "4"],
      ["ff", "3"],
    ]);
    await call("delete", "b");
    await call("delete", "never-there");
    expect(await call("getText", "b")).toBeUndefined();
    await call("deleteMany", ["a", bytes(0xff), "nope"]);
    expect(await call("list")).toEqual([["c", "4"]]);
  });

  it("lists by prefix in byte order, with limit and reverse", async () => {
    const { engine } = await startEngine({ store });
    const id = await actorId(engine, "store", "k");
    const call = (name: string, ...args: unknown[]) => engine.action(NS, id, name, args);

    await call("putMany", [
      ["user/2", "two"],
      ["user/10", "ten"],
      ["user/1", "one"],
      ["users", "not under user/"],
    ]);
    await call("putMany", [
      ["user0", "after user/ in bytes"],
      ["a", "before"],
      [bytes(0x75, 0x73, 0x65, 0x72, 0x2f, 0xff), "user/ then 0xff"],
    ]);
    expect(await call("list", "user/")).toEqual([
      ["user/1", "one"],
      ["user/10", "ten"],
      ["user/2", "two"],
      ["757365722fff", "user/ then 0xff"],
    ]);
    expect(await call("list", "user/", { limit: 2 })).toEqual([
      ["user/1", "one"],
      ["user/10", "ten"],
    ]);
    expect(await call("list", "user/", { reverse: true, limit: 2 })).toEqual([
      ["757365722fff", "user/ then 0xff"],
      ["user/2", "two"],
    ]);
    expect(await call("list", new TextEncoder().encode("user/1"))).toEqual([
      ["user/1", "one"],
      ["user/10", "ten"],
    ]);
    expect(await call("list", "zzz")).toEqual([]);
    expect((await call("list")) as unknown[]).toHaveLength(7);
    expect(((await call("list", undefined, { reverse: true })) as string[][])[0]).toEqual([
      "users",
      "not under user/",
    ]);
    // Keys come back as the bytes that were put, relative to the actor (no engine prefix).
    const raw = (await call("listRaw", "a")) as KvEntry[];
    expect(raw).toEqual([{ key: new TextEncoder().encode("a"), value: new TextEncoder().encode("before") }]);
  });

  it("refuses an empty key", async () => {
    const { engine } = await startEngine({ store });
    const id = await actorId(engine, "store", "k");
    await expectEnclaveError(engine.action(NS, id, "put", ["", "v"]), "request", "invalid", 400);
    await expectEnclaveError(engine.action(NS, id, "get", [bytes()]), "request", "invalid", 400);
  });

  it("one actor's keys are never visible to another", async () => {
    const other = actor({
      state: {},
      actions: { list: async (c) => show(await c.kv.list()), get: (c, k: string) => c.kv.getText(k) },
    });
    const started = await startEngine({ store, other });
    const { engine } = started;
    const a = await actorId(engine, "store", "a");
    const b = await actorId(engine, "store", "b");
    const o = await actorId(engine, "other", "a");
    await engine.action(NS, a, "putMany", [
      [
        ["shared", "from a"],
        ["only-a", "x"],
        [bytes(0xff, 0xff), "a high"],
      ],
    ]);
    await engine.action(NS, b, "put", ["shared", "from b"]);

    expect(await engine.action(NS, a, "getText", ["shared"])).toBe("from a");
    expect(await engine.action(NS, b, "getText", ["shared"])).toBe("from b");
    expect(await engine.action(NS, b, "getText", ["only-a"])).toBeUndefined();
    expect(await engine.action(NS, b, "list", [])).toEqual([["shared", "from b"]]);
    expect(await engine.action(NS, b, "list", [bytes(0xff)])).toEqual([]);
    expect(await engine.action(NS, o, "list", [])).toEqual([]);
    expect(await engine.action(NS, o, "get", ["shared"])).toBeUndefined();

    // Deleting one actor's key leaves the other's; destroying an actor leaves the other's.
    await engine.action(NS, b, "delete", ["shared"]);
    expect(await engine.action(NS, a, "getText", ["shared"])).toBe("from a");
    await engine.action(NS, b, "put", ["shared", "from b"]);
    await engine.destroy(NS, a);
    expect(await engine.action(NS, b, "list", [])).toEqual([["shared", "from b"]]);

    // And across a restart.
    await started.close();
    const again = await startEngine({ store, other }, { dir: started.dir });
    expect(await again.engine.action(NS, b, "list", [])).toEqual([["shared", "from b"]]);
  });
});

describe("system keys", () => {
  it("keys under the system prefix are refused, so c.kv cannot overwrite workspace files", async () => {
    const { engine } = await startEngine({ store });
    const id = await actorId(engine, "store", "sys");
    const call = (name: string, ...args: unknown[]) => engine.action(NS, id, name, args);
    const reserved = "\u0000enclave\u0000fs:/home/user\u0000x";
    await expectEnclaveError(call("put", reserved, "v"), "request", "invalid", 400);
    await expectEnclaveError(call("delete", reserved), "request", "invalid", 400);
    await expectEnclaveError(call("get", reserved), "request", "invalid", 400);
    // Neighbours of the prefix are ordinary keys.
    await call("put", "\u0000enclav", "fine");
    expect(await call("getText", "\u0000enclav")).toBe("fine");
  });
});

it("system entries never show in c.kv.list, with or without a limit", async () => {
  const mixed = actor({
    state: {},
    actions: {
      fill: async (c) => {
        await systemKv(c, "t").commit([
          { key: bytes(1), value: bytes(1) },
          { key: bytes(2), value: bytes(2) },
        ]);
        await c.kv.putMany([
          ["a", "1"],
          ["b", "2"],
        ]);
      },
      list: async (c, limit?: number) => show(await c.kv.list(undefined, limit ? { limit } : {})),
      listNul: async (c) => show(await c.kv.list("\u0000")),
      system: async (c) => (await systemKv(c, "t").list()).length,
    },
  });
  const { engine } = await startEngine({ mixed });
  const id = await actorId(engine, "mixed", "m");
  await engine.action(NS, id, "fill", []);
  expect(await engine.action(NS, id, "list", [])).toEqual([
    ["a", "1"],
    ["b", "2"],
  ]);
  expect(await engine.action(NS, id, "list", [1])).toEqual([["a", "1"]]);
  expect(await engine.action(NS, id, "listNul", [])).toEqual([]);
  expect(await engine.action(NS, id, "system", [])).toBe(2);
});
