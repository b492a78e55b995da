/**
 * The actor directory and destruction as a user sees them: get-or-create under concurrency makes
 * exactly one actor, create refuses an existing key, a destroyed key starts over, and destroy
 * leaves nothing of the actor in the store.
 */
import { describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import { Subspace, unpackKey } from "../store/index.js";
import {
  NS,
  actorId,
  expectEnclaveError,
  startEngine,
  storedKeys,
  storedValue,
  until,
} from "./testing/harness.js";

describe("get-or-create", () => {
  it("100 concurrent callers for one new key create exactly one actor", async () => {
    const creates: unknown[] = [];
    let wakes = 0;
    const room = actor({
      createState: (_c, input: { topic: string }) => ({ topic: input.topic }),
      onCreate: (_c, input) => void creates.push(input),
      onWake: () => void wakes++,
      actions: { topic: (c) => c.state.topic },
    });
    const { engine } = await startEngine({ room });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        engine.getOrCreate(NS, "room", ["lobby", "1"], { topic: `t${i}` }, "getOrCreate"),
      ),
    );
    const ids = new Set(results.map((r) => r.record.actorId));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(creates).toHaveLength(1);
    expect(wakes).toBe(1);
    const winner = results.find((r) => r.created)!;
    // The creator's input is the one the actor was built from.
    expect(await engine.action(NS, winner.record.actorId, "topic", [])).toEqual(
      (creates[0] as { topic: string }).topic,
    );
    expect(winner.record).toMatchObject({ name: "room", key: ["lobby", "1"], namespace: NS });
    // A string key and the one-part list key are the same key.
    const { record } = await engine.getOrCreate(NS, "room", "solo", { topic: "x" }, "getOrCreate");
    expect((await engine.getOrCreate(NS, "room", ["solo"], undefined, "getOrCreate")).record.actorId).toBe(
      record.actorId,
    );
  });

  it("create on an existing key is actor/already_exists (409); concurrent creates make one actor", async () => {
    const thing = actor({ state: { n: 0 }, actions: {} });
    const { engine } = await startEngine({ thing });
    const { record, created } = await engine.getOrCreate(NS, "thing", "k", undefined, "create");
    expect(created).toBe(true);
    const e = await expectEnclaveError(
      engine.getOrCreate(NS, "thing", "k", undefined, "create"),
      "actor",
      "already_exists",
      409,
    );
    expect(e.metadata).toEqual({ actorId: record.actorId });

    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => engine.getOrCreate(NS, "thing", "fresh", undefined, "create")),
    );
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === "rejected") expect(o.reason).toMatchObject({ group: "actor", code: "already_exists" });
    }
  });

  it("the same key under another type, or in another namespace, is another actor", async () => {
    const a = actor({ state: {}, actions: {} });
    const b = actor({ state: {}, actions: {} });
    const { engine } = await startEngine({ a, b });
    const ids = new Set([
      (await engine.getOrCreate(NS, "a", "k", undefined, "getOrCreate")).record.actorId,
      (await engine.getOrCreate(NS, "b", "k", undefined, "getOrCreate")).record.actorId,
      (await engine.getOrCreate("other", "a", "k", undefined, "getOrCreate")).record.actorId,
    ]);
    expect(ids.size).toBe(3);
    // An actor is not reachable from another namespace.
    const inOther = (await engine.getOrCreate("other", "a", "k", undefined, "getOrCreate")).record.actorId;
    await expectEnclaveError(engine.getActor(NS, inOther), "actor", "not_found", 404);
    await expectEnclaveError(engine.action(NS, inOther, "x", []), "actor", "not_found", 404);
  });

  it("an unknown actor type is actor/type_not_found", async () => {
    const a = actor({ state: {}, actions: {} });
    const { engine } = await startEngine({ a });
    const e = await expectEnclaveError(
      engine.getOrCreate(NS, "nope", "k", undefined, "getOrCreate"),
      "actor",
      "type_not_found",
      404,
    );
    expect(e.metadata).toEqual({ name: "nope", types: ["a"] });
  });

  it("a failing createState or onCreate fails the creator and leaves no actor behind", async () => {
    let fail = true;
    const picky = actor({
      // `_c: unknown`: TypeScript infers the state type from createState only if `c` is annotated.
      createState: (_c: unknown, input: { ok: boolean }) => {
        if (!input.ok) throw new Error("bad input");
        return { made: true };
      },
      onCreate: () => {
        if (fail) throw new Error("onCreate failed");
      },
      actions: { made: (c) => c.state.made },
    });
    const { engine } = await startEngine({ picky });
    await expect(engine.getOrCreate(NS, "picky", "k", { ok: false }, "getOrCreate")).rejects.toThrow(
      "bad input",
    );
    await expect(engine.getOrCreate(NS, "picky", "k", { ok: true }, "getOrCreate")).rejects.toThrow(
      "onCreate failed",
    );
    expect((await engine.listActors(NS, { limit: 10 })).records).toEqual([]);
    fail = false;
    const { record, created } = await engine.getOrCreate(NS, "picky", "k", { ok: true }, "getOrCreate");
    expect(created).toBe(true);
    expect(await engine.action(NS, record.actorId, "made", [])).toBe(true);
  });
});

describe("destroy", () => {
  const kvActor = (destroys: string[]) =>
    actor({
      state: { n: 0 },
      onDestroy: (c) => void destroys.push(c.actorId),
      actions: {
        fill: async (c, n: number) => {
          c.state.n = n;
          await c.kv.putMany(Array.from({ length: 10 }, (_, i): [string, string] => [`k${i}`, `v${i}`]));
          await c.kv.put(new Uint8Array([0xff, 0xff]), new Uint8Array([1]));
          await c.schedule.after(3_600_000, "noop");
          await c.schedule.after(7_200_000, "noop");
        },
        get: async (c) => ({ n: c.state.n, keys: (await c.kv.list()).length }),
        selfDestruct: (c) => {
          c.destroy();
          return "bye";
        },
        noop: () => undefined,
      },
    });

  it("removes the actor's state, KV and scheduled calls from the store, and only its own", async () => {
    const destroys: string[] = [];
    const def = kvActor(destroys);
    const started = await startEngine({ def });
    const { engine } = started;
    const doomed = await actorId(engine, "def", "doomed");
    const kept = await actorId(engine, "def", "kept");
    await engine.action(NS, doomed, "fill", [1]);
    await engine.action(NS, kept, "fill", [2]);

    await engine.destroy(NS, doomed);
    expect(destroys).toEqual([doomed]);
    await expectEnclaveError(engine.getActor(NS, doomed), "actor", "not_found", 404);
    await expectEnclaveError(engine.action(NS, doomed, "get", []), "actor", "not_found", 404);
    await expectEnclaveError(engine.sleep(NS, doomed), "actor", "not_found", 404);
    await expectEnclaveError(engine.destroy(NS, doomed), "actor", "not_found", 404);
    await started.close(); // right away: nothing may be left half-removed

    const dir = started.dir;
    expect(await storedValue(dir, [Subspace.state, doomed])).toBeUndefined();
    expect(await storedKeys(dir, [Subspace.kv, doomed])).toEqual([]);
    expect(await storedKeys(dir, [Subspace.alarm, doomed])).toEqual([]);
    const due = (await storedKeys(dir, [Subspace.alarmDue])).map((k) => unpackKey(k)[2]);
    expect(due).toEqual([kept, kept]);
    expect(await storedKeys(dir, [Subspace.garbage])).toEqual([]);
    const index = await storedKeys(dir, [Subspace.actorIndex]);
    expect(index.map((k) => unpackKey(k).slice(1))).toEqual([[NS, "def", ["kept"]]]);
    // The other actor is untouched.
    expect(await storedValue(dir, [Subspace.state, kept])).toBeDefined();
    expect(await storedKeys(dir, [Subspace.kv, kept])).toHaveLength(11);
    expect(await storedKeys(dir, [Subspace.alarm, kept])).toHaveLength(2);

    // Still gone after a restart; the other actor still has everything.
    const again = await startEngine({ def }, { dir });
    await expectEnclaveError(again.engine.getActor(NS, doomed), "actor", "not_found");
    expect(await again.engine.action(NS, kept, "get", [])).toEqual({ n: 2, keys: 11 });
  });

  it("getOrCreate of a destroyed key gives a new actor with fresh state", async () => {
    const destroys: string[] = [];
    const def = kvActor(destroys);
    const { engine } = await startEngine({ def });
    const first = await engine.getOrCreate(NS, "def", "k", undefined, "getOrCreate");
    await engine.action(NS, first.record.actorId, "fill", [7]);
    await engine.destroy(NS, first.record.actorId);
    const second = await engine.getOrCreate(NS, "def", "k", undefined, "getOrCreate");
    expect(second.created).toBe(true);
    expect(second.record.actorId).not.toBe(first.record.actorId);
    expect(await engine.action(NS, second.record.actorId, "get", [])).toEqual({ n: 0, keys: 0 });
    expect(engine.status(first.record)).toBe("destroyed");
  });

  it("destroying a sleeping actor runs onDestroy once and removes it", async () => {
    const destroys: string[] = [];
    const def = kvActor(destroys);
    const { engine } = await startEngine({ def });
    const id = await actorId(engine, "def", "k");
    await engine.action(NS, id, "fill", [3]);
    await engine.sleep(NS, id);
    await engine.destroy(NS, id);
    expect(destroys).toEqual([id]);
    await expectEnclaveError(engine.getActor(NS, id), "actor", "not_found");
  });

  it("an action in flight when destroy is called finishes and answers; later calls find no actor", async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const log: string[] = [];
    const slow = actor({
      state: { n: 0 },
      onDestroy: () => void log.push("destroy"),
      actions: {
        slow: async (c) => {
          await released;
          log.push("action done");
          return ++c.state.n;
        },
      },
    });
    const { engine } = await startEngine({ slow });
    const id = await actorId(engine, "slow", "k");
    const inFlight = engine.action(NS, id, "slow", []);
    await new Promise((r) => setTimeout(r, 50));
    const destroying = engine.destroy(NS, id);
    await new Promise((r) => setTimeout(r, 50));
    release();
    expect(await inFlight).toBe(1);
    await destroying;
    expect(log).toEqual(["action done", "destroy"]);
    await expectEnclaveError(engine.action(NS, id, "slow", []), "actor", "not_found");
  });

  it("c.destroy() in an action answers the action, then destroys the actor", async () => {
    const destroys: string[] = [];
    const def = kvActor(destroys);
    const started = await startEngine({ def });
    const { engine } = started;
    const id = await actorId(engine, "def", "k");
    await engine.action(NS, id, "fill", [3]);
    expect(await engine.action(NS, id, "selfDestruct", [])).toBe("bye");
    await until("destroyed", () =>
      engine.getActor(NS, id).then(
        () => false,
        () => true,
      ),
    );
    expect(destroys).toEqual([id]);
    await started.close();
    expect(await storedValue(started.dir, [Subspace.state, id])).toBeUndefined();
    expect(await storedKeys(started.dir, [Subspace.kv, id])).toEqual([]);
    expect(await storedKeys(started.dir, [Subspace.alarm, id])).toEqual([]);
  });
});
