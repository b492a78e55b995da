/**
 * The actor lifecycle as a user sees it, on a real engine with the on-disk store: hooks, idle
 * sleep, keep-awake, waitUntil, self-requested and forced sleep, wake on demand, and at most one
 * live instance per actor.
 */
import { describe, expect, it } from "vitest";
import { actor, type ActorContext } from "../actor/index.js";
import { NS, actorId, sleepMs, startEngine, until } from "./testing/harness.js";

/** A promise the test settles by hand. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe("hooks", () => {
  it("onCreate runs once ever with the input; onWake on every boot; onSleep before every sleep; onDestroy once", async () => {
    const log: string[] = [];
    const counter = actor({
      createState: (_c, input: { start: number }) => ({ count: input.start }),
      onCreate: (c, input) => void log.push(`create ${JSON.stringify(input)} count=${c.state.count}`),
      onWake: (c) => void log.push(`wake count=${c.state.count}`),
      onSleep: (c) => void log.push(`sleep count=${c.state.count}`),
      onDestroy: (c) => void log.push(`destroy count=${c.state.count}`),
      actions: { inc: (c) => ++c.state.count },
    });

    const first = await startEngine({ counter });
    const { engine } = first;
    const { record, created } = await engine.getOrCreate(NS, "counter", "k", { start: 5 }, "getOrCreate");
    expect(created).toBe(true);
    const id = record.actorId;
    expect(log).toEqual(['create {"start":5} count=5', "wake count=5"]);

    expect(await engine.action(NS, id, "inc", [])).toBe(6);
    await engine.sleep(NS, id);
    expect(await engine.action(NS, id, "inc", [])).toBe(7); // wakes
    // Finding it again with another input neither re-creates nor re-initializes it.
    const again = await engine.getOrCreate(NS, "counter", "k", { start: 100 }, "getOrCreate");
    expect(again).toMatchObject({ created: false, record: { actorId: id } });
    await first.close(); // shutdown puts it to sleep

    const second = await startEngine({ counter }, { dir: first.dir });
    expect(await second.engine.action(NS, id, "inc", [])).toBe(8);
    await second.engine.destroy(NS, id);
    await second.close();

    expect(log).toEqual([
      'create {"start":5} count=5',
      "wake count=5",
      "sleep count=6",
      "wake count=6",
      "sleep count=7",
      "wake count=7",
      "destroy count=8",
    ]);
  });

  it("state without createState is a fresh deep copy per actor", async () => {
    const bag = actor({
      state: { items: [] as string[] },
      actions: {
        add: (c, item: string) => {
          c.state.items.push(item);
          return c.state.items;
        },
      },
    });
    const { engine } = await startEngine({ bag });
    const a = await actorId(engine, "bag", "a");
    const b = await actorId(engine, "bag", "b");
    expect(await engine.action(NS, a, "add", ["x"])).toEqual(["x"]);
    expect(await engine.action(NS, b, "add", ["y"])).toEqual(["y"]);
    expect(await engine.action(NS, a, "add", ["z"])).toEqual(["x", "z"]);
  });

  it("vars and createVars are rebuilt on every wake and never persisted", async () => {
    let built = 0;
    const withCreate = actor({
      state: { saved: 0 },
      // Annotated: TypeScript does not infer the vars type from a createVars whose `c` is unannotated.
      createVars: (c: ActorContext<{ saved: number }, undefined, unknown>) => ({
        build: ++built,
        seen: [] as number[],
        savedAtBoot: c.state.saved,
      }),
      actions: {
        remember: (c, n: number) => {
          c.vars.seen.push(n);
          c.state.saved = n;
          return c.vars;
        },
      },
    });
    const withStatic = actor({
      state: {},
      vars: { seen: [] as number[] },
      actions: {
        remember: (c, n: number) => {
          c.vars.seen.push(n);
          return c.vars.seen;
        },
      },
    });
    const started = await startEngine({ withCreate, withStatic });
    const { engine } = started;
    const a = await actorId(engine, "withCreate", "a");
    const s1 = await actorId(engine, "withStatic", "1");
    const s2 = await actorId(engine, "withStatic", "2");

    await engine.action(NS, a, "remember", [1]);
    expect(await engine.action(NS, a, "remember", [2])).toEqual({ build: 1, seen: [1, 2], savedAtBoot: 0 });
    expect(await engine.action(NS, s1, "remember", [1])).toEqual([1]);
    expect(await engine.action(NS, s2, "remember", [2])).toEqual([2]); // not shared between actors
    expect(await engine.action(NS, s1, "remember", [3])).toEqual([1, 3]);

    await engine.sleep(NS, a);
    await engine.sleep(NS, s1);
    // Rebuilt from scratch on wake; createVars sees the persisted state.
    expect(await engine.action(NS, a, "remember", [3])).toEqual({ build: 2, seen: [3], savedAtBoot: 2 });
    expect(await engine.action(NS, s1, "remember", [4])).toEqual([4]);

    await started.close();
    const again = await startEngine({ withCreate, withStatic }, { dir: started.dir });
    expect(await again.engine.action(NS, a, "remember", [5])).toEqual({
      build: 3,
      seen: [5],
      savedAtBoot: 3,
    });
  });
});

describe("sleep and wake", () => {
  it("sleeps after sleepTimeout of idleness, not while an action runs, and wakes with its state", async () => {
    let sleeps = 0;
    let wakes = 0;
    const idle = actor({
      state: { n: 0 },
      onWake: () => void wakes++,
      onSleep: () => void sleeps++,
      actions: {
        inc: (c) => ++c.state.n,
        slow: async (c, ms: number) => {
          await sleepMs(ms);
          return ++c.state.n;
        },
      },
      options: { sleepTimeout: 200 },
    });
    const { engine } = await startEngine({ idle });
    const id = await actorId(engine, "idle", "k");
    const status = async () => engine.status(await engine.getActor(NS, id));

    const t0 = Date.now();
    expect(await engine.action(NS, id, "inc", [])).toBe(1);
    expect(await status()).toBe("running");
    await until("idle sleep", async () => (await status()) === "sleeping");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(sleeps).toBe(1);
    expect(engine.liveCount).toBe(0);

    expect(await engine.action(NS, id, "inc", [])).toBe(2); // wakes it
    expect(await status()).toBe("running");
    // An action four times longer than the timeout keeps it awake throughout.
    const running = engine.action(NS, id, "slow", [800]);
    let observedAsleep = false;
    let answered = false;
    void running.then(() => (answered = true));
    while (!answered) {
      if ((await status()) !== "running") observedAsleep = true;
      await sleepMs(25);
    }
    expect(await running).toBe(3);
    expect(observedAsleep).toBe(false);
    expect(wakes).toBe(2);
    expect(sleeps).toBe(1);
    await until("idle sleep after the slow action", async () => (await status()) === "sleeping");
    expect(sleeps).toBe(2);
    expect(await engine.action(NS, id, "inc", [])).toBe(4);
  });

  it("c.keepAwake(promise) holds off idle sleep until the promise settles", async () => {
    const hold = gate();
    let sleeps = 0;
    const busy = actor({
      state: {},
      onSleep: () => void sleeps++,
      actions: {
        work: (c) => {
          void c.keepAwake(hold.promise);
          return "started";
        },
      },
      options: { sleepTimeout: 100 },
    });
    const { engine } = await startEngine({ busy });
    const id = await actorId(engine, "busy", "k");
    const status = async () => engine.status(await engine.getActor(NS, id));

    expect(await engine.action(NS, id, "work", [])).toBe("started");
    await sleepMs(800); // eight idle timeouts
    expect(await status()).toBe("running");
    expect(sleeps).toBe(0);

    hold.open();
    await until("sleep once the kept promise settled", async () => (await status()) === "sleeping");
    expect(sleeps).toBe(1);
  });

  it("a rejected keepAwake promise also releases the actor", async () => {
    let fail!: (e: Error) => void;
    const failing = new Promise<void>((_, reject) => (fail = reject));
    failing.catch(() => undefined);
    const busy = actor({
      state: {},
      actions: {
        work: (c) => {
          c.keepAwake(failing).catch(() => undefined);
        },
      },
      options: { sleepTimeout: 100 },
    });
    const { engine } = await startEngine({ busy });
    const id = await actorId(engine, "busy", "k");
    await engine.action(NS, id, "work", []);
    await sleepMs(500);
    expect(engine.status(await engine.getActor(NS, id))).toBe("running");
    fail(new Error("boom"));
    await until("sleep", async () => engine.status(await engine.getActor(NS, id)) === "sleeping");
  });

  it("c.waitUntil work finishes (and its state is saved) before the sleep completes", async () => {
    const work = gate();
    const log: string[] = [];
    const bg = actor({
      state: { flushed: false },
      onWake: () => void log.push("wake"),
      onSleep: () => void log.push("onSleep"),
      actions: {
        start: (c) => {
          c.waitUntil(
            (async () => {
              await work.promise;
              c.state.flushed = true;
              log.push("background done");
            })(),
          );
          return "ok";
        },
        flushed: (c) => c.state.flushed,
      },
    });
    const { engine } = await startEngine({ bg });
    const id = await actorId(engine, "bg", "k");
    expect(await engine.action(NS, id, "start", [])).toBe("ok");

    let slept = false;
    const sleeping = engine.sleep(NS, id).then(() => (slept = true));
    await sleepMs(400);
    expect(slept).toBe(false); // still waiting for the background work
    work.open();
    await sleeping;
    expect(log).toEqual(["wake", "onSleep", "background done"]);
    expect(await engine.action(NS, id, "flushed", [])).toBe(true); // saved, then woken with it
    expect(log).toEqual(["wake", "onSleep", "background done", "wake"]);
  });

  it("c.sleep() in an action answers the action first, then sleeps", async () => {
    const log: string[] = [];
    const napper = actor({
      state: { n: 0 },
      onWake: () => void log.push("wake"),
      onSleep: () => void log.push("sleep"),
      actions: {
        nap: async (c) => {
          c.sleep();
          await sleepMs(150); // still inside the action after asking to sleep
          c.state.n++;
          log.push("action done");
          return "zzz";
        },
        get: (c) => c.state.n,
      },
    });
    const { engine } = await startEngine({ napper });
    const id = await actorId(engine, "napper", "k");
    expect(await engine.action(NS, id, "nap", [])).toBe("zzz");
    await until(
      "self-requested sleep",
      async () => engine.status(await engine.getActor(NS, id)) === "sleeping",
    );
    expect(log).toEqual(["wake", "action done", "sleep"]);
    expect(await engine.action(NS, id, "get", [])).toBe(1);
    expect(log).toEqual(["wake", "action done", "sleep", "wake"]);
  });

  it("a forced engine.sleep() overrides keepAwake", async () => {
    let sleeps = 0;
    const busy = actor({
      state: { n: 1 },
      onSleep: () => void sleeps++,
      actions: {
        work: (c) => {
          void c.keepAwake(new Promise(() => undefined)); // never settles
          return c.state.n;
        },
        get: (c) => c.state.n,
      },
      options: { sleepTimeout: 100 },
    });
    const { engine } = await startEngine({ busy });
    const id = await actorId(engine, "busy", "k");
    await engine.action(NS, id, "work", []);
    await sleepMs(400);
    expect(engine.status(await engine.getActor(NS, id))).toBe("running");
    await engine.sleep(NS, id);
    expect(engine.status(await engine.getActor(NS, id))).toBe("sleeping");
    expect(sleeps).toBe(1);
    expect(engine.liveCount).toBe(0);
    // Forcing sleep on a sleeping actor does not wake it.
    await engine.sleep(NS, id);
    expect(sleeps).toBe(1);
    expect(engine.liveCount).toBe(0);
    expect(await engine.action(NS, id, "get", [])).toBe(1);
  });

  it("a forced sleep lets an in-flight action finish and answer first", async () => {
    const release = gate();
    const log: string[] = [];
    const a = actor({
      state: { n: 0 },
      onSleep: () => void log.push("sleep"),
      actions: {
        slow: async (c) => {
          await release.promise;
          c.state.n++;
          log.push("action done");
          return c.state.n;
        },
        get: (c) => c.state.n,
      },
    });
    const { engine } = await startEngine({ a });
    const id = await actorId(engine, "a", "k");
    const slow = engine.action(NS, id, "slow", []);
    await sleepMs(50);
    const sleeping = engine.sleep(NS, id);
    await sleepMs(100);
    release.open();
    expect(await slow).toBe(1);
    await sleeping;
    expect(log).toEqual(["action done", "sleep"]);
    expect(await engine.action(NS, id, "get", [])).toBe(1);
  });

  it("many concurrent actions on a sleeping actor boot it exactly once", async () => {
    let wakes = 0;
    const counter = actor({
      state: { count: 0 },
      onWake: async () => {
        wakes++;
        await sleepMs(100); // a slow boot widens the window for a second instance
      },
      actions: { inc: (c) => ++c.state.count },
    });
    const started = await startEngine({ counter });
    const { engine } = started;
    const id = await actorId(engine, "counter", "k");
    await engine.sleep(NS, id);
    expect(wakes).toBe(1);

    const results = await Promise.all(Array.from({ length: 100 }, () => engine.action(NS, id, "inc", [])));
    expect(wakes).toBe(2);
    expect(engine.liveCount).toBe(1);
    expect([...results].sort((x, y) => Number(x) - Number(y))).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );

    // Also after a restart, where the actor is only on disk.
    await started.close();
    const again = await startEngine({ counter }, { dir: started.dir });
    await Promise.all(Array.from({ length: 50 }, () => again.engine.action(NS, id, "inc", [])));
    expect(wakes).toBe(3);
    expect(await again.engine.action(NS, id, "inc", [])).toBe(151);
  });

  it("never runs two instances at once while actions race idle sleep", async () => {
    let live = 0;
    let maxLive = 0;
    let wakes = 0;
    const flappy = actor({
      state: { count: 0 },
      onWake: async () => {
        live++;
        wakes++;
        maxLive = Math.max(maxLive, live);
        await sleepMs(5);
      },
      onSleep: async () => {
        await sleepMs(5);
        live--;
      },
      actions: { inc: (c) => ++c.state.count },
      options: { sleepTimeout: 20 },
    });
    const { engine } = await startEngine({ flappy });
    const id = await actorId(engine, "flappy", "k");
    let acked = 0;
    const deadline = Date.now() + 2500;
    const worker = async (seed: number) => {
      let i = seed;
      while (Date.now() < deadline) {
        await engine.action(NS, id, "inc", []);
        acked++;
        // Gaps around the sleep timeout so actions land before, during and after sleeps.
        await sleepMs([0, 5, 15, 25, 40, 60][i++ % 6]!);
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    expect(maxLive).toBe(1);
    expect(wakes).toBeGreaterThan(2); // it did sleep and wake along the way
    expect(await engine.action(NS, id, "inc", [])).toBe(acked + 1); // no increment lost
  });
});
