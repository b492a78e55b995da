/**
 * The storage ceiling: `npx tsx bench/storage.ts [--quick] [--out FILE]`.
 *
 * Raw classic-level (LevelDB) on this disk, 100-byte values, in a temp dir:
 *   - synced batched puts (batches of 256, `sync: true`, one batch in flight): the durable ceiling;
 *   - group-committed puts: 256 concurrent writers, each put acknowledged after the synced batch
 *     holding it (what a perfect engine store could do: same durability as Enclave);
 *   - unsynced batched puts (batches of 1,000) and one awaited synced put at a time;
 *   - `getMany` of 1,000 random keys out of 100,000.
 * Then Enclave's durable writes under the same concurrency, in process (no HTTP): 256 callers
 * calling `increment` on 1,000 actors, each acknowledged after its state is synced.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ClassicLevel } from "classic-level";
import {
  type Latency,
  finish,
  fmtMs,
  fmtRate,
  latencyOf,
  pool,
  progressFor,
  scriptArgs,
  table,
} from "./common.js";

const progress = progressFor("storage");
const VALUE = randomBytes(100);
const key = (i: number) => `k${String(i).padStart(10, "0")}`;

interface StorageResult {
  seconds: number;
  syncedBatch: { batch: number; putsPerSecond: number; batchesPerSecond: number };
  groupCommit: { writers: number; putsPerSecond: number; commitsPerSecond: number; latency: Latency };
  unsyncedBatch: { batch: number; putsPerSecond: number };
  singleSynced: { putsPerSecond: number; latency: Latency };
  getMany: { keys: number; keysPerSecond: number; latency: Latency };
  enclave: {
    writers: number;
    actors: number;
    writesPerSecond: number;
    latency: Latency;
    commitsPerSecond: number;
    batchesPerCommit: number;
    counted: boolean;
  };
  /** Enclave's durable writes/s over the raw group-committed and synced batched puts/s. */
  ratioGroupCommit: number;
  ratioSyncedBatch: number;
}

type Db = ClassicLevel<string, Buffer>;

async function timed(
  seconds: number,
  step: () => Promise<number>,
): Promise<{ n: number; s: number; calls: number }> {
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let n = 0;
  let calls = 0;
  while (performance.now() < end) {
    n += await step();
    calls++;
  }
  return { n, s: (performance.now() - t0) / 1000, calls };
}

async function raw(db: Db, seconds: number) {
  let next = 0;
  progress(`synced batched puts (256 per batch) for ${seconds}s`);
  const sb = await timed(seconds, async () => {
    const ops = Array.from({ length: 256 }, () => ({
      type: "put" as const,
      key: key(next++ % 100_000),
      value: VALUE,
    }));
    await db.batch(ops, { sync: true });
    return ops.length;
  });
  progress(`group-committed puts, 256 writers, for ${seconds}s`);
  // One synced batch in flight; puts arriving meanwhile wait for the next one (group commit).
  let pending: { key: string; done: () => void }[] = [];
  let writing = false;
  let commits = 0;
  const flush = async () => {
    if (writing) return;
    writing = true;
    while (pending.length > 0) {
      const group = pending;
      pending = [];
      await db.batch(
        group.map((p) => ({ type: "put" as const, key: p.key, value: VALUE })),
        { sync: true },
      );
      commits++;
      for (const p of group) p.done();
    }
    writing = false;
  };
  const put = (k: string) =>
    new Promise<void>((resolve) => {
      pending.push({ key: k, done: resolve });
      void flush();
    });
  const gcLat: number[] = [];
  let gcPuts = 0;
  const gcEnd = performance.now() + seconds * 1000;
  const g0 = performance.now();
  await Promise.all(
    Array.from({ length: 256 }, async (_, w) => {
      let i = 0;
      while (performance.now() < gcEnd) {
        const t = performance.now();
        await put(key((w * 1000 + i++) % 100_000));
        gcLat.push(performance.now() - t);
        gcPuts++;
      }
    }),
  );
  const gcSeconds = (performance.now() - g0) / 1000;
  progress(`unsynced batched puts (1,000 per batch) for ${seconds}s`);
  const ub = await timed(seconds, async () => {
    const ops = Array.from({ length: 1000 }, () => ({
      type: "put" as const,
      key: key(next++ % 100_000),
      value: VALUE,
    }));
    await db.batch(ops);
    return ops.length;
  });
  progress(`fill 100,000 keys, then getMany of 1,000 random keys for ${seconds}s`);
  for (let i = 0; i < 100_000; i += 1000) {
    await db.batch(
      Array.from({ length: 1000 }, (_, j) => ({ type: "put" as const, key: key(i + j), value: VALUE })),
    );
  }
  const gmLat: number[] = [];
  const gm = await timed(seconds, async () => {
    const keys = Array.from({ length: 1000 }, () => key(Math.floor(Math.random() * 100_000)));
    const t = performance.now();
    const values = await db.getMany(keys);
    gmLat.push(performance.now() - t);
    if (values.some((v) => v === undefined)) throw new Error("getMany: a key is missing");
    return keys.length;
  });
  progress(`single awaited synced puts for ${Math.min(seconds, 2)}s`);
  const ssLat: number[] = [];
  const ss = await timed(Math.min(seconds, 2), async () => {
    const t = performance.now();
    await db.put(key(next++ % 100_000), VALUE, { sync: true });
    ssLat.push(performance.now() - t);
    return 1;
  });
  return {
    syncedBatch: { batch: 256, putsPerSecond: sb.n / sb.s, batchesPerSecond: sb.calls / sb.s },
    groupCommit: {
      writers: 256,
      putsPerSecond: gcPuts / gcSeconds,
      commitsPerSecond: commits / gcSeconds,
      latency: latencyOf(gcLat),
    },
    unsyncedBatch: { batch: 1000, putsPerSecond: ub.n / ub.s },
    singleSynced: { putsPerSecond: ss.n / ss.s, latency: latencyOf(ssLat) },
    getMany: { keys: 1000, keysPerSecond: gm.n / gm.s, latency: latencyOf(gmLat) },
  };
}

async function enclave(dir: string, seconds: number) {
  const { actor, setup, createEngine } = await import("../lib/index.js");
  const counter = actor({
    state: { count: 0 },
    actions: {
      increment: (c, n: number) => (c.state.count += n),
      get: (c) => c.state.count,
    },
  });
  const running = await createEngine({
    registry: setup({ use: { counter } }),
    storage: { driver: "fileSystem", fileSystem: { path: dir } },
    auth: { adminToken: "s".repeat(40) },
    actors: { sleepTimeoutMs: 3_600_000 },
    log: { level: "warn" },
    env: {},
  });
  const engine = running.engine;
  try {
    const actors = 1000;
    const writers = 256;
    progress(`Enclave in process: creating ${actors} actors`);
    const ids = await pool(
      Array.from({ length: actors }, (_, i) => `w-${i}`),
      64,
      async (k) =>
        (await engine.getOrCreate("default", "counter", [k], undefined, "getOrCreate")).record.actorId,
    );
    const inc = (id: string) => engine.action("default", id, "increment", [1]);
    // Warm-up: JIT and every actor awake.
    await pool(ids, writers, inc);
    const before = (await pool(ids, 64, (id) => engine.action("default", id, "get", []))) as number[];
    progress(`Enclave in process: ${writers} writers over ${actors} actors for ${seconds}s`);
    const st0 = engine.store.stats();
    const lat: number[] = [];
    let ok = 0;
    const end = performance.now() + seconds * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        let i = w;
        while (performance.now() < end) {
          const t = performance.now();
          await inc(ids[i % actors] as string);
          lat.push(performance.now() - t);
          ok++;
          i += writers;
        }
      }),
    );
    const s = (performance.now() - t0) / 1000;
    const st1 = engine.store.stats();
    const after = (await pool(ids, 64, (id) => engine.action("default", id, "get", []))) as number[];
    const delta = after.reduce((a, v, i) => a + v - (before[i] as number), 0);
    const commits = st1.commits - st0.commits;
    return {
      writers,
      actors,
      writesPerSecond: ok / s,
      latency: latencyOf(lat),
      commitsPerSecond: commits / s,
      batchesPerCommit: (st1.batches - st0.batches) / Math.max(1, commits),
      counted: delta === ok,
    };
  } finally {
    await running.close();
  }
}

function render(r: StorageResult): string {
  const out: string[] = [];
  out.push(
    "Raw classic-level in a temp dir on this disk (100-byte values, one process, nothing else running in it), " +
      "then Enclave's engine in process (no HTTP) on its LevelStore in the same kind of dir. Every durable row " +
      "acknowledges a write only after a `sync: true` LevelDB write containing it.",
  );
  out.push(
    table(
      ["Operation", "Rate", "p50", "p99", "Note"],
      [
        [
          "Raw synced batched puts (256 per batch, 1 in flight)",
          `${fmtRate(r.syncedBatch.putsPerSecond)} puts/s`,
          "–",
          "–",
          `${fmtRate(r.syncedBatch.batchesPerSecond)} synced batches/s`,
        ],
        [
          "Raw group-committed puts (256 concurrent writers)",
          `${fmtRate(r.groupCommit.putsPerSecond)} puts/s`,
          fmtMs(r.groupCommit.latency.p50),
          fmtMs(r.groupCommit.latency.p99),
          `${fmtRate(r.groupCommit.commitsPerSecond)} synced commits/s`,
        ],
        [
          `**Enclave durable writes** (${r.enclave.writers} callers, ${r.enclave.actors} actors, in process)`,
          `${fmtRate(r.enclave.writesPerSecond)} writes/s`,
          fmtMs(r.enclave.latency.p50),
          fmtMs(r.enclave.latency.p99),
          `${fmtRate(r.enclave.commitsPerSecond)} synced commits/s of ${r.enclave.batchesPerCommit.toFixed(1)} batches; counters = acks: ${r.enclave.counted ? "yes" : "**no**"}`,
        ],
        [
          "Raw unsynced batched puts (1,000 per batch)",
          `${fmtRate(r.unsyncedBatch.putsPerSecond)} puts/s`,
          "–",
          "–",
          "not durable: the page-cache ceiling",
        ],
        [
          "Raw single awaited synced put",
          `${fmtRate(r.singleSynced.putsPerSecond)} puts/s`,
          fmtMs(r.singleSynced.latency.p50),
          fmtMs(r.singleSynced.latency.p99),
          "fsync latency",
        ],
        [
          "Raw getMany (1,000 random of 100,000 keys)",
          `${fmtRate(r.getMany.keysPerSecond)} keys/s`,
          fmtMs(r.getMany.latency.p50),
          fmtMs(r.getMany.latency.p99),
          "per getMany call",
        ],
      ],
    ),
  );
  out.push(
    `Enclave durable writes / raw group-committed puts: **${r.ratioGroupCommit.toFixed(2)}x**; ` +
      `/ raw synced batched puts: **${r.ratioSyncedBatch.toFixed(2)}x** (target >= 0.5x).`,
  );
  return out.join("\n\n");
}

async function main(): Promise<void> {
  const args = scriptArgs();
  const seconds = args.quick ? 1 : 4;
  const t0 = performance.now();
  const dir = await mkdtemp(path.join(os.tmpdir(), "enclave-bench-storage-"));
  try {
    const db: Db = new ClassicLevel(path.join(dir, "raw"), { valueEncoding: "buffer" });
    await db.open();
    let rawResult: Awaited<ReturnType<typeof raw>>;
    try {
      rawResult = await raw(db, seconds);
    } finally {
      await db.close();
    }
    const enc = await enclave(path.join(dir, "enclave"), seconds);
    const result: StorageResult = {
      seconds: 0,
      ...rawResult,
      enclave: enc,
      ratioGroupCommit: enc.writesPerSecond / rawResult.groupCommit.putsPerSecond,
      ratioSyncedBatch: enc.writesPerSecond / rawResult.syncedBatch.putsPerSecond,
    };
    result.seconds = (performance.now() - t0) / 1000;
    await finish(args, result, render(result));
    if (!enc.counted) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
