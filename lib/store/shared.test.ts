import { describe, expect, it } from "vitest";
import { GroupCommit, normalizeRange } from "./shared.js";
import type { BatchOp } from "./types.js";

const put = (n: number): BatchOp => ({ type: "put", key: new Uint8Array([n]), value: new Uint8Array([n]) });

/** A writer whose writes complete when the test says so. */
function manualWriter() {
  const writes: { ops: BatchOp[]; finish: (error?: Error) => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const write = (ops: BatchOp[]) =>
    new Promise<void>((resolve, reject) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      writes.push({
        ops,
        finish: (error) => {
          inFlight--;
          if (error) reject(error);
          else resolve();
        },
      });
    });
  return { write, writes, maxInFlight: () => maxInFlight };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("GroupCommit", () => {
  it("merges same-turn batches into one write, in call order, one write in flight at a time", async () => {
    const w = manualWriter();
    const group = new GroupCommit(w.write);
    const settled: number[] = [];
    const first = [group.submit([put(1), put(2)]), group.submit([put(3)])];
    first.forEach((p, i) => void p.then(() => settled.push(i)));
    await turn();
    expect(w.writes).toHaveLength(1);
    expect(w.writes[0]!.ops.map((op) => op.key[0])).toEqual([1, 2, 3]);

    // Arrivals during the write wait for it, then go out together.
    const second = [group.submit([put(4)]), group.submit([put(5)])];
    await turn();
    await turn();
    expect(w.writes).toHaveLength(1);
    expect(settled).toEqual([]);

    w.writes[0]!.finish();
    await Promise.all(first);
    await turn();
    expect(w.writes).toHaveLength(2);
    expect(w.writes[1]!.ops.map((op) => op.key[0])).toEqual([4, 5]);
    w.writes[1]!.finish();
    await Promise.all(second);
    expect(w.maxInFlight()).toBe(1);
    expect({ commits: group.commits, batches: group.batches }).toEqual({ commits: 2, batches: 4 });
  });

  it("rejects every caller of a failed write, and carries on", async () => {
    const w = manualWriter();
    const group = new GroupCommit(w.write);
    const a = group.submit([put(1)]);
    const b = group.submit([put(2)]);
    await turn();
    const boom = new Error("disk full");
    w.writes[0]!.finish(boom);
    await expect(a).rejects.toBe(boom);
    await expect(b).rejects.toBe(boom);
    const c = group.submit([put(3)]);
    await turn();
    w.writes[1]!.finish();
    await expect(c).resolves.toBeUndefined();
    expect({ commits: group.commits, batches: group.batches }).toEqual({ commits: 1, batches: 1 });
  });

  it("treats a writer that throws synchronously like a failed write", async () => {
    const group = new GroupCommit(() => {
      throw new Error("sync throw");
    });
    await expect(group.submit([put(1)])).rejects.toThrow("sync throw");
    await expect(group.drain()).resolves.toBeUndefined();
  });

  it("a barrier forces a write but is not a caller batch", async () => {
    const w = manualWriter();
    const group = new GroupCommit(w.write);
    const barrier = group.barrier();
    await turn();
    expect(w.writes[0]!.ops).toEqual([]);
    w.writes[0]!.finish();
    await barrier;
    expect({ commits: group.commits, batches: group.batches }).toEqual({ commits: 1, batches: 0 });
  });

  it("drain waits for pending and in-flight writes", async () => {
    const w = manualWriter();
    const group = new GroupCommit(w.write);
    await group.drain(); // idle: immediate
    const a = group.submit([put(1)]);
    let drained = false;
    const drain = group.drain().then(() => (drained = true));
    await turn();
    const b = group.submit([put(2)]);
    w.writes[0]!.finish();
    await a;
    await turn();
    expect(drained).toBe(false);
    w.writes[1]!.finish();
    await Promise.all([b, drain]);
    expect(drained).toBe(true);
  });
});

describe("normalizeRange", () => {
  const b = (n: number) => new Uint8Array([n]);
  it("keeps the stricter of two bounds on a side", () => {
    expect(normalizeRange({ gt: b(5), gte: b(3) }).lower).toEqual({ key: b(5), inclusive: false });
    expect(normalizeRange({ gt: b(3), gte: b(5) }).lower).toEqual({ key: b(5), inclusive: true });
    expect(normalizeRange({ gt: b(4), gte: b(4) }).lower).toEqual({ key: b(4), inclusive: false });
    expect(normalizeRange({ lt: b(5), lte: b(3) }).upper).toEqual({ key: b(3), inclusive: true });
    expect(normalizeRange({ lt: b(4), lte: b(4) }).upper).toEqual({ key: b(4), inclusive: false });
  });
  it("ignores a limit that is not a non-negative integer", () => {
    expect(normalizeRange({ limit: -1 }).limit).toBeUndefined();
    expect(normalizeRange({ limit: Infinity }).limit).toBeUndefined();
    expect(normalizeRange({ limit: 1.5 }).limit).toBeUndefined();
    expect(normalizeRange({ limit: 0 }).limit).toBe(0);
  });
});
