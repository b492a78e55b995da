/**
 * A hot actor's state writes are coalesced: concurrent actions share state writes instead of
 * one write each, while every action still answers only after a write holding its change.
 */
import { afterEach, describe, expect, it } from "vitest";
import { actor } from "./index.js";
import { NS, actorId, startEngine, type Started } from "../engine/testing/harness.js";

const counter = actor({
  state: { count: 0 },
  actions: {
    increment: (c) => ++c.state.count,
    get: (c) => c.state.count,
  },
});

let started: Started | undefined;
afterEach(async () => {
  await started?.close();
  started = undefined;
});

describe("state writes", () => {
  it("200 concurrent actions on one actor share far fewer state writes, and none is lost", async () => {
    started = await startEngine({ counter });
    const { engine, running } = started;
    const id = await actorId(engine, "counter", "hot");
    const before = engine.store.stats().batches;
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => engine.action(NS, id, "increment", [])),
    );
    const writes = engine.store.stats().batches - before;
    expect(new Set(answers).size).toBe(200); // every action saw its own increment
    expect(writes).toBeLessThan(50);

    // What was acknowledged is on disk: restart on the same data directory and read it back.
    const dir = started.dir;
    await running.close();
    started = await startEngine({ counter }, { dir });
    expect(await started.engine.action(NS, id, "get", [])).toBe(200);
  });
});
