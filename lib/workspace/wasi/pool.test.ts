import { afterEach, describe, expect, it } from "vitest";
import { runChild } from "../../store/testing/child-process.js";
import { WorkerPool } from "./pool.js";

const pools: WorkerPool[] = [];
function newPool(idle: number): WorkerPool {
  const pool = new WorkerPool({ idle });
  pools.push(pool);
  return pool;
}

afterEach(() => {
  for (const pool of pools.splice(0)) pool.close();
});

describe("WorkerPool", () => {
  it("warms up to its idle target", async () => {
    const pool = newPool(3);
    expect(pool.idleCount).toBe(0);
    await pool.warm();
    expect(pool.idleCount).toBe(3);
  });

  it("hands out warm workers, refills in the background and reuses released ones", async () => {
    const pool = newPool(1);
    await pool.warm();
    const first = pool.acquire();
    expect(first.isReady).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pool.idleCount).toBe(1);
    pool.release(first);
    expect(pool.idleCount).toBe(2);
    expect(pool.acquire()).toBe(first);
  });

  it("replaces discarded workers", async () => {
    const pool = newPool(1);
    await pool.warm();
    const worker = pool.acquire();
    pool.discard(worker);
    expect(worker.alive).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pool.idleCount).toBe(1);
    expect(pool.acquire()).not.toBe(worker);
  });

  it("close ends idle workers and refuses new jobs", async () => {
    const pool = newPool(2);
    await pool.warm();
    const worker = pool.acquire();
    pool.close();
    expect(pool.idleCount).toBe(0);
    expect(() => pool.acquire()).toThrow(/closed/);
    // A worker still out on a job ends when it comes back.
    pool.release(worker);
    expect(worker.alive).toBe(false);
  });

  it("idle workers never keep the Node process alive", async () => {
    const child = runChild("lib/workspace/wasi/testing/idle-pool-child.ts", []);
    await child.until((lines) => lines.length > 0, 20_000);
    expect(child.lines[0]).toMatch(/^exit 5 idle [1-9]/);
    const timeout = setTimeout(() => child.kill(), 10_000);
    const exit = await child.exit;
    clearTimeout(timeout);
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
