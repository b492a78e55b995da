import { describe, expect, it } from "vitest";
import { CPU_QUANTUM_MS, CpuSemaphore } from "./cpu.js";

describe("CpuSemaphore", () => {
  it("grants up to count slots, then queues in order", async () => {
    const cpu = new CpuSemaphore(2);
    const a = cpu.tryAcquire()!;
    const b = await cpu.acquire();
    expect(cpu.tryAcquire()).toBeUndefined();
    const order: string[] = [];
    const c = cpu.acquire().then((r) => (order.push("c"), r));
    const d = cpu.acquire().then((r) => (order.push("d"), r));
    expect(cpu.waiting).toBe(2);
    a();
    a(); // idempotent: frees one slot, not two
    const releaseC = await c;
    expect(order).toEqual(["c"]);
    expect(cpu.busy).toBe(2);
    b();
    (await d)();
    releaseC();
    expect(order).toEqual(["c", "d"]);
    expect(cpu.busy).toBe(0);
  });

  it("a newcomer does not overtake the queue", async () => {
    const cpu = new CpuSemaphore(1);
    const first = cpu.tryAcquire()!;
    const queued = cpu.acquire();
    first();
    // The slot went to the waiter, so there is none for tryAcquire.
    expect(cpu.tryAcquire()).toBeUndefined();
    (await queued)();
    expect(cpu.tryAcquire()).toBeDefined();
  });

  it("an aborted waiter leaves the queue with EINTR", async () => {
    const cpu = new CpuSemaphore(1);
    const held = cpu.tryAcquire()!;
    const ac = new AbortController();
    const waiting = cpu.acquire(ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: "EINTR" });
    expect(cpu.waiting).toBe(0);
    held();
    expect(cpu.busy).toBe(0);
    await expect(cpu.acquire(ac.signal)).rejects.toMatchObject({ code: "EINTR" });
  });

  it("asks a holder to yield only when others wait and its quantum is used", () => {
    const cpu = new CpuSemaphore(1);
    const since = performance.now();
    cpu.tryAcquire();
    expect(cpu.shouldYield(since - CPU_QUANTUM_MS)).toBe(false);
    void cpu.acquire();
    expect(cpu.shouldYield(since)).toBe(false);
    expect(cpu.shouldYield(since - CPU_QUANTUM_MS)).toBe(true);
  });

  it("is unlimited with Infinity or 0, and refuses nonsense", () => {
    for (const count of [Infinity, 0]) {
      const cpu = new CpuSemaphore(count);
      for (let i = 0; i < 1000; i++) expect(cpu.tryAcquire()).toBeDefined();
    }
    expect(() => new CpuSemaphore(1.5)).toThrow(RangeError);
    expect(() => new CpuSemaphore(-1)).toThrow(RangeError);
  });
});
