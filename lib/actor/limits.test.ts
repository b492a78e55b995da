/**
 * Limits and errors as a user sees them through the engine: each limit gives its own clear
 * error, a refused change leaves the actor as it was, and actor errors reach the caller as
 * documented (UserError intact, timeouts and unknown actions as engine errors).
 */
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { NS, actorId, expectEnclaveError, sleepMs, startEngine } from "../engine/testing/harness.js";
import { actor } from "./index.js";

const limits = {
  actorKeyBytes: 64,
  actorKeyParts: 4,
  inputBytes: 256,
  stateBytes: 1024,
  kvKeyBytes: 32,
  kvValueBytes: 128,
  kvBatchEntries: 4,
  kvBatchBytes: 300,
};

const box = actor({
  // `_c: unknown`: TypeScript infers the state type from createState only if `c` is annotated.
  createState: (_c: unknown, input: { label?: string } | undefined) => ({
    label: input?.label ?? "",
    items: [] as string[],
    extra: undefined as unknown,
  }),
  actions: {
    add: (c, item: string) => {
      c.state.items.push(item);
      return c.state.items.length;
    },
    setExtra: (c, kind: "map" | "set" | "function" | "bigint") => {
      c.state.extra =
        kind === "map"
          ? new Map([["a", 1]])
          : kind === "set"
            ? new Set([1])
            : kind === "function"
              ? () => 1
              : 10n;
    },
    state: (c) => c.state,
    put: (c, key: string, value: string) => c.kv.put(key, value),
    putMany: (c, entries: [string, string][]) => c.kv.putMany(entries),
    deleteMany: (c, keys: string[]) => c.kv.deleteMany(keys),
    get: (c, key: string) => c.kv.getText(key),
    count: async (c) => (await c.kv.list()).length,
  },
});

describe("limits", () => {
  it("actor keys: too many parts or too many bytes is limit/key_too_large; a non-string key is actor/invalid_key", async () => {
    const { engine } = await startEngine({ box }, { limits });
    let e = await expectEnclaveError(
      engine.getOrCreate(NS, "box", ["a", "b", "c", "d", "e"], undefined, "getOrCreate"),
      "limit",
      "key_too_large",
      400,
    );
    expect(e.metadata).toEqual({ limit: 4 });
    e = await expectEnclaveError(
      engine.getOrCreate(NS, "box", "x".repeat(65), undefined, "getOrCreate"),
      "limit",
      "key_too_large",
      400,
    );
    expect(e.metadata).toEqual({ limit: 64 });
    // Bytes, not characters; all parts together.
    await expectEnclaveError(
      engine.getOrCreate(NS, "box", ["é".repeat(20), "é".repeat(13)], undefined, "getOrCreate"),
      "limit",
      "key_too_large",
    );
    await expectEnclaveError(
      engine.getOrCreate(NS, "box", [1, 2], undefined, "getOrCreate"),
      "actor",
      "invalid_key",
      400,
    );
    // At the limits exactly is fine.
    await engine.getOrCreate(NS, "box", ["a", "b", "c", "d"], undefined, "getOrCreate");
    await engine.getOrCreate(NS, "box", ["é".repeat(16), "x".repeat(32)], undefined, "getOrCreate");
    expect((await engine.listActors(NS, { limit: 10 })).records).toHaveLength(2);
  });

  it("input too large is limit/input_too_large (413) and creates nothing", async () => {
    const { engine } = await startEngine({ box }, { limits });
    const e = await expectEnclaveError(
      engine.getOrCreate(NS, "box", "k", { label: "x".repeat(300) }, "getOrCreate"),
      "limit",
      "input_too_large",
      413,
    );
    expect(e.metadata).toEqual({ limit: 256 });
    expect((await engine.listActors(NS, { limit: 10 })).records).toEqual([]);
    const { record } = await engine.getOrCreate(NS, "box", "k", { label: "small" }, "getOrCreate");
    expect(await engine.action(NS, record.actorId, "state", [])).toMatchObject({ label: "small" });
  });

  it("state too large is limit/state_too_large and the previous state is kept", async () => {
    const started = await startEngine({ box }, { limits });
    const { engine } = started;
    const id = await actorId(engine, "box", "k");
    expect(await engine.action(NS, id, "add", ["small"])).toBe(1);
    const e = await expectEnclaveError(
      engine.action(NS, id, "add", ["x".repeat(2000)]),
      "limit",
      "state_too_large",
      413,
    );
    expect(e.metadata).toEqual({ limit: 1024 });
    // The actor goes on from the state before the refused change, in memory and on disk.
    expect(await engine.action(NS, id, "state", [])).toEqual({ label: "", items: ["small"] });
    expect(await engine.action(NS, id, "add", ["next"])).toBe(2);
    await engine.sleep(NS, id);
    expect(await engine.action(NS, id, "state", [])).toEqual({ label: "", items: ["small", "next"] });
    await started.close();
    const again = await startEngine({ box }, { limits, dir: started.dir });
    expect(await again.engine.action(NS, id, "state", [])).toEqual({ label: "", items: ["small", "next"] });
  });

  it("a state JSON cannot hold (Map, Set, function, bigint) is actor/state_not_serializable and the previous state is kept", async () => {
    const { engine } = await startEngine({ box }, { limits });
    const id = await actorId(engine, "box", "k");
    await engine.action(NS, id, "add", ["kept"]);
    for (const kind of ["map", "set", "function", "bigint"]) {
      const e = await expectEnclaveError(
        engine.action(NS, id, "setExtra", [kind]),
        "actor",
        "state_not_serializable",
      );
      expect(e.message).toContain("extra");
      expect(await engine.action(NS, id, "state", [])).toEqual({ label: "", items: ["kept"] });
    }
    await engine.sleep(NS, id);
    expect(await engine.action(NS, id, "state", [])).toEqual({ label: "", items: ["kept"] });
  });

  it("KV key, value and batch limits give their own errors and write nothing", async () => {
    const { engine } = await startEngine({ box }, { limits });
    const id = await actorId(engine, "box", "k");
    let e = await expectEnclaveError(
      engine.action(NS, id, "put", ["k".repeat(33), "v"]),
      "limit",
      "kv_key_too_large",
      400,
    );
    expect(e.metadata).toEqual({ limit: 32 });
    e = await expectEnclaveError(
      engine.action(NS, id, "put", ["k", "v".repeat(129)]),
      "limit",
      "kv_value_too_large",
      413,
    );
    expect(e.metadata).toEqual({ limit: 128 });
    const five = Array.from({ length: 5 }, (_, i): [string, string] => [`k${i}`, "v"]);
    e = await expectEnclaveError(
      engine.action(NS, id, "putMany", [five]),
      "limit",
      "kv_batch_too_large",
      413,
    );
    expect(e.metadata).toEqual({ limit: 4 });
    const heavy = Array.from({ length: 3 }, (_, i): [string, string] => [`k${i}`, "v".repeat(100)]);
    e = await expectEnclaveError(
      engine.action(NS, id, "putMany", [heavy]),
      "limit",
      "kv_batch_too_large",
      413,
    );
    expect(e.metadata).toEqual({ limit: 300 });
    // One bad entry refuses the whole batch.
    await expectEnclaveError(
      engine.action(NS, id, "putMany", [
        [
          ["ok", "v"],
          ["k".repeat(40), "v"],
        ],
      ]),
      "limit",
      "kv_key_too_large",
    );
    await expectEnclaveError(
      engine.action(NS, id, "deleteMany", [Array.from({ length: 5 }, (_, i) => `k${i}`)]),
      "limit",
      "kv_batch_too_large",
    );
    expect(await engine.action(NS, id, "count", [])).toBe(0);
    // At the limits exactly is fine.
    await engine.action(NS, id, "put", ["k".repeat(32), "v".repeat(128)]);
    await engine.action(NS, id, "putMany", [
      Array.from({ length: 4 }, (_, i): [string, string] => [`k${i}`, "v"]),
    ]);
    expect(await engine.action(NS, id, "count", [])).toBe(5);
  });
});

describe("action errors", () => {
  it("an action running past actionTimeout is actor/action_timed_out (504); the actor stays usable", async () => {
    const slowpoke = actor({
      state: { n: 0 },
      actions: {
        hang: async () => {
          await sleepMs(1500);
          return "late";
        },
        inc: (c) => ++c.state.n,
      },
      options: { actionTimeout: 200 },
    });
    const { engine } = await startEngine({ slowpoke });
    const id = await actorId(engine, "slowpoke", "k");
    const t0 = Date.now();
    const e = await expectEnclaveError(engine.action(NS, id, "hang", []), "actor", "action_timed_out", 504);
    expect(Date.now() - t0).toBeLessThan(1400);
    expect(e.metadata).toEqual({ timeoutMs: 200 });
    expect(e.message).toContain("hang");
    expect(await engine.action(NS, id, "inc", [])).toBe(1);
  });

  it("the engine-wide default action timeout applies when the actor sets none", async () => {
    const slowpoke = actor({ state: {}, actions: { hang: () => sleepMs(1500) } });
    const { engine } = await startEngine({ slowpoke }, { actors: { actionTimeoutMs: 200 } });
    const id = await actorId(engine, "slowpoke", "k");
    await expectEnclaveError(engine.action(NS, id, "hang", []), "actor", "action_timed_out", 504);
  });

  it("an unknown action is actor/action_not_found (404), naming the actions there are", async () => {
    const { engine } = await startEngine({ box }, { limits });
    const id = await actorId(engine, "box", "k");
    const e = await expectEnclaveError(engine.action(NS, id, "nope", []), "actor", "action_not_found", 404);
    expect(e.metadata).toMatchObject({ action: "nope", actions: expect.arrayContaining(["add", "state"]) });
    // Inherited object properties are not actions.
    await expectEnclaveError(engine.action(NS, id, "hasOwnProperty", []), "actor", "action_not_found");
    await expectEnclaveError(engine.action(NS, id, "__proto__", []), "actor", "action_not_found");
  });

  it("a UserError reaches the caller as thrown: message, code and metadata", async () => {
    const strict = actor({
      state: { n: 0 },
      actions: {
        refuse: async (c, amount: number) => {
          await sleepMs(1);
          throw new UserError(`cannot withdraw ${amount}`, {
            code: "insufficient_funds",
            metadata: { balance: c.state.n },
          });
        },
        plain: () => {
          throw new UserError("no code");
        },
      },
    });
    const { engine } = await startEngine({ strict });
    const id = await actorId(engine, "strict", "k");
    const e = await engine.action(NS, id, "refuse", [50]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).toWire()).toEqual({
      group: "user",
      code: "insufficient_funds",
      message: "cannot withdraw 50",
      metadata: { balance: 0 },
    });
    const plain = await engine.action(NS, id, "plain", []).catch((x: unknown) => x);
    expect((plain as UserError).toWire()).toEqual({ group: "user", code: "user_error", message: "no code" });
  });
});
