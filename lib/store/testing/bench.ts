/**
 * Store throughput, for docs/decisions/0001-store.md. Run: `npx tsx lib/store/testing/bench.ts`.
 * Every write here is synced unless marked otherwise; values are 100 bytes.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ClassicLevel } from "classic-level";
import { packKey } from "../keys.js";
import { LevelStore } from "../level.js";

const value = new Uint8Array(100).fill(7);

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "enclave-bench-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function report(name: string, ops: number, ms: number, extra = ""): void {
  const rate = Math.round((ops / ms) * 1000);
  console.log(
    `${name.padEnd(52)} ${String(ops).padStart(7)} ops ${ms.toFixed(0).padStart(6)} ms ${String(rate).padStart(8)}/s ${extra}`,
  );
}

/** `total` single-put batches issued by `concurrency` callers, each awaiting its own. */
async function concurrent(total: number, concurrency: number): Promise<void> {
  await withDir(async (dir) => {
    const store = await LevelStore.open(dir);
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        await store.batch([{ type: "put", key: packKey(["k", i]), value }]);
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const ms = performance.now() - start;
    const { commits, batches } = store.stats();
    report(
      `store.batch, ${concurrency}-way concurrent`,
      total,
      ms,
      `(${commits} commits, ${(batches / commits).toFixed(1)} batches/commit)`,
    );
    await store.close();
  });
}

async function rawPuts(total: number, sync: boolean): Promise<void> {
  await withDir(async (dir) => {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    const start = performance.now();
    for (let i = 0; i < total; i++) await db.put(packKey(["k", i]), value, { sync });
    report(`classic-level db.put awaited one by one, sync: ${sync}`, total, performance.now() - start);
    await db.close();
  });
}

async function oneBigBatch(total: number): Promise<void> {
  await withDir(async (dir) => {
    const store = await LevelStore.open(dir);
    const start = performance.now();
    for (let i = 0; i < total; i += 1000) {
      const ops = Array.from({ length: 1000 }, (_, j) => ({
        type: "put" as const,
        key: packKey(["k", i + j]),
        value,
      }));
      await store.batch(ops);
    }
    report("store.batch of 1000 puts, awaited one by one", total, performance.now() - start);
    await store.close();
  });
}

console.log(
  `node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? "?"}, tmpdir ${os.tmpdir()}`,
);
await concurrent(3_000, 1); // single awaited synced put: one fsync per put
await concurrent(100_000, 10);
await concurrent(100_000, 100);
await concurrent(100_000, 1000);
await oneBigBatch(100_000);
await rawPuts(3_000, true);
await rawPuts(20_000, false);
