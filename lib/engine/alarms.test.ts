/**
 * Scheduled calls (`c.schedule`) as a user sees them: they fire on time, wake a sleeping actor,
 * survive restarts (firing once if they came due while the engine was down), can be listed and
 * cancelled, are checked when scheduled, are limited per actor, and die with their actor.
 */
import { describe, expect, it } from "vitest";
import { actor, type ScheduledCall } from "../actor/index.js";
import { UserError } from "../errors.js";
import type { Engine } from "./engine.js";
import { NS, actorId, expectEnclaveError, sleepMs, startEngine, until } from "./testing/harness.js";

interface Fired {
  at: number;
  args: unknown[];
}

/** An actor whose `ring` action records each call in `fired` (shared across engines in this process). */
function ringer(fired: Fired[], wakes: { n: number } = { n: 0 }, ringMs = 0) {
  return actor({
    state: { rings: 0 },
    onWake: () => void wakes.n++,
    actions: {
      after: (c, ms: number, ...args: unknown[]) => c.schedule.after(ms, "ring", ...args),
      at: (c, ts: number, ...args: unknown[]) => c.schedule.at(ts, "ring", ...args),
      cancel: (c, id: string) => c.schedule.cancel(id),
      list: (c) => c.schedule.list(),
      ring: async (c, ...args: unknown[]) => {
        fired.push({ at: Date.now(), args });
        if (ringMs > 0) await sleepMs(ringMs);
        return ++c.state.rings;
      },
      rings: (c) => c.state.rings,
      scheduleUnknown: (c) => c.schedule.after(10, "noSuchAction"),
      scheduleMany: async (c, n: number) => {
        const ids: string[] = [];
        for (let i = 0; i < n; i++) ids.push(await c.schedule.after(3_600_000, "ring", i));
        return ids;
      },
      scheduleIfRoom: async (c) => {
        try {
          await c.schedule.after(3_600_000, "ring");
          return "scheduled";
        } catch (e) {
          throw new UserError("no room", { code: (e as { code: string }).code });
        }
      },
    },
  });
}

function pending(engine: Engine, id: string): Promise<ScheduledCall[]> {
  return engine.action(NS, id, "list", []) as Promise<ScheduledCall[]>;
}

describe("scheduled calls", () => {
  it("schedule.after fires once, on time, with its arguments, on an awake actor", async () => {
    const fired: Fired[] = [];
    const { engine } = await startEngine({ ringer: ringer(fired) });
    const id = await actorId(engine, "ringer", "k");
    const t0 = Date.now();
    const callId = await engine.action(NS, id, "after", [300, "hello", { n: 1 }]);
    expect(typeof callId).toBe("string");
    await until("the call fires", () => fired.length === 1);
    expect(fired[0]!.args).toEqual(["hello", { n: 1 }]);
    expect(fired[0]!.at - t0).toBeGreaterThanOrEqual(300);
    expect(fired[0]!.at - t0).toBeLessThan(5000);
    await until("the call is gone from the list", async () => (await pending(engine, id)).length === 0);
    await sleepMs(300);
    expect(fired).toHaveLength(1);
    expect(await engine.action(NS, id, "rings", [])).toBe(1);
  });

  it("calls fire in time order", async () => {
    const fired: Fired[] = [];
    const { engine } = await startEngine({ ringer: ringer(fired) });
    const id = await actorId(engine, "ringer", "k");
    const now = Date.now();
    await engine.action(NS, id, "at", [now + 900, "third"]);
    await engine.action(NS, id, "at", [now + 300, "first"]);
    await engine.action(NS, id, "at", [now + 600, "second"]);
    await engine.action(NS, id, "at", [now - 1000, "already due"]);
    await until("all four fire", () => fired.length === 4);
    expect(fired.map((f) => f.args[0])).toEqual(["already due", "first", "second", "third"]);
  });

  it("a due call wakes a sleeping actor", async () => {
    const fired: Fired[] = [];
    const wakes = { n: 0 };
    const { engine } = await startEngine({ ringer: ringer(fired, wakes) });
    const id = await actorId(engine, "ringer", "k");
    await engine.action(NS, id, "after", [400]);
    await engine.sleep(NS, id);
    expect(engine.status(await engine.getActor(NS, id))).toBe("sleeping");
    expect(wakes.n).toBe(1);
    await until("the call fires", () => fired.length === 1);
    expect(wakes.n).toBe(2);
    expect(await engine.action(NS, id, "rings", [])).toBe(1);
  });

  it("pending calls do not keep an actor awake", async () => {
    const fired: Fired[] = [];
    const idle = actor({
      state: {},
      actions: {
        arm: (c) => c.schedule.after(3_600_000, "ring"),
        ring: () => void fired.push({ at: Date.now(), args: [] }),
      },
      options: { sleepTimeout: 100 },
    });
    const { engine } = await startEngine({ idle });
    const id = await actorId(engine, "idle", "k");
    await engine.action(NS, id, "arm", []);
    await until("idle sleep", async () => engine.status(await engine.getActor(NS, id)) === "sleeping");
  });

  it("at, cancel and list (soonest first)", async () => {
    const fired: Fired[] = [];
    const { engine } = await startEngine({ ringer: ringer(fired) });
    const id = await actorId(engine, "ringer", "k");
    const now = Date.now();
    const c = (await engine.action(NS, id, "at", [now + 60_000, "c"])) as string;
    const a = (await engine.action(NS, id, "after", [400, "a"])) as string;
    const b = (await engine.action(NS, id, "at", [now + 30_000, "b"])) as string;
    const d = (await engine.action(NS, id, "after", [600, "d"])) as string;
    const list = await pending(engine, id);
    expect(list.map((s) => [s.id, s.action, s.args])).toEqual([
      [a, "ring", ["a"]],
      [d, "ring", ["d"]],
      [b, "ring", ["b"]],
      [c, "ring", ["c"]],
    ]);
    expect(list[2]!.at).toBe(now + 30_000);

    expect(await engine.action(NS, id, "cancel", [b])).toBe(true);
    expect(await engine.action(NS, id, "cancel", [b])).toBe(false);
    expect(await engine.action(NS, id, "cancel", [d])).toBe(true);
    expect(await engine.action(NS, id, "cancel", ["no-such-id"])).toBe(false);
    await until("a fires", () => fired.length === 1);
    await sleepMs(600); // d would have fired by now
    expect(fired.map((f) => f.args)).toEqual([["a"]]);
    await until("a is gone from the list", async () => (await pending(engine, id)).length === 1);
    expect((await pending(engine, id)).map((s) => s.id)).toEqual([c]);
  });

  it("a call that came due while the engine was down fires exactly once at the next start", async () => {
    const fired: Fired[] = [];
    const def = ringer(fired);
    const first = await startEngine({ ringer: def });
    const id = await actorId(first.engine, "ringer", "k");
    await first.engine.action(NS, id, "after", [500, "while down"]);
    await first.close();
    await sleepMs(900); // past due while nothing runs
    expect(fired).toHaveLength(0);

    const second = await startEngine({ ringer: def }, { dir: first.dir });
    await until("the overdue call fires", () => fired.length === 1);
    await until("and is deleted", async () => (await pending(second.engine, id)).length === 0);
    await second.close();

    const third = await startEngine({ ringer: def }, { dir: first.dir });
    await sleepMs(500);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.args).toEqual(["while down"]);
    expect(await third.engine.action(NS, id, "rings", [])).toBe(1);
  });

  it("a call running during a graceful shutdown is not run again after the restart", async () => {
    const fired: Fired[] = [];
    const def = ringer(fired, { n: 0 }, 300);
    const first = await startEngine({ ringer: def });
    const id = await actorId(first.engine, "ringer", "k");
    await first.engine.action(NS, id, "after", [100, "once"]);
    await until("the call starts", () => fired.length === 1);
    await first.close(); // while the call's action is still running

    const second = await startEngine({ ringer: def }, { dir: first.dir });
    await sleepMs(500);
    expect(fired).toHaveLength(1);
    expect(await second.engine.action(NS, id, "rings", [])).toBe(1);
    expect(await second.engine.action(NS, id, "list", [])).toEqual([]);
  });

  it("scheduling an action the actor does not have is refused when scheduled", async () => {
    const fired: Fired[] = [];
    const { engine } = await startEngine({ ringer: ringer(fired) });
    const id = await actorId(engine, "ringer", "k");
    const e = await expectEnclaveError(
      engine.action(NS, id, "scheduleUnknown", []),
      "actor",
      "invalid_schedule",
      400,
    );
    expect(e.message).toContain("noSuchAction");
    expect(await engine.action(NS, id, "list", [])).toEqual([]);
  });

  it("the per-actor limit on pending calls gives limit/too_many_alarms", async () => {
    const fired: Fired[] = [];
    const { engine } = await startEngine({ ringer: ringer(fired) }, { limits: { alarmsPerActor: 3 } });
    const id = await actorId(engine, "ringer", "k");
    const other = await actorId(engine, "ringer", "other");
    const ids = (await engine.action(NS, id, "scheduleMany", [3])) as string[];
    const e = await expectEnclaveError(
      engine.action(NS, id, "scheduleMany", [1]),
      "limit",
      "too_many_alarms",
    );
    expect(e.metadata).toEqual({ limit: 3 });
    expect((await engine.action(NS, id, "list", [])) as unknown[]).toHaveLength(3);
    // The limit is per actor.
    expect((await engine.action(NS, other, "scheduleMany", [3])) as unknown[]).toHaveLength(3);
    // An actor that catches the error decides what its caller sees.
    const caught = await engine.action(NS, id, "scheduleIfRoom", []).catch((x: unknown) => x);
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as UserError).code).toBe("too_many_alarms");
    // Room again after a cancel.
    expect(await engine.action(NS, id, "cancel", [ids[0]])).toBe(true);
    expect(await engine.action(NS, id, "scheduleIfRoom", [])).toBe("scheduled");
  });

  it("destroying an actor removes its pending calls: they never fire", async () => {
    const fired: Fired[] = [];
    const { engine } = await startEngine({ ringer: ringer(fired) });
    const id = await actorId(engine, "ringer", "k");
    await engine.action(NS, id, "after", [300, "doomed"]);
    await engine.action(NS, id, "after", [600, "doomed too"]);
    await engine.destroy(NS, id);
    await sleepMs(1000);
    expect(fired).toEqual([]);
    // A new actor under the same key does not inherit them.
    const again = await actorId(engine, "ringer", "k");
    expect(again).not.toBe(id);
    expect(await engine.action(NS, again, "list", [])).toEqual([]);
  });
});
