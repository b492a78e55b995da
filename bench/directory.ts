/**
 * A large directory of sleeping actors: `npx tsx bench/directory.ts [--quick] [--out FILE]`.
 *
 * Creates counter actors through the engine API in process (no HTTP), in batches: each batch is
 * created (256 concurrent `getOrCreate`, each boots the actor and commits its initial state) and
 * then put to sleep, so the engine holds no live actors between batches. Stops at the target size
 * (1,000,000) or at the time budget, whichever comes first. At 1k, 10k, 100k, 1M (those reached)
 * it measures the wake latency of random sleeping actors (first action after sleep, sequential, in
 * process) and the create latency of new keys; at the end, the disk size of the data dir.
 */
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  type Latency,
  finish,
  fmtBytes,
  fmtMs,
  fmtRate,
  latencyOf,
  pool,
  progressFor,
  scriptArgs,
  table,
} from "./common.js";

const progress = progressFor("directory");
const NS = "default";

interface Checkpoint {
  actors: number;
  wake: Latency;
  create: Latency;
  /** Seconds since the first create. */
  at: number;
  diskBytes: number;
  rss: number;
  heapUsed: number;
}

interface DirectoryResult {
  target: number;
  budgetSeconds: number;
  reached: number;
  createSeconds: number;
  createRate: number;
  /** Creation rate over the last 10% of the actors created (it may fall as the store grows). */
  tailRate: number;
  /** Seconds that creating `target` would take at tailRate: an extrapolation, not a measurement. */
  extrapolatedSeconds: number | null;
  diskBytes: number;
  diskPerActor: number;
  checkpoints: Checkpoint[];
  /** Wake p50 at the largest size over wake p50 at 1k (flat: <= 2). */
  wakeGrowth: number;
}

async function du(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await du(p);
    else if (e.isFile()) total += (await stat(p)).size;
  }
  return total;
}

async function main(): Promise<void> {
  const args = scriptArgs();
  const target = args.quick ? 20_000 : 1_000_000;
  const budgetSeconds = args.quick ? 20 : 240;
  const samples = args.quick ? 100 : 300;
  const batch = 5000;
  const dir = await mkdtemp(path.join(os.tmpdir(), "enclave-bench-directory-"));
  const { actor, setup, createEngine } = await import("../lib/index.js");
  const counter = actor({
    state: { count: 0 },
    actions: { increment: (c, n: number) => (c.state.count += n) },
  });
  const running = await createEngine({
    registry: setup({ use: { counter } }),
    storage: { driver: "fileSystem", fileSystem: { path: dir } },
    auth: { adminToken: "d".repeat(40) },
    actors: { sleepTimeoutMs: 3_600_000 },
    log: { level: "warn" },
    env: {},
  });
  const engine = running.engine;
  try {
    const ids: string[] = [];
    const checkpoints: Checkpoint[] = [];
    const marks = [1_000, 10_000, 100_000, 1_000_000].filter((m) => m <= target);
    let extra = 0;
    const create = async (key: string) =>
      (await engine.getOrCreate(NS, "counter", [key], undefined, "getOrCreate")).record.actorId;
    const measure = async (elapsed: number) => {
      // Wake: random sleeping actors, one at a time; each is put back to sleep (not timed).
      const wake: number[] = [];
      for (let i = 0; i < samples; i++) {
        const id = ids[Math.floor(Math.random() * ids.length)] as string;
        const t = performance.now();
        await engine.action(NS, id, "increment", [1]);
        wake.push(performance.now() - t);
        await engine.sleep(NS, id);
      }
      // Create: new keys, one at a time, at this directory size (then slept; not counted above).
      const made: number[] = [];
      for (let i = 0; i < Math.min(samples, 100); i++) {
        const t = performance.now();
        const id = await create(`extra-${extra++}`);
        made.push(performance.now() - t);
        await engine.sleep(NS, id);
      }
      const m = process.memoryUsage();
      const c: Checkpoint = {
        actors: ids.length,
        wake: latencyOf(wake),
        create: latencyOf(made),
        at: elapsed,
        diskBytes: await du(dir),
        rss: m.rss,
        heapUsed: m.heapUsed,
      };
      checkpoints.push(c);
      progress(
        `${ids.length.toLocaleString("en-US")} sleeping actors: wake p50 ${fmtMs(c.wake.p50)} p99 ${fmtMs(c.wake.p99)}, ` +
          `create p50 ${fmtMs(c.create.p50)} p99 ${fmtMs(c.create.p99)}, disk ${fmtBytes(c.diskBytes)}, ` +
          `RSS ${fmtBytes(c.rss)}, heap ${fmtBytes(c.heapUsed)}, live ${engine.liveCount}`,
      );
    };

    progress(
      `creating up to ${target.toLocaleString("en-US")} actors in batches of ${batch} (budget ${budgetSeconds}s)`,
    );
    const t0 = performance.now();
    let paused = 0; // time spent measuring at checkpoints: not creation time
    const rates: { n: number; s: number }[] = [];
    let lastLog = t0;
    while (ids.length < target) {
      const elapsed = (performance.now() - t0 - paused) / 1000;
      if (elapsed > budgetSeconds) {
        progress(`time budget reached at ${ids.length.toLocaleString("en-US")} actors`);
        break;
      }
      const nextMark = marks.find((m) => m > ids.length) ?? target;
      const n = Math.min(batch, nextMark - ids.length);
      const start = ids.length;
      const b0 = performance.now();
      const made = await pool(
        Array.from({ length: n }, (_, i) => `a-${start + i}`),
        256,
        create,
      );
      await pool(made, 256, (id) => engine.sleep(NS, id));
      ids.push(...made);
      rates.push({ n, s: (performance.now() - b0) / 1000 });
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        progress(
          `${ids.length.toLocaleString("en-US")} created in ${elapsed.toFixed(0)}s ` +
            `(last batch ${fmtRate(n / (rates.at(-1)?.s ?? 1))}/s)`,
        );
      }
      if (marks.includes(ids.length)) {
        const m0 = performance.now();
        await measure((m0 - t0 - paused) / 1000);
        paused += performance.now() - m0;
      }
    }
    const createSeconds = (performance.now() - t0 - paused) / 1000;
    if (!marks.includes(ids.length)) await measure(createSeconds);
    // Tail rate: the last 10% of the created actors.
    let tailN = 0;
    let tailS = 0;
    for (let i = rates.length - 1; i >= 0 && tailN < ids.length / 10; i--) {
      tailN += rates[i]?.n ?? 0;
      tailS += rates[i]?.s ?? 0;
    }
    const tailRate = tailN / Math.max(1e-9, tailS);
    const diskBytes = await du(dir);
    const first = checkpoints[0];
    const last = checkpoints.at(-1);
    const result: DirectoryResult = {
      target,
      budgetSeconds,
      reached: ids.length,
      createSeconds,
      createRate: ids.length / createSeconds,
      tailRate,
      extrapolatedSeconds:
        ids.length < target ? createSeconds + (target - ids.length) / Math.max(1e-9, tailRate) : null,
      diskBytes,
      diskPerActor: diskBytes / (ids.length + extra),
      checkpoints,
      wakeGrowth: first && last ? last.wake.p50 / first.wake.p50 : NaN,
    };
    await finish(args, result, render(result));
  } finally {
    await running.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function render(r: DirectoryResult): string {
  const out: string[] = [];
  const reached = r.reached.toLocaleString("en-US");
  out.push(
    `Counter actors created through the engine API in process (no HTTP) on LevelStore (synced commits), in ` +
      `batches of 5,000 (256 concurrent creates, then the batch put to sleep), up to ` +
      `${r.target.toLocaleString("en-US")} or a ${r.budgetSeconds} s budget. At each size: wake = first action ` +
      `of a random sleeping actor (load record + state, boot, action, synced commit), one at a time, in process; ` +
      `create = a new key, one at a time.`,
  );
  out.push(
    `**${reached} sleeping actors created in ${r.createSeconds.toFixed(1)} s** ` +
      `(${fmtRate(r.createRate)} creates/s; ${fmtRate(r.tailRate)}/s over the last 10%)` +
      (r.extrapolatedSeconds !== null
        ? `. ${r.target.toLocaleString("en-US")} not reached within the budget: **extrapolated** (not measured) ` +
          `at the tail rate: ~${r.extrapolatedSeconds.toFixed(0)} s.`
        : ".") +
      ` Disk: ${fmtBytes(r.diskBytes)} (${fmtBytes(r.diskPerActor)} per actor, LevelDB before compaction settles).`,
  );
  out.push(
    table(
      [
        "Sleeping actors",
        "Wake p50",
        "Wake p99",
        "Create p50",
        "Create p99",
        "Disk",
        "Process RSS",
        "Heap used",
      ],
      r.checkpoints.map((c) => [
        c.actors.toLocaleString("en-US"),
        fmtMs(c.wake.p50),
        fmtMs(c.wake.p99),
        fmtMs(c.create.p50),
        fmtMs(c.create.p99),
        fmtBytes(c.diskBytes),
        fmtBytes(c.rss),
        fmtBytes(c.heapUsed),
      ]),
    ),
  );
  out.push(
    `Wake p50 at ${reached} over wake p50 at 1,000: ${r.wakeGrowth.toFixed(2)}x (target: flat, within 2x).`,
  );
  return out.join("\n\n");
}

await main();
