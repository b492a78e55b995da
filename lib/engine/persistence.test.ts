/**
 * Persistence as a user relies on it: state, KV and scheduled calls survive a graceful restart;
 * everything acknowledged survives kill -9 (a real child process on a real data directory);
 * an action's writes are in the store by the time its promise resolves (output gate).
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import { Subspace, packKey, prefixRange } from "../store/index.js";
import { decodeWire } from "../wire/index.js";
import { crashCounter } from "./testing/crash-actors.js";
import { NS, actorId, runChild, startEngine, tempDir } from "./testing/harness.js";

const decoder = new TextDecoder();
const bytes = (...b: number[]) => new Uint8Array(b);

function kvStoreKey(id: string, userKey: Uint8Array | string): Uint8Array {
  const base = packKey([Subspace.kv, id]);
  const user = typeof userKey === "string" ? new TextEncoder().encode(userKey) : userKey;
  const out = new Uint8Array(base.length + user.length);
  out.set(base);
  out.set(user, base.length);
  return out;
}

const notebook = actor({
  state: { title: "", pages: 0, tags: [] as string[], blob: new Uint8Array(0) },
  actions: {
    write: async (c) => {
      c.state.title = "déjà vu ✓";
      c.state.pages = 3;
      c.state.tags.push("a", "b");
      c.state.blob = bytes(0, 1, 254, 255);
      await c.kv.put("text", "hello");
      await c.kv.put(bytes(0, 255), bytes(1, 2, 3));
      await c.kv.putMany([
        ["list/1", "one"],
        ["list/2", "two"],
      ]);
      const far = await c.schedule.after(3_600_000, "remind", "in an hour", { n: 1 });
      const at = await c.schedule.at(Date.now() + 7_200_000, "remind", "in two hours");
      return { far, at };
    },
    read: async (c) => ({
      state: c.state,
      text: await c.kv.getText("text"),
      raw: await c.kv.get(bytes(0, 255)),
      list: (await c.kv.list("list/")).map((e) => [decoder.decode(e.key), decoder.decode(e.value)]),
      scheduled: await c.schedule.list(),
    }),
    remind: () => undefined,
  },
});

describe("graceful restart", () => {
  it("keeps state, KV and scheduled calls across close and createEngine on the same directory", async () => {
    const first = await startEngine({ notebook });
    const id = await actorId(first.engine, "notebook", "n");
    const ids = (await first.engine.action(NS, id, "write", [])) as { far: string; at: string };
    const before = await first.engine.action(NS, id, "read", []);
    await first.close();

    const second = await startEngine({ notebook }, { dir: first.dir });
    const after = (await second.engine.action(NS, id, "read", [])) as Record<string, unknown>;
    expect(after).toEqual(before);
    expect(after).toMatchObject({
      state: { title: "déjà vu ✓", pages: 3, tags: ["a", "b"], blob: bytes(0, 1, 254, 255) },
      text: "hello",
      raw: bytes(1, 2, 3),
      list: [
        ["list/1", "one"],
        ["list/2", "two"],
      ],
    });
    const scheduled = after.scheduled as { id: string; action: string; args: unknown[] }[];
    expect(scheduled.map((s) => [s.id, s.action, s.args])).toEqual([
      [ids.far, "remind", ["in an hour", { n: 1 }]],
      [ids.at, "remind", ["in two hours"]],
    ]);
    // The same actor is found by its key after the restart.
    expect(
      (await second.engine.getOrCreate(NS, "notebook", "n", undefined, "getOrCreate")).record.actorId,
    ).toBe(id);
  });
});

describe("kill -9", () => {
  it("every acknowledged state change and KV write survives SIGKILL of the engine process", async () => {
    const dir = await tempDir();
    const child = runChild(fileURLToPath(new URL("./testing/crash-child.ts", import.meta.url)), [dir]);
    const acks = (lines: string[]) => lines.filter((l) => /^(inc|put|both) /.test(l));
    await child.until((lines) => acks(lines).length >= 2000, 30_000);
    child.kill();
    const { signal } = await child.exit;
    expect(signal).toBe("SIGKILL");

    const idLine = child.lines[0] ?? "";
    expect(idLine).toMatch(/^id /);
    const id = idLine.slice(3);
    let maxCount = 0;
    const keys: string[] = [];
    for (const line of acks(child.lines)) {
      const parts = line.split(" ");
      if (parts[0] === "inc") maxCount = Math.max(maxCount, Number(parts[1]));
      if (parts[0] === "put") keys.push(parts[1]!);
      if (parts[0] === "both") {
        maxCount = Math.max(maxCount, Number(parts[1]));
        keys.push(parts[2]!);
      }
    }
    expect(maxCount).toBeGreaterThan(100);
    expect(keys.length).toBeGreaterThan(100);

    const reopened = await startEngine({ crashCounter }, { dir });
    const { engine } = reopened;
    expect(
      (await engine.getOrCreate(NS, "crashCounter", "victim", undefined, "getOrCreate")).record.actorId,
    ).toBe(id);
    const count = (await engine.action(NS, id, "count", [])) as number;
    expect(count).toBeGreaterThanOrEqual(maxCount);
    const texts = (await engine.action(NS, id, "texts", [keys])) as (string | null)[];
    const missing = keys.filter((k, i) => texts[i] !== `v:${k}`);
    expect(missing).toEqual([]);
  });
});

describe("output gate", () => {
  it("once an action resolves, its unawaited KV writes, scheduled call and state change are in the store", async () => {
    const gated = actor({
      state: { n: 0, note: "" },
      actions: {
        go: (c, n: number) => {
          // Nothing awaited: the action returns while these writes are in flight.
          void c.kv.put("single", `value ${n}`);
          void c.kv.putMany(
            Array.from({ length: 100 }, (_, i): [string, string] => [`many/${i}`, "x".repeat(1000)]),
          );
          void c.schedule.after(3_600_000, "noop");
          c.state.n = n;
          c.state.note = "set by go";
          return "done";
        },
        noop: () => undefined,
      },
    });
    const { engine } = await startEngine({ gated });
    const id = await actorId(engine, "gated", "k");
    for (let round = 1; round <= 5; round++) {
      expect(await engine.action(NS, id, "go", [round])).toBe("done");
      // Read the store directly, with no further action, sleep or flush in between.
      const [state, single, last] = await engine.store.getMany([
        packKey([Subspace.state, id]),
        kvStoreKey(id, "single"),
        kvStoreKey(id, "many/99"),
      ]);
      expect(decodeWire(decoder.decode(state!))).toEqual({ n: round, note: "set by go" });
      expect(decoder.decode(single!)).toBe(`value ${round}`);
      expect(last?.length).toBe(1000);
      let alarms = 0;
      for await (const _ of engine.store.range(prefixRange([Subspace.alarm, id]))) {
        alarms++;
      }
      expect(alarms).toBe(round);
    }
  });

  it("a failed action still commits what it changed before failing", async () => {
    const partial = actor({
      state: { n: 0 },
      actions: {
        failAfterWrite: (c) => {
          c.state.n++;
          void c.kv.put("k", "written");
          throw new Error("late failure");
        },
      },
    });
    const { engine } = await startEngine({ partial });
    const id = await actorId(engine, "partial", "k");
    await expect(engine.action(NS, id, "failAfterWrite", [])).rejects.toThrow("late failure");
    const [state, kv] = await engine.store.getMany([packKey([Subspace.state, id]), kvStoreKey(id, "k")]);
    expect(decodeWire(decoder.decode(state!))).toEqual({ n: 1 });
    expect(decoder.decode(kv!)).toBe("written");
  });
});
