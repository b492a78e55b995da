/**
 * Action timeouts run on shared deadline lists (one timer per timeout value, not one per call):
 * every late call still times out with actor.action_timed_out, calls that finish in time are
 * never failed, and no timer holds the process open once nothing is pending.
 */
import { describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import { addDeadline, cancelDeadline, withDeadline } from "./deadlines.js";
import { NS, actorId, expectEnclaveError, sleepMs, startEngine } from "./testing/harness.js";

function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

describe("deadline lists", () => {
  it("expire in order, each no earlier than its time; cancelled ones never fire", async () => {
    const fired: string[] = [];
    const at = new Map<string, number>();
    const start = (name: string, ms: number) => {
      const t0 = performance.now();
      return addDeadline(ms, t0, () => {
        fired.push(name);
        at.set(name, performance.now() - t0);
      });
    };
    const a = start("a", 40);
    await sleepMs(10);
    const b = start("b", 40);
    const c = start("c", 40);
    start("d", 15);
    cancelDeadline(b);
    cancelDeadline(b); // twice is harmless
    await sleepMs(120);
    expect(fired).toEqual(["d", "a", "c"]);
    for (const name of fired) expect(at.get(name)).toBeGreaterThanOrEqual(name === "d" ? 14 : 39);
    cancelDeadline(a); // after it fired: a no-op
    cancelDeadline(c);
  });

  it("a call that settles in time keeps its value or error; a late one is rejected with the timeout error", async () => {
    const timeout = () => new Error("too late");
    await expect(withDeadline(Promise.resolve(7), 50, performance.now(), timeout)).resolves.toBe(7);
    await expect(
      withDeadline(Promise.reject(new Error("own")), 50, performance.now(), timeout),
    ).rejects.toThrow("own");
    const never = new Promise<never>(() => undefined);
    const t0 = performance.now();
    await expect(withDeadline(never, 30, t0, timeout)).rejects.toThrow("too late");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
  });

  it("hold the process open only while a call is pending", async () => {
    const before = activeTimeouts();
    const d = addDeadline(60_000, performance.now(), () => undefined);
    expect(activeTimeouts()).toBe(before + 1);
    cancelDeadline(d);
    expect(activeTimeouts()).toBe(before);
    const e = addDeadline(60_000, performance.now(), () => undefined);
    expect(activeTimeouts()).toBe(before + 1);
    cancelDeadline(e);
    expect(activeTimeouts()).toBe(before);
  });
});

describe("action timeouts on shared deadlines", () => {
  it("among many concurrent actions, exactly the late ones fail with actor.action_timed_out", async () => {
    const slow = actor({
      state: { n: 0 },
      actions: {
        run: async (c, ms: number) => {
          await sleepMs(ms);
          return ++c.state.n;
        },
      },
      options: { actionTimeout: 150 },
    });
    const { engine } = await startEngine({ slow });
    const ids = await Promise.all(["a", "b", "c"].map((k) => actorId(engine, "slow", k)));
    const t0 = Date.now();
    const calls = Array.from({ length: 30 }, (_, i) =>
      engine.action(NS, ids[i % 3] as string, "run", [i % 10 === 9 ? 2_000 : 5]),
    );
    const outcomes = await Promise.allSettled(calls);
    expect(Date.now() - t0).toBeLessThan(1_500);
    const late = outcomes.filter((_, i) => i % 10 === 9);
    const prompt = outcomes.filter((_, i) => i % 10 !== 9);
    expect(prompt.every((o) => o.status === "fulfilled")).toBe(true);
    for (let i = 9; i < 30; i += 10) {
      const e = await expectEnclaveError(calls[i] as Promise<unknown>, "actor", "action_timed_out", 504);
      expect(e.metadata).toEqual({ timeoutMs: 150 });
    }
    expect(late).toHaveLength(3);
    // A call started after the others settled still gets its own full timeout.
    const t1 = Date.now();
    await expectEnclaveError(
      engine.action(NS, ids[0] as string, "run", [2_000]),
      "actor",
      "action_timed_out",
    );
    expect(Date.now() - t1).toBeGreaterThanOrEqual(145);
  });
});
