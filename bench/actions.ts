/**
 * Action benchmarks: `npx tsx bench/actions.ts` (or `npm run bench`).
 *
 *   --quick            short smoke run (< 60 s; CI); does not write the result files
 *   --only a,b         run only these benchmarks: bare, http-hot, http-1000, http-wide, ws,
 *                      sequential, wake, create, durability, heap
 *   --profile          CPU-profile the engine during the load phases and print the top frames
 *                      (the profiler slows the engine: figures of such a run are marked)
 *   --write/--no-write write bench/RESULTS.md and bench/results.json (default: full runs only)
 *   --keep             keep the temp dir (data, heap snapshots, CPU profiles)
 *
 * Every server runs in a child process (fastify, the engine), so the load generator in this
 * process and the server do not share an event loop: on a 2-core machine, one core each.
 * Progress goes to stderr; the result tables go to stdout.
 */
import { fork, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import autocannon, { type Request as CannonRequest } from "autocannon";
import {
  ACTIONS_BENCHMARKS as BENCHMARKS,
  errorText,
  fromDist,
  importEngine,
  median,
  pool,
} from "./common.js";
import WebSocket from "ws";

const SELF = fileURLToPath(import.meta.url);
const BENCH_DIR = path.dirname(SELF);
const REPO = path.dirname(BENCH_DIR);
const RESULTS_JSON = path.join(BENCH_DIR, "results.json");
const RESULTS_MD = path.join(BENCH_DIR, "RESULTS.md");
const KEEP_RUNS = 5;
const NAMESPACE = "default";

type BenchName = (typeof BENCHMARKS)[number];

/** Targets printed beside the figures (goals, not tests: missing one does not fail the run). */
const TARGETS = {
  httpRatio: 0.5,
  wakeP50Ms: 2,
  heapPerActorBytes: 1024,
};

// ---- shared types ------------------------------------------------------------------------------

interface Latency {
  count: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

interface Throughput {
  /** Successful requests (or actions) per second. */
  rate: number;
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
  latency: Latency;
  /** Sum of the counters after minus before the measured run (engine only). */
  counterDelta?: number;
  /** counterDelta === ok. */
  counted?: boolean;
  /** Ratio of `rate` to bare fastify's, when both ran (median of the per-round ratios). */
  ratio?: number;
  /** Rate of each round (the HTTP benchmarks); `rate` is their median. */
  rounds?: number[];
  /** Synced store writes and the caller batches folded into them, during the measured runs. */
  commits?: number;
  batches?: number;
  /** CPU time over wall time during the measured run: the server child, and this process (load). */
  serverCpu?: number;
  clientCpu?: number;
  /** Server CPU seconds spent, and successful requests per server CPU second (noise-robust cost). */
  serverCpuSeconds?: number;
  perCpuSecond?: number;
  /** perCpuSecond over bare fastify's. */
  cpuRatio?: number;
  /** Synced store writes per second, and caller batches folded into each. */
  commitsPerSecond?: number;
  batchesPerCommit?: number;
}

interface HeapStep {
  actors: number;
  heapPerActor: number;
  rssPerActor: number;
  externalPerActor: number;
  /** V8's committed heap (heapTotal) growth: heapUsed plus free space V8 keeps. */
  heapTotalPerActor: number;
  wakeSeconds: number;
  live: number;
}

interface HeapGroup {
  group: string;
  heldBy: string;
  bytesPerActor: number;
  countPerActor: number;
}

interface HeapResult {
  populateSeconds: number;
  steps: HeapStep[];
  breakdown?: { actors: number; heapDeltaPerActor: number; top: HeapGroup[] };
}

interface ProfileFrame {
  frame: string;
  selfPct: number;
}

interface ProfileSummary {
  totalMs: number;
  /** Sampled time not idle (and not the profiler's own inspector dispatch). */
  busyMs: number;
  /** Percentages below are of busyMs. */
  top: ProfileFrame[];
  categories: ProfileFrame[];
  inclusive: ProfileFrame[];
}

interface Durability {
  /** Increments acknowledged (2xx) before the engine was killed under load. */
  acknowledged: number;
  /** Increments found on disk after restart (sum of counters after minus before). */
  recovered: number;
  /** Requests possibly in flight at the kill (connections): recovered may exceed acknowledged by this much. */
  inFlightBound: number;
  lost: number;
  /** Actors not under load at the kill whose counters differ after restart. */
  mismatchedIdle: number;
  idleChecked: number;
  ok: boolean;
}

interface Run {
  date: string;
  commit: string;
  dirty: boolean;
  node: string;
  cpus: { model: string; count: number };
  /** 1-minute load average at the start and at the end: other work on the machine skews figures. */
  loadavg: [number, number];
  mode: "full" | "quick";
  only: string[] | null;
  profiled: boolean;
  settings: Settings;
  results: {
    bare?: Throughput;
    httpHot?: Throughput;
    http1000?: Throughput;
    /** Same as http1000 with many more connections: how far group commit scales past fsync latency. */
    httpWide?: Throughput;
    ws?: Throughput;
    sequential?: Latency;
    wake?: { client: Latency; boot: Latency; engineAction: Latency; boots: number };
    create?: { client: Latency; boot: Latency };
    durability?: Durability;
    heap?: HeapResult;
    profiles?: Record<string, ProfileSummary>;
  };
  failures: string[];
}

interface Settings {
  warmupSeconds: number;
  /** Seconds per measured round; the HTTP benchmarks run `rounds` rounds, interleaved. */
  loadSeconds: number;
  rounds: number;
  connections: number;
  wideConnections: number;
  actors: number;
  wsConnections: number;
  wsDepth: number;
  sequential: number;
  wakeCycles: number;
  creates: number;
  heapSteps: number[];
  heapWarm: number;
  heapSnapshotAt: number | null;
}

const FULL: Settings = {
  warmupSeconds: 3,
  loadSeconds: 5,
  rounds: 3,
  connections: 20,
  wideConnections: 200,
  actors: 1000,
  wsConnections: 20,
  wsDepth: 8,
  sequential: 3000,
  wakeCycles: 200,
  creates: 500,
  heapSteps: [10_000, 100_000],
  heapWarm: 500,
  heapSnapshotAt: 10_000,
};

const QUICK: Settings = {
  warmupSeconds: 1,
  loadSeconds: 2,
  rounds: 1,
  connections: 20,
  wideConnections: 200,
  actors: 1000,
  wsConnections: 20,
  wsDepth: 8,
  sequential: 300,
  wakeCycles: 50,
  creates: 100,
  heapSteps: [2_000],
  heapWarm: 200,
  heapSnapshotAt: 2_000,
};

// ---- small helpers -------------------------------------------------------------------------------

const started = performance.now();
function progress(message: string): void {
  const t = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${t}s] ${message}\n`);
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Growable sample buffer (milliseconds) with nearest-rank percentiles. */
class Samples {
  #buf = new Float64Array(4096);
  #n = 0;
  add(v: number): void {
    if (this.#n === this.#buf.length) {
      const next = new Float64Array(this.#buf.length * 2);
      next.set(this.#buf);
      this.#buf = next;
    }
    this.#buf[this.#n++] = v;
  }
  addAll(values: readonly number[]): void {
    for (const v of values) this.add(v);
  }
  get count(): number {
    return this.#n;
  }
  summary(): Latency {
    const s = this.#buf.slice(0, this.#n).sort();
    let sum = 0;
    for (const v of s) sum += v;
    return {
      count: this.#n,
      p50: percentile(s, 0.5),
      p99: percentile(s, 0.99),
      mean: this.#n ? sum / this.#n : NaN,
      max: this.#n ? (s[this.#n - 1] ?? NaN) : NaN,
    };
  }
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

/** One figure from several rounds: median rate, pooled latency samples, summed counts. */
function aggregate(rounds: Throughput[], latency: Samples): Throughput {
  const total = (f: (r: Throughput) => number | undefined) => rounds.reduce((a, r) => a + (f(r) ?? 0), 0);
  const mean = (f: (r: Throughput) => number | undefined) => total(f) / Math.max(1, rounds.length);
  const seconds = total((r) => r.seconds);
  const t: Throughput = {
    rate: median(rounds.map((r) => r.rate)),
    rounds: rounds.map((r) => r.rate),
    ok: total((r) => r.ok),
    non2xx: total((r) => r.non2xx),
    errors: total((r) => r.errors),
    seconds,
    latency: latency.summary(),
    serverCpu: mean((r) => r.serverCpu),
    clientCpu: mean((r) => r.clientCpu),
  };
  if (rounds.every((r) => r.serverCpuSeconds !== undefined)) {
    t.serverCpuSeconds = total((r) => r.serverCpuSeconds);
    t.perCpuSecond = t.ok / t.serverCpuSeconds;
  }
  if (rounds.every((r) => r.counterDelta !== undefined)) {
    t.counterDelta = total((r) => r.counterDelta);
    t.counted = rounds.every((r) => r.counted);
  }
  if (rounds.every((r) => r.commits !== undefined)) {
    t.commits = total((r) => r.commits);
    t.batches = total((r) => r.batches);
    t.commitsPerSecond = t.commits / seconds;
    t.batchesPerCommit = t.batches / Math.max(1, t.commits);
  }
  return t;
}

function latencyOf(values: readonly number[]): Latency {
  const s = new Samples();
  s.addAll(values);
  return s.summary();
}

// ---- child processes -------------------------------------------------------------------------------

interface ReadyMessage {
  type: "ready";
  url?: string;
}
interface ReplyMessage {
  type: "reply";
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}
interface CommandMessage {
  id: number;
  cmd: string;
  arg?: unknown;
}

/** A child process running one role of this file, driven over IPC. */
class Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;

  private constructor(proc: ChildProcess) {
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once("exit", (code) => resolve(code)));
    proc.on("message", (raw) => {
      const m = raw as ReplyMessage;
      if (m.type !== "reply") return;
      const w = this.#waiting.get(m.id);
      if (!w) return;
      this.#waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(m.error ?? "child command failed"));
    });
    void this.exited.then((code) => {
      for (const w of this.#waiting.values())
        w.reject(new Error(`child exited (code ${code}) with a command pending`));
      this.#waiting.clear();
    });
  }

  static async start(
    role: string,
    env: Record<string, string>,
    execArgv: string[] = [],
  ): Promise<[Child, ReadyMessage]> {
    const proc = fork(SELF, [], {
      env: { ...process.env, ...env, BENCH_ROLE: role },
      execArgv: [...process.execArgv, ...execArgv],
      // The children's output (engine warnings, errors) joins our progress on stderr.
      stdio: ["ignore", 2, 2, "ipc"],
    });
    const child = new Child(proc);
    const ready = await new Promise<ReadyMessage>((resolve, reject) => {
      proc.on("message", (m) => {
        if ((m as ReadyMessage).type === "ready") resolve(m as ReadyMessage);
      });
      void child.exited.then((code) =>
        reject(new Error(`${role} child exited (code ${code}) before it was ready`)),
      );
    });
    return [child, ready];
  }

  call<T>(cmd: string, arg?: unknown): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, cmd, arg } satisfies CommandMessage);
    });
  }

  /** Asks the child to close down gracefully; kills it if it takes longer than 60 s. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 60_000);
    await this.call("exit").catch(() => undefined);
    await this.exited;
    clearTimeout(timer);
  }

  async kill9(): Promise<void> {
    this.proc.kill("SIGKILL");
    await this.exited;
  }
}

/** Child side: answers the parent's commands. */
function serve(commands: Record<string, (arg: unknown) => unknown>): void {
  let profiler: Awaited<ReturnType<typeof startProfiler>> | undefined;
  const all: Record<string, (arg: unknown) => unknown> = {
    cpu: () => process.cpuUsage(),
    profileStart: async () => {
      profiler = await startProfiler();
      return true;
    },
    profileStop: async (arg) => {
      if (!profiler) throw new Error("no profile running");
      const summary = await profiler.stop((arg as { file: string }).file);
      profiler = undefined;
      return summary;
    },
    ...commands,
  };
  process.on("message", (raw) => {
    const m = raw as CommandMessage;
    void (async () => {
      try {
        const handler = all[m.cmd];
        if (!handler) throw new Error(`unknown command ${m.cmd}`);
        const result = await handler(m.arg);
        process.send?.({ type: "reply", id: m.id, ok: true, result } satisfies ReplyMessage);
      } catch (e) {
        process.send?.({ type: "reply", id: m.id, ok: false, error: errorText(e) } satisfies ReplyMessage);
      }
    })();
  });
  // Never outlive the parent.
  process.on("disconnect", () => process.exit(0));
}

/** The benchmark's actor: a counter, as in the brief. */
async function benchRegistry() {
  const { actor, setup } = await importEngine();
  const counter = actor({
    state: { count: 0 },
    actions: {
      increment: (c, n: number) => (c.state.count += n),
      get: (c) => c.state.count,
    },
  });
  return setup({ use: { counter } });
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

async function bareChild(): Promise<void> {
  const { default: Fastify } = await import("fastify");
  const app = Fastify({ logger: false });
  let count = 0;
  app.post("/counter", async (req) => {
    const body = req.body as { args?: unknown[] } | null;
    const n = body?.args?.[0];
    count += typeof n === "number" ? n : 1;
    return { output: count };
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  serve({
    exit: () => {
      setImmediate(() => void app.close().then(() => process.exit(0)));
      return true;
    },
  });
  process.send?.({ type: "ready", url: `http://127.0.0.1:${port}` } satisfies ReadyMessage);
}

/** Starts a CPU profile with the inspector; `stop` writes it and returns its summary. */
async function startProfiler() {
  const { Session } = await import("node:inspector/promises");
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 250 });
  await session.post("Profiler.start");
  return {
    async stop(file: string): Promise<ProfileSummary> {
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      await writeFile(file, JSON.stringify(profile));
      return summarizeProfile(profile as unknown as CpuProfile);
    },
  };
}

async function engineChild(): Promise<void> {
  const registry = await benchRegistry();
  const running = await registry.start({
    storage: { driver: "fileSystem", fileSystem: { path: env("BENCH_DATA") } },
    gateway: { host: "127.0.0.1", port: 0 },
    auth: { adminToken: env("BENCH_TOKEN") },
    log: { level: "warn" },
    env: {},
    handleSignals: false,
  });
  if (running.mode !== "embedded") throw new Error("the benchmark's engine child must run embedded");
  const engine = running.engine;

  // Instrumentation lives here, in the benchmark: the engine code is untouched. Boots are timed
  // by wrapping the host's start (ActorInstance.boot: state load, onWake, first commit).
  let boots: number[] = [];
  const hostStart = engine.host.start.bind(engine.host);
  engine.host.start = async (record, services) => {
    const t = performance.now();
    try {
      return await hostStart(record, services);
    } finally {
      boots.push(performance.now() - t);
    }
  };
  let actions: number[] = [];
  const engineAction = engine.action.bind(engine);
  serve({
    stats: (arg) => {
      const out = { boots, actions, store: engine.store.stats(), live: engine.liveCount };
      if ((arg as { reset?: boolean } | undefined)?.reset) {
        boots = [];
        actions = [];
      }
      return out;
    },
    instrument: (arg) => {
      if ((arg as { on: boolean }).on) {
        // Times the whole in-engine handling of an action: lookup, wake, action, durable commit.
        engine.action = async (...a) => {
          const t = performance.now();
          try {
            return await engineAction(...a);
          } finally {
            actions.push(performance.now() - t);
          }
        };
      } else {
        delete (engine as { action?: unknown }).action;
      }
      return true;
    },
    exit: () => {
      setImmediate(() => void running.close().then(() => process.exit(0)));
      return true;
    },
  });
  process.send?.({ type: "ready", url: running.url } satisfies ReadyMessage);
}

/** Heap measurements: an engine without a listener, driven directly (no HTTP in the figures). */
async function heapChild(): Promise<void> {
  const registry = await benchRegistry();
  const { createEngine } = await importEngine();
  const open = () =>
    createEngine({
      registry,
      storage: { driver: "fileSystem", fileSystem: { path: env("BENCH_DATA") } },
      auth: { adminToken: env("BENCH_TOKEN") },
      // Nothing may fall asleep while it is being measured.
      actors: { sleepTimeoutMs: 3_600_000 },
      log: { level: "warn" },
      env: {},
    });

  serve({
    /** Creates `count` actors (each boots and commits its initial state), then closes the engine. */
    populate: async (arg) => {
      const { count, idsFile } = arg as { count: number; idsFile: string };
      const t = performance.now();
      const running = await open();
      const keys = Array.from({ length: count }, (_, i) => `heap-${i}`);
      const ids = await pool(keys, 256, async (key) => {
        const { record } = await running.engine.getOrCreate(
          NAMESPACE,
          "counter",
          [key],
          undefined,
          "getOrCreate",
        );
        return record.actorId;
      });
      await writeFile(idsFile, JSON.stringify(ids));
      await running.close();
      return { seconds: (performance.now() - t) / 1000 };
    },
    /** Wakes actors in steps and measures heap and RSS growth per awake idle actor. */
    measure: async (arg) => {
      const { idsFile, warm, steps, snapshotAt, snapDir } = arg as {
        idsFile: string;
        warm: number;
        steps: number[];
        snapshotAt: number | null;
        snapDir: string;
      };
      const gc = (globalThis as { gc?: () => void }).gc;
      if (!gc) throw new Error("the heap child needs --expose-gc");
      const settle = async () => {
        for (let i = 0; i < 4; i++) {
          gc();
          await delay(20);
        }
        return process.memoryUsage();
      };
      const ids = JSON.parse(await readFile(idsFile, "utf8")) as string[];
      const running = await open();
      const engine = running.engine;
      const wake = (slice: string[]) =>
        pool(slice, 256, (id) => engine.action(NAMESPACE, id, "increment", [1]));
      // Warm the code paths (JIT, lazily built engine parts) on actors that are not measured.
      const warmIds = ids.slice(0, warm);
      await wake(warmIds);
      await pool(warmIds, 64, (id) => engine.sleep(NAMESPACE, id));
      const snapshots: { before?: string; after?: string } = {};
      if (snapshotAt !== null)
        snapshots.before = v8.writeHeapSnapshot(path.join(snapDir, "before.heapsnapshot"));
      const m0 = await settle();
      const out: HeapStep[] = [];
      let done = warm;
      for (const step of steps) {
        if (warm + step > ids.length) throw new Error(`only ${ids.length} actors were created`);
        const t = performance.now();
        await wake(ids.slice(done, warm + step));
        const wakeSeconds = (performance.now() - t) / 1000;
        done = warm + step;
        const m = await settle();
        out.push({
          actors: step,
          heapPerActor: (m.heapUsed - m0.heapUsed) / step,
          rssPerActor: (m.rss - m0.rss) / step,
          externalPerActor: (m.external - m0.external) / step,
          heapTotalPerActor: (m.heapTotal - m0.heapTotal) / step,
          wakeSeconds,
          live: engine.liveCount,
        });
        if (snapshotAt === step)
          snapshots.after = v8.writeHeapSnapshot(path.join(snapDir, "after.heapsnapshot"));
      }
      await running.close();
      return { steps: out, snapshots };
    },
    exit: () => {
      setImmediate(() => process.exit(0));
      return true;
    },
  });
  process.send?.({ type: "ready" } satisfies ReadyMessage);
}

// ---- load generation ---------------------------------------------------------------------------------

const BODY = JSON.stringify({ args: [1] });

interface CannonOptions {
  base: string;
  /** One path: every connection sends it. Several: connection k cycles over paths k, k+C, k+2C... */
  paths: string[];
  headers: Record<string, string>;
  connections: number;
  duration?: number;
  amount?: number;
  latency?: Samples;
  /** Called with the running instance (to stop it early). */
  onStart?: (instance: { stop(): void }) => void;
}

async function cannon(o: CannonOptions): Promise<Throughput> {
  const headers = { "content-type": "application/json", ...o.headers };
  const request = (p: string): CannonRequest => ({ method: "POST", path: p, headers, body: BODY });
  let nextClient = 0;
  const slices: CannonRequest[][] = [];
  if (o.paths.length > 1) {
    for (let k = 0; k < o.connections; k++) {
      const slice: CannonRequest[] = [];
      for (let j = k; j < o.paths.length; j += o.connections) slice.push(request(o.paths[j] as string));
      slices.push(slice);
    }
  }
  const t0 = performance.now();
  let tLast = t0;
  const instance = autocannon({
    url: o.base + (o.paths[0] ?? "/"),
    method: "POST",
    headers,
    body: BODY,
    connections: o.connections,
    pipelining: 1,
    timeout: 10,
    sampleInt: 100,
    ...(o.amount !== undefined ? { amount: o.amount } : { duration: o.duration ?? 10 }),
    ...(slices.length > 0
      ? {
          setupClient: (client) =>
            client.setRequests(slices[nextClient++ % slices.length] as CannonRequest[]),
        }
      : {}),
  });
  // autocannon's own histogram has 1 ms resolution; record the exact response times instead.
  instance.on("response", (_client, status, _bytes, ms) => {
    tLast = performance.now();
    if (status >= 200 && status < 300) o.latency?.add(ms);
  });
  o.onStart?.(instance);
  const result = await instance;
  const seconds = (tLast - t0) / 1000;
  return {
    rate: result["2xx"] / seconds,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    seconds,
    latency: (o.latency ?? new Samples()).summary(),
  };
}

/** Runs a load phase and notes how busy the server child and this process (the load) were. */
async function withCpu(server: Child, fn: () => Promise<Throughput>): Promise<Throughput> {
  const cpuOf = async () => {
    const c = await server.call<NodeJS.CpuUsage>("cpu");
    return c.user + c.system;
  };
  const s0 = await cpuOf();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await fn();
  const wall = (performance.now() - t0) * 1000;
  const c1 = process.cpuUsage(c0);
  const serverUs = (await cpuOf()) - s0;
  r.serverCpu = serverUs / wall;
  r.serverCpuSeconds = serverUs / 1e6;
  r.perCpuSecond = r.ok / r.serverCpuSeconds;
  r.clientCpu = (c1.user + c1.system) / wall;
  return r;
}

interface HttpResult {
  status: number;
  body: unknown;
}

function requestJson(
  agent: http.Agent,
  base: string,
  method: string,
  p: string,
  token: string,
  body?: unknown,
) {
  return new Promise<HttpResult>((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { authorization: `Bearer ${token}` };
    if (data !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(data);
    }
    const req = http.request(base + p, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on("error", reject);
    req.end(data);
  });
}

/** The engine's HTTP API, as the benchmark uses it. */
class Api {
  readonly base: string;
  readonly token: string;
  readonly agent: http.Agent;
  constructor(base: string, token: string, maxSockets: number) {
    this.base = base;
    this.token = token;
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }
  async #call(method: string, p: string, body?: unknown): Promise<unknown> {
    const r = await requestJson(this.agent, this.base, method, p, this.token, body);
    if (r.status < 200 || r.status > 299)
      throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
  async create(key: string): Promise<{ id: string; created: boolean }> {
    const b = (await this.#call("PUT", "/actors", { name: "counter", key: [key] })) as {
      actor: { actorId: string };
      created: boolean;
    };
    return { id: b.actor.actorId, created: b.created };
  }
  async action(id: string, name: string, args: unknown[]): Promise<unknown> {
    const b = (await this.#call("POST", `/gateway/${id}/action/${name}`, { args })) as { output: unknown };
    return b.output;
  }
  async sleep(id: string): Promise<void> {
    await this.#call("POST", `/actors/${id}/sleep`);
  }
  async counters(ids: readonly string[]): Promise<number[]> {
    return pool(ids, 32, async (id) => Number(await this.action(id, "get", [])));
  }
  close(): void {
    this.agent.destroy();
  }
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function openSocket(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ["enclave.v1"], { headers: { authorization: `Bearer ${token}` } });
    const fail = (e: unknown) => reject(e instanceof Error ? e : new Error(String(e)));
    ws.once("error", fail);
    ws.once("close", (code, reason) => fail(new Error(`closed before init: ${code} ${String(reason)}`)));
    ws.once("message", (data) => {
      const m = JSON.parse(String(data)) as { t: string };
      if (m.t !== "init") return fail(new Error(`expected init, got ${String(data)}`));
      ws.removeAllListeners("error");
      ws.removeAllListeners("close");
      // Later socket errors show up as missing results; an unhandled 'error' event would crash.
      ws.on("error", (e) => progress(`WebSocket error: ${e.message}`));
      resolve(ws);
    });
  });
}

/** Each socket keeps `depth` actions in flight for `seconds`; then the pipelines drain. */
async function wsLoad(
  base: string,
  token: string,
  ids: string[],
  depth: number,
  seconds: number,
  latency?: Samples,
) {
  const wsBase = base.replace(/^http/, "ws");
  const sockets = await Promise.all(ids.map((id) => openSocket(`${wsBase}/gateway/${id}/connect`, token)));
  let running = true;
  let ok = 0;
  let errors = 0;
  let outstanding = 0;
  let drained: () => void = () => undefined;
  const allDrained = new Promise<void>((r) => (drained = r));
  const t0 = performance.now();
  let tLast = t0;
  for (const ws of sockets) {
    const starts = new Float64Array(1024);
    let nextId = 0;
    const sendOne = () => {
      const id = nextId++;
      starts[id & 1023] = performance.now();
      outstanding++;
      ws.send(`{"t":"action","id":${id},"name":"increment","args":[1]}`);
    };
    ws.on("message", (data) => {
      const now = performance.now();
      const m = JSON.parse(String(data)) as { t: string; id?: number };
      if (m.id === undefined) {
        errors++;
        return;
      }
      if (m.t === "result") {
        ok++;
        latency?.add(now - (starts[m.id & 1023] ?? now));
      } else {
        errors++;
      }
      outstanding--;
      tLast = now;
      if (running) sendOne();
      else if (outstanding === 0) drained();
    });
    for (let i = 0; i < depth; i++) sendOne();
  }
  await delay(seconds * 1000);
  running = false;
  await Promise.race([allDrained, delay(15_000)]);
  for (const ws of sockets) ws.close();
  const elapsed = (tLast - t0) / 1000;
  return { ok, errors, seconds: elapsed, lost: outstanding };
}

// ---- profiles ----------------------------------------------------------------------------------------

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

function shortUrl(url: string): string {
  if (!url) return "";
  const u = url.replace(/^file:\/\//, "");
  const nm = u.lastIndexOf("node_modules/");
  if (nm >= 0) return u.slice(nm + "node_modules/".length);
  if (u.startsWith(REPO)) return u.slice(REPO.length + 1);
  return u;
}

function category(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native)";
  const u = shortUrl(url);
  if (u.startsWith("lib/")) return `enclave ${u.split("/").slice(0, 2).join("/")}`;
  if (url.includes("node_modules/")) {
    const parts = u.split("/");
    return (parts[0] ?? "").startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? u);
  }
  if (u.startsWith("node:")) return u.startsWith("node:internal/") ? "node internals" : u;
  return u;
}

/** Not work of the engine: waiting, and the inspector serving the profiler itself. */
const NOT_BUSY = new Set(["(idle)", "(root)", "dispatch"]);

/**
 * Self time by frame and by component, and inclusive time by function (each function counted
 * once per sample), as percentages of the busy (non-idle) time.
 */
function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (id: number) => {
    const n = byId.get(id);
    if (!n) return "?";
    const { functionName, url, lineNumber } = n.callFrame;
    const fn = functionName || "(anonymous)";
    return url ? `${fn} ${shortUrl(url)}${lineNumber > 0 ? `:${lineNumber + 1}` : ""}` : fn;
  };
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let busy = 0;
  let sampled = 0;
  const frames = new Map<string, number>();
  const cats = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    sampled += us;
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url } = n.callFrame;
    if (!url && NOT_BUSY.has(functionName)) continue;
    busy += us;
    const key = label(id);
    frames.set(key, (frames.get(key) ?? 0) + us);
    const c = category(url, functionName || "(anonymous)");
    cats.set(c, (cats.get(c) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = label(cur);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m]
      .filter(([frame]) => !frame.startsWith("("))
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([frame, us]) => ({ frame, selfPct: (100 * us) / Math.max(1, busy) }));
  const topAll = (m: Map<string, number>, k: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([frame, us]) => ({ frame, selfPct: (100 * us) / Math.max(1, busy) }));
  return {
    totalMs: sampled / 1000,
    busyMs: busy / 1000,
    top: topAll(frames, 25),
    categories: topAll(cats, 15),
    inclusive: top(inclusive, 40),
  };
}

// ---- heap snapshots ----------------------------------------------------------------------------------

interface HeapSnapshotFile {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/**
 * Groups a heap snapshot's objects by what they are and who holds them ("(heap number) <-
 * ActorInstance.#lastActive"), so that a diff of two snapshots says where the bytes went.
 */
function groupSnapshot(file: string): Map<string, { what: string; count: number; size: number }> {
  const snap = JSON.parse(readFileSync(file, "utf8")) as HeapSnapshotFile;
  const { meta } = snap.snapshot;
  const { nodes, edges, strings } = snap;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const [T, N, S, EC] = ["type", "name", "self_size", "edge_count"].map((f) =>
    meta.node_fields.indexOf(f),
  ) as [number, number, number, number];
  const [ET, EN, ETO] = ["type", "name_or_index", "to_node"].map((f) => meta.edge_fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const count = nodes.length / nf;
  const owner = new Int32Array(count).fill(-1);
  const ownerEdge = new Int32Array(count);
  const ownerRank = new Uint8Array(count).fill(255);
  // Owner of each node: its first holder of the best kind: a JS object or closure through a named
  // edge (a field), then an engine array through an element (property array, hash table), then
  // anything else (object shapes, code).
  let e = 0;
  for (let i = 0; i < count; i++) {
    const parentType = nodeTypes[nodes[i * nf + T] as number];
    const n = nodes[i * nf + EC] as number;
    for (let k = 0; k < n; k++, e += ef) {
      const et = edgeTypes[edges[e + ET] as number];
      if (et === "weak" || et === "shortcut" || parentType === "synthetic") continue;
      const named = et === "property" || et === "context" || et === "internal";
      const rank =
        named && (parentType === "object" || parentType === "closure")
          ? 0
          : !named && (parentType === "array" || parentType === "hidden")
            ? 1
            : 2;
      const to = (edges[e + ETO] as number) / nf;
      if (rank >= (ownerRank[to] as number)) continue;
      owner[to] = i;
      ownerEdge[to] = e;
      ownerRank[to] = rank;
    }
  }
  const typeOf = (i: number) => nodeTypes[nodes[i * nf + T] as number] ?? "?";
  const base = (i: number): string => {
    const type = typeOf(i);
    const name = strings[nodes[i * nf + N] as number] ?? "";
    switch (type) {
      case "object":
        return name;
      case "closure":
        return `closure ${name || "(anonymous)"}`;
      case "string":
      case "concatenated string":
      case "sliced string":
        if (/^[A-Za-z0-9_-]{22}$/.test(name)) return "(string: 22-char id)";
        if (/^[[{]/.test(name)) return "(string: JSON)";
        return "(string)";
      case "number":
        return "(heap number)";
      case "array":
      case "hidden":
      case "native":
        return name ? `${type} ${name}` : `(${type})`;
      default:
        return `(${type})`;
    }
  };
  const edgeName = (edgeIndex: number): string => {
    const et = edgeTypes[edges[edgeIndex + ET] as number];
    if (et === "element" || et === "hidden") return "[]";
    return strings[edges[edgeIndex + EN] as number] ?? "?";
  };
  const label = (i: number): string => {
    let out = base(i);
    let cur = i;
    // Climb through engine-internal containers (property arrays, hash tables) to a named holder.
    for (let depth = 0; depth < 3; depth++) {
      const o = owner[cur] as number;
      if (o < 0) break;
      out += ` <- ${base(o)}.${edgeName(ownerEdge[cur] as number)}`;
      const ot = typeOf(o);
      if (ot !== "array" && ot !== "hidden") break;
      cur = o;
    }
    return out;
  };
  const groups = new Map<string, { what: string; count: number; size: number }>();
  for (let i = 0; i < count; i++) {
    const key = label(i);
    const g = groups.get(key) ?? { what: base(i), count: 0, size: 0 };
    g.count++;
    g.size += nodes[i * nf + S] as number;
    groups.set(key, g);
  }
  return groups;
}

/** Per actor: what grew between the snapshots, by kind of object and holder. */
function diffSnapshots(beforeFile: string, afterFile: string, actors: number) {
  const before = groupSnapshot(beforeFile);
  const after = groupSnapshot(afterFile);
  const rows: HeapGroup[] = [];
  let total = 0;
  const add = (what: string, label: string, size: number, n: number) => {
    total += size;
    rows.push({
      group: what,
      heldBy: label.slice(what.length).replace(/^ <- /, "") || "(root)",
      bytesPerActor: size / actors,
      countPerActor: n / actors,
    });
  };
  for (const [label, a] of after) {
    const b = before.get(label);
    add(a.what, label, a.size - (b?.size ?? 0), a.count - (b?.count ?? 0));
  }
  for (const [label, b] of before) if (!after.has(label)) add(b.what, label, -b.size, -b.count);
  rows.sort((x, y) => y.bytesPerActor - x.bytesPerActor);
  return { actors, heapDeltaPerActor: total / actors, top: rows.slice(0, 25) };
}

// ---- the benchmarks ----------------------------------------------------------------------------------

interface Options {
  quick: boolean;
  only: Set<BenchName> | undefined;
  profile: boolean;
  write: boolean;
  keep: boolean;
  /** For bench/main.ts: write `{ data: run, md }` here instead of RESULTS.md / results.json. */
  out: string | undefined;
}

function parseArgs(argv: string[]): Options {
  let quick = false;
  let only: Set<BenchName> | undefined;
  let profile = false;
  let write: boolean | undefined;
  let keep = false;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") quick = true;
    else if (a === "--profile") profile = true;
    else if (a === "--write") write = true;
    else if (a === "--keep") keep = true;
    else if (a === "--no-write") write = false;
    else if (a === "--out") out = argv[++i];
    else if (a === "--only" || a?.startsWith("--only=")) {
      const value = a === "--only" ? argv[++i] : a.slice("--only=".length);
      only = new Set();
      for (const name of (value ?? "").split(",").filter(Boolean)) {
        if (!(BENCHMARKS as readonly string[]).includes(name)) {
          throw new Error(`unknown benchmark "${name}"; choose from ${BENCHMARKS.join(", ")}`);
        }
        only.add(name as BenchName);
      }
      if (only.size === 0) throw new Error("--only needs a benchmark name");
    } else if (a === "--help" || a === "-h") {
      process.stdout.write(
        `usage: npx tsx bench/actions.ts [--quick] [--only ${BENCHMARKS.join(",")}] [--profile] [--write|--no-write] [--keep] [--out FILE]\n`,
      );
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${a}`);
    }
  }
  if (out !== undefined) write = false;
  return { quick, only, profile, keep, out, write: write ?? (!quick && !only && !profile) };
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, {
      cwd: REPO,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "";
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const s = opts.quick ? QUICK : FULL;
  const wants = (name: BenchName) => !opts.only || opts.only.has(name);
  const cpus = os.cpus();
  const run: Run = {
    date: new Date().toISOString(),
    commit: git(["rev-parse", "--short", "HEAD"]) || "unknown",
    dirty: git(["status", "--porcelain", "--untracked-files=no"]) !== "",
    node: process.version,
    cpus: { model: cpus[0]?.model.trim() ?? "unknown", count: cpus.length },
    loadavg: [os.loadavg()[0] ?? 0, 0],
    mode: opts.quick ? "quick" : "full",
    only: opts.only ? [...opts.only] : null,
    profiled: opts.profile,
    settings: s,
    results: {},
    failures: [],
  };
  const fail = (what: string) => {
    run.failures.push(what);
    progress(`FAILED: ${what}`);
  };
  const tmp = await mkdtemp(path.join(os.tmpdir(), "enclave-bench-"));
  progress(
    `${run.mode} run, commit ${run.commit}${run.dirty ? " (modified)" : ""}, ${run.node}, ${cpus.length} cpus, ` +
      `load average ${run.loadavg[0].toFixed(2)}; temp ${tmp}`,
  );
  const profiles: Record<string, ProfileSummary> = {};
  const token = randomBytes(24).toString("base64url");
  const auth = { authorization: `Bearer ${token}` };

  try {
    const profiled = async <T>(server: Child, name: string | undefined, fn: () => Promise<T>): Promise<T> => {
      if (!opts.profile || name === undefined) return fn();
      await server.call("profileStart");
      try {
        return await fn();
      } finally {
        const file = path.join(tmp, `${name}.cpuprofile`);
        const summary = await server.call<ProfileSummary>("profileStop", { file });
        profiles[name] = summary;
        progress(
          `profile ${name}: ${summary.busyMs.toFixed(0)} ms busy of ${summary.totalMs.toFixed(0)} ms sampled; ` +
            `self time, % of busy (file ${file})`,
        );
        for (const f of summary.top.slice(0, 20))
          progress(`  ${f.selfPct.toFixed(1).padStart(5)}%  ${f.frame}`);
        progress(`profile ${name}: self time by component`);
        for (const f of summary.categories.slice(0, 12))
          progress(`  ${f.selfPct.toFixed(1).padStart(5)}%  ${f.frame}`);
        progress(`profile ${name}: inclusive time by function`);
        for (const f of summary.inclusive.slice(0, 40))
          progress(`  ${f.selfPct.toFixed(1).padStart(5)}%  ${f.frame}`);
      }
    };

    /**
     * The HTTP throughput benchmarks: each warms up once, then all run `s.rounds` interleaved
     * rounds (bare, hot, round-robin, wide, bare, hot, ...), so that a shared, noisy machine
     * skews them alike; the ratio to bare fastify is the median of the per-round ratios.
     */
    interface Plan {
      key: "bare" | "httpHot" | "http1000" | "httpWide";
      name: BenchName;
      label: string;
      server: Child;
      base: string;
      paths: string[];
      headers: Record<string, string>;
      connections: number;
      /** Sum of the plan's counters (engine only). */
      counters?: () => Promise<number>;
      amount: number;
      results: Throughput[];
      latency: Samples;
    }
    const runRounds = async (plans: Plan[]) => {
      for (const p of plans) {
        progress(`${p.label}: warming up ${s.warmupSeconds}s`);
        const warm = await cannon({ ...p, amount: undefined, latency: undefined, duration: s.warmupSeconds });
        if (warm.non2xx || warm.errors)
          fail(`${p.label} warm-up: ${warm.non2xx} non-2xx, ${warm.errors} errors`);
        p.amount = Math.max(p.connections * 100, Math.round(warm.rate * s.loadSeconds));
      }
      await delay(300); // let requests cut off at the end of a warm-up finish
      for (let round = 0; round < s.rounds; round++) {
        for (const p of plans) {
          const before = p.counters ? await p.counters() : 0;
          const stats = () =>
            p.server.call<{ store: { commits: number; batches: number } }>("stats", { reset: true });
          const st0 = p.key === "bare" ? undefined : await stats();
          const r = await profiled(p.server, round === 0 ? p.name : undefined, () =>
            withCpu(p.server, () => cannon({ ...p, amount: p.amount, latency: p.latency })),
          );
          if (st0) {
            const st1 = await stats();
            r.commits = st1.store.commits - st0.store.commits;
            r.batches = st1.store.batches - st0.store.batches;
          }
          if (p.counters) {
            r.counterDelta = (await p.counters()) - before;
            r.counted = r.counterDelta === r.ok;
          }
          p.results.push(r);
          progress(
            `${p.label}, round ${round + 1}/${s.rounds}: ${fmtRate(r.rate)} req/s over ${p.amount} requests, ` +
              `p50 ${fmtMs(r.latency.p50)}, p99 ${fmtMs(r.latency.p99)} (so far), non-2xx ${r.non2xx}, ` +
              `cpu server ${pct(r.serverCpu)} load ${pct(r.clientCpu)}` +
              (r.counterDelta !== undefined ? `, counters +${r.counterDelta} for ${r.ok} acknowledged` : ""),
          );
          if (r.non2xx || r.errors) fail(`${p.label}: ${r.non2xx} non-2xx, ${r.errors} errors`);
          if (r.counted === false) {
            fail(`${p.label}: counters grew by ${r.counterDelta} but ${r.ok} increments were acknowledged`);
          }
        }
      }
      const bareRounds = plans.find((p) => p.key === "bare")?.results;
      for (const p of plans) {
        const t = aggregate(p.results, p.latency);
        if (bareRounds && p.key !== "bare" && p.connections === s.connections) {
          t.ratio = median(p.results.map((r, i) => r.rate / (bareRounds[i]?.rate ?? NaN)));
          const bareAll = run.results.bare ?? aggregate(bareRounds, new Samples());
          if (t.perCpuSecond && bareAll.perCpuSecond) t.cpuRatio = t.perCpuSecond / bareAll.perCpuSecond;
        }
        run.results[p.key] = t;
        progress(
          `${p.label}: median ${fmtRate(t.rate)} req/s, p50 ${fmtMs(t.latency.p50)}, p99 ${fmtMs(t.latency.p99)}` +
            `, ${fmtRate(t.perCpuSecond)} per server CPU-second` +
            (t.ratio !== undefined
              ? `, ${t.ratio.toFixed(2)}x bare (${t.cpuRatio?.toFixed(2)}x per CPU-second)`
              : ""),
        );
      }
    };

    const plans: Plan[] = [];
    const plan = (
      p: Omit<Plan, "amount" | "results" | "latency" | "connections"> & { connections?: number },
    ): Plan => ({ connections: s.connections, ...p, amount: 0, results: [], latency: new Samples() });

    // 1. Bare fastify: the ceiling for one Node process serving a POST route on this machine.
    let bare: Child | undefined;
    if (wants("bare")) {
      progress("bare fastify: starting the server child");
      const [child, ready] = await Child.start("bare", {});
      bare = child;
      const p = plan({
        key: "bare",
        name: "bare",
        label: "bare fastify",
        server: child,
        base: ready.url as string,
        paths: ["/counter"],
        headers: {},
      });
      plans.push(p);
    }

    const enginePhases: BenchName[] = [
      "http-hot",
      "http-1000",
      "http-wide",
      "ws",
      "sequential",
      "wake",
      "create",
      "durability",
    ];
    if (!enginePhases.some(wants)) {
      try {
        await runRounds(plans);
      } finally {
        await bare?.stop();
      }
    } else {
      const dataDir = path.join(tmp, "engine");
      const engineEnv = { BENCH_DATA: dataDir, BENCH_TOKEN: token };
      progress("engine: starting the engine child (LevelStore in a temp dir)");
      let [engine, ready] = await Child.start("engine", engineEnv);
      let base = ready.url as string;
      let api = new Api(base, token, 32);
      const seq = new Api(base, token, 1);
      try {
        // Actors: one hot, `s.actors` for round-robin (also woken by the wake test), one per
        // WebSocket connection, one for sequential calls.
        const t = performance.now();
        const hot = (await api.create("hot")).id;
        const many = await pool(
          Array.from({ length: s.actors }, (_, i) => `rr-${i}`),
          32,
          async (k) => (await api.create(k)).id,
        );
        const wsIds = await pool(
          Array.from({ length: s.wsConnections }, (_, i) => `ws-${i}`),
          8,
          async (k) => (await api.create(k)).id,
        );
        const seqId = (await api.create("sequential")).id;
        progress(
          `engine: ${2 + s.actors + s.wsConnections} actors created in ${((performance.now() - t) / 1000).toFixed(1)}s`,
        );

        // 2. Durable HTTP actions.
        const actionPaths = (ids: string[]) => ids.map((id) => `/gateway/${id}/action/increment`);
        const counters = (ids: string[]) => async () => sum(await api.counters(ids));
        const engineAt = { server: engine, base, headers: auth };
        if (wants("http-hot")) {
          plans.push(
            plan({
              ...engineAt,
              key: "httpHot",
              name: "http-hot",
              label: "HTTP, 1 hot actor",
              paths: actionPaths([hot]),
              counters: counters([hot]),
            }),
          );
        }
        if (wants("http-1000")) {
          plans.push(
            plan({
              ...engineAt,
              key: "http1000",
              name: "http-1000",
              label: `HTTP, ${s.actors} actors`,
              paths: actionPaths(many),
              counters: counters(many),
            }),
          );
        }
        if (wants("http-wide")) {
          plans.push(
            plan({
              ...engineAt,
              key: "httpWide",
              name: "http-wide",
              label: `HTTP, ${s.actors} actors, ${s.wideConnections} connections`,
              paths: actionPaths(many),
              counters: counters(many),
              connections: s.wideConnections,
            }),
          );
        }
        try {
          await runRounds(plans);
        } finally {
          await bare?.stop();
        }

        // 3. WebSocket actions.
        if (wants("ws")) {
          const label = `WebSocket, ${s.wsConnections} connections x ${s.wsDepth} in flight`;
          progress(`${label}: warming up ${s.warmupSeconds}s`);
          await wsLoad(base, token, wsIds, s.wsDepth, s.warmupSeconds);
          const before = sum(await api.counters(wsIds));
          const latency = new Samples();
          progress(`${label}: ${s.loadSeconds * s.rounds}s`);
          let w = { ok: 0, errors: 0, seconds: 0, lost: 0 };
          const r = await profiled(engine, "ws", () =>
            withCpu(engine, async () => {
              w = await wsLoad(base, token, wsIds, s.wsDepth, s.loadSeconds * s.rounds, latency);
              return {
                rate: w.ok / w.seconds,
                ok: w.ok,
                non2xx: 0,
                errors: w.errors + w.lost,
                seconds: w.seconds,
                latency: latency.summary(),
              };
            }),
          );
          const after = sum(await api.counters(wsIds));
          r.counterDelta = after - before;
          r.counted = r.counterDelta === w.ok;
          run.results.ws = r;
          progress(
            `${label}: ${fmtRate(r.rate)} actions/s, p50 ${fmtMs(r.latency.p50)}, p99 ${fmtMs(r.latency.p99)}, ` +
              `errors ${r.errors}, cpu engine ${pct(r.serverCpu)} load ${pct(r.clientCpu)}`,
          );
          if (r.errors) fail(`${label}: ${w.errors} error replies, ${w.lost} never answered`);
          if (!r.counted) fail(`${label}: counters grew by ${r.counterDelta} but ${r.ok} results arrived`);
        }

        // 4. Sequential latency: one client, one action at a time, one keep-alive connection.
        if (wants("sequential")) {
          progress(`sequential: ${s.sequential} actions, one at a time`);
          for (let i = 0; i < Math.min(200, s.sequential); i++) await seq.action(seqId, "increment", [1]);
          const latency = new Samples();
          for (let i = 0; i < s.sequential; i++) {
            const t0 = performance.now();
            await seq.action(seqId, "increment", [1]);
            latency.add(performance.now() - t0);
          }
          run.results.sequential = latency.summary();
          progress(
            `sequential: p50 ${fmtMs(run.results.sequential.p50)}, p99 ${fmtMs(run.results.sequential.p99)}`,
          );
        }

        // 5. Wake: force sleep (admin), then time the first action from the client.
        if (wants("wake")) {
          progress(`wake: ${s.wakeCycles} sleep/wake cycles`);
          for (let i = 0; i < 20; i++) {
            await seq.sleep(many[i] as string);
            await seq.action(many[i] as string, "increment", [1]);
          }
          await engine.call("stats", { reset: true });
          await engine.call("instrument", { on: true });
          const latency = new Samples();
          await profiled(engine, "wake", async () => {
            for (let i = 0; i < s.wakeCycles; i++) {
              const id = many[i % many.length] as string;
              await seq.sleep(id);
              const t0 = performance.now();
              await seq.action(id, "increment", [1]);
              latency.add(performance.now() - t0);
            }
          });
          await engine.call("instrument", { on: false });
          const st = await engine.call<{ boots: number[]; actions: number[] }>("stats", { reset: true });
          run.results.wake = {
            client: latency.summary(),
            boot: latencyOf(st.boots),
            engineAction: latencyOf(st.actions),
            boots: st.boots.length,
          };
          const w = run.results.wake;
          progress(
            `wake: client p50 ${fmtMs(w.client.p50)}, p99 ${fmtMs(w.client.p99)}; in-engine action incl. wake p50 ` +
              `${fmtMs(w.engineAction.p50)}; boot p50 ${fmtMs(w.boot.p50)} (${w.boots} boots)`,
          );
          if (w.boots !== s.wakeCycles) fail(`wake: ${w.boots} boots for ${s.wakeCycles} cycles`);
        }

        // 6. Create: get-or-create of new keys, one at a time.
        if (wants("create")) {
          progress(`create: ${s.creates} new actors, one at a time`);
          for (let i = 0; i < 20; i++) await seq.create(`create-warm-${i}`);
          await engine.call("stats", { reset: true });
          const latency = new Samples();
          for (let i = 0; i < s.creates; i++) {
            const t0 = performance.now();
            const r = await seq.create(`create-${i}`);
            latency.add(performance.now() - t0);
            if (!r.created) fail(`create: key create-${i} already existed`);
          }
          const st = await engine.call<{ boots: number[] }>("stats", { reset: true });
          run.results.create = { client: latency.summary(), boot: latencyOf(st.boots) };
          progress(
            `create: p50 ${fmtMs(run.results.create.client.p50)}, p99 ${fmtMs(run.results.create.client.p99)}`,
          );
        }

        // 7. Durability: kill -9 under load, restart on the same data, count what survived.
        if (wants("durability")) {
          const idle = [hot, ...wsIds, seqId];
          const idleBefore = await api.counters(idle);
          const before = sum(await api.counters(many));
          progress(`durability: load on ${many.length} actors, then kill -9 the engine mid-run`);
          let killedAt = 0;
          const r = await cannon({
            base,
            paths: many.map((id) => `/gateway/${id}/action/increment`),
            headers: auth,
            connections: s.connections,
            duration: 30,
            onStart: (instance) => {
              setTimeout(
                () => {
                  // Every 2xx the client gets was sent by the engine before it died: acknowledged.
                  engine.proc.kill("SIGKILL");
                  killedAt = performance.now();
                  void engine.exited.then(() => instance.stop());
                },
                1000 * Math.min(2, s.loadSeconds / 2),
              );
            },
          });
          await engine.exited;
          progress(`durability: killed after ${r.ok} acknowledged increments; restarting on the same data`);
          api.close();
          seq.close();
          [engine, ready] = await Child.start("engine", engineEnv);
          base = ready.url as string;
          api = new Api(base, token, 32);
          const recovered = sum(await api.counters(many)) - before;
          const idleAfter = await api.counters(idle);
          const mismatchedIdle = idle.filter((_, i) => idleBefore[i] !== idleAfter[i]).length;
          const d: Durability = {
            acknowledged: r.ok,
            recovered,
            inFlightBound: s.connections,
            lost: Math.max(0, r.ok - recovered),
            mismatchedIdle,
            idleChecked: idle.length,
            ok: false,
          };
          d.ok = d.lost === 0 && recovered <= d.acknowledged + d.inFlightBound && mismatchedIdle === 0;
          run.results.durability = d;
          progress(
            `durability: ${d.acknowledged} acknowledged, ${recovered} recovered after kill -9 ` +
              `(${d.lost} lost), idle actors unchanged: ${idle.length - mismatchedIdle}/${idle.length}` +
              (killedAt ? "" : " (the kill did not happen)"),
          );
          if (!d.ok) fail(`durability: ${JSON.stringify(d)}`);
        }
      } finally {
        api.close();
        seq.close();
        await engine.stop();
        await bare?.stop();
      }
    }

    // 8. Heap per idle awake actor.
    if (wants("heap")) {
      const dataDir = path.join(tmp, "heap");
      const idsFile = path.join(tmp, "heap-ids.json");
      const largest = Math.max(...s.heapSteps);
      const heapEnv = { BENCH_DATA: dataDir, BENCH_TOKEN: token };
      progress(`heap: creating ${largest + s.heapWarm} actors in a child`);
      const [populator] = await Child.start("heap", heapEnv);
      let populateSeconds: number;
      try {
        ({ seconds: populateSeconds } = await populator.call<{ seconds: number }>("populate", {
          count: largest + s.heapWarm,
          idsFile,
        }));
      } finally {
        await populator.stop();
      }
      progress(
        `heap: created in ${populateSeconds.toFixed(1)}s; measuring in a fresh child with --expose-gc`,
      );
      const [measurer] = await Child.start("heap", heapEnv, ["--expose-gc"]);
      try {
        const m = await measurer.call<{ steps: HeapStep[]; snapshots: { before?: string; after?: string } }>(
          "measure",
          {
            idsFile,
            warm: s.heapWarm,
            steps: s.heapSteps,
            snapshotAt: s.heapSnapshotAt,
            snapDir: tmp,
          },
        );
        const heap: HeapResult = { populateSeconds, steps: m.steps };
        for (const st of m.steps) {
          progress(
            `heap: ${st.actors} awake actors: ${st.heapPerActor.toFixed(0)} B heap/actor, ` +
              `${st.heapTotalPerActor.toFixed(0)} B heapTotal/actor, ${st.rssPerActor.toFixed(0)} B RSS/actor ` +
              `(woken in ${st.wakeSeconds.toFixed(1)}s; ${st.live} live)`,
          );
          if (st.live < st.actors)
            fail(`heap: only ${st.live} of ${st.actors} actors were awake when measured`);
        }
        if (m.snapshots.before && m.snapshots.after && s.heapSnapshotAt) {
          progress("heap: diffing heap snapshots");
          heap.breakdown = diffSnapshots(m.snapshots.before, m.snapshots.after, s.heapSnapshotAt);
          for (const g of heap.breakdown.top.slice(0, 15)) {
            progress(
              `  ${g.bytesPerActor.toFixed(1).padStart(7)} B  x${g.countPerActor.toFixed(2)}  ${g.group}  <- ${g.heldBy}`,
            );
          }
        }
        run.results.heap = heap;
      } finally {
        await measurer.stop();
      }
    }
  } catch (e) {
    fail(`benchmark aborted: ${errorText(e)}`);
  } finally {
    if (opts.profile || opts.keep) progress(`profiles, heap snapshots and data kept in ${tmp}`);
    else await rm(tmp, { recursive: true, force: true });
  }

  if (opts.profile) run.results.profiles = profiles;
  run.loadavg[1] = os.loadavg()[0] ?? 0;
  const md = renderRun(run);
  process.stdout.write(`${md}\n`);
  if (opts.out) await writeFile(opts.out, JSON.stringify({ data: run, md }));
  if (opts.write) {
    const runs = await readRuns();
    runs.unshift(run);
    runs.length = Math.min(runs.length, KEEP_RUNS);
    await writeFile(RESULTS_JSON, `${JSON.stringify(runs, null, 2)}\n`);
    const current = await readFile(RESULTS_MD, "utf8").catch(() => "");
    await writeFile(RESULTS_MD, await formatMarkdown(renderResults(runs, foreignSections(current))));
    progress(`wrote ${path.relative(REPO, RESULTS_MD)} and ${path.relative(REPO, RESULTS_JSON)}`);
  }
  progress(run.failures.length ? `done with ${run.failures.length} failure(s)` : "done");
  process.exitCode = run.failures.length ? 1 : 0;
}

// ---- reporting -----------------------------------------------------------------------------------------

function fmtRate(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return Math.round(n).toLocaleString("en-US");
}

function fmtMs(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(1)} ms`;
}

function pct(n: number | undefined): string {
  return n === undefined ? "–" : `${Math.round(100 * n)}%`;
}

function fmtBytes(n: number): string {
  return `${Math.round(n).toLocaleString("en-US")} B`;
}

const status = (met: boolean) => (met ? "met" : "**missed**");

async function readRuns(): Promise<Run[]> {
  try {
    const runs = JSON.parse(await readFile(RESULTS_JSON, "utf8")) as unknown;
    return Array.isArray(runs) ? (runs as Run[]) : [];
  } catch {
    return [];
  }
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

function renderRun(run: Run): string {
  const r = run.results;
  const s = run.settings;
  const out: string[] = [];
  out.push(
    `Commit \`${run.commit}\`${run.dirty ? " (with uncommitted changes)" : ""} · Node ${run.node} · ` +
      `${run.cpus.count} × ${run.cpus.model} · ${run.date.replace("T", " ").slice(0, 16)} UTC · ` +
      `${run.mode} run${run.only ? ` (only ${run.only.join(", ")})` : ""} · ` +
      (run.loadavg
        ? `load average ${run.loadavg[0].toFixed(2)} at start, ${run.loadavg[1].toFixed(2)} at end`
        : "") +
      `${run.profiled ? " · **CPU profiler on: figures are low**" : ""}`,
  );

  const tput: string[][] = [];
  const row = (name: string, t: Throughput | undefined, unit: string, target: string) => {
    if (!t) return;
    const range =
      t.rounds && t.rounds.length > 1
        ? ` (${t.rounds.length} rounds: ${fmtRate(Math.min(...t.rounds))}–${fmtRate(Math.max(...t.rounds))})`
        : "";
    tput.push([
      name,
      `${fmtRate(t.rate)} ${unit}${range}`,
      fmtMs(t.latency.p50),
      fmtMs(t.latency.p99),
      `${t.non2xx} / ${t.errors}`,
      t.ratio !== undefined ? `${t.ratio.toFixed(2)}x` : "–",
      t.perCpuSecond !== undefined
        ? `${fmtRate(t.perCpuSecond)}${t.cpuRatio !== undefined ? ` (${t.cpuRatio.toFixed(2)}x)` : ""}`
        : "–",
      t.counterDelta !== undefined
        ? t.counted
          ? `yes (+${t.counterDelta})`
          : `**no** (+${t.counterDelta} vs ${t.ok})`
        : "–",
      t.serverCpu !== undefined && t.clientCpu !== undefined
        ? `${Math.round(100 * t.serverCpu)}% / ${Math.round(100 * t.clientCpu)}%`
        : "–",
      target,
    ]);
  };
  row("Bare fastify, POST in-memory counter", r.bare, "req/s", "–");
  const ratioTarget = (t: Throughput | undefined) =>
    t?.ratio !== undefined
      ? `>= ${TARGETS.httpRatio}x: ${status(t.ratio >= TARGETS.httpRatio)}`
      : `>= ${TARGETS.httpRatio}x`;
  row("Durable HTTP action, 1 hot actor", r.httpHot, "req/s", ratioTarget(r.httpHot));
  row(`Durable HTTP action, ${s.actors} actors round-robin`, r.http1000, "req/s", ratioTarget(r.http1000));
  row(
    `Durable HTTP action, ${s.actors} actors, ${s.wideConnections ?? "?"} connections (bare not run at this concurrency)`,
    r.httpWide,
    "req/s",
    "–",
  );
  row(`WebSocket actions, ${s.wsConnections} conns x ${s.wsDepth} in flight`, r.ws, "actions/s", "–");
  if (tput.length) {
    out.push("### Throughput");
    out.push(
      `Load: autocannon, ${s.connections} connections, pipelining 1, ${s.warmupSeconds} s warm-up, then ` +
        `${s.rounds ?? 1} interleaved round(s) of ~${s.loadSeconds} s (a fixed request count) per HTTP benchmark: ` +
        `rate = median of the rounds, latency over all of them, ratio = median of per-round ratios. ` +
        `Servers in child processes (one core each for server and load); engine on LevelStore (synced group ` +
        `commit) in a temp dir, run from ${fromDist() ? "the compiled package (dist/)" : "the TypeScript sources under tsx"}, requests with the admin token. ` +
        `CPU = CPU time / wall time of the server child and of the load generator (over 100% for the engine: ` +
        `LevelDB works in libuv's thread pool); req / server CPU-s is less sensitive to a busy machine than req/s.`,
    );

    out.push(
      table(
        [
          "Benchmark",
          "Rate",
          "p50",
          "p99",
          "Non-2xx / errors",
          "vs bare",
          "Req / server CPU-s (vs bare)",
          "Counters = acks",
          "CPU server / load",
          "Target",
        ],
        tput,
      ),
    );
    const gc = [r.httpHot, r.http1000, r.httpWide]
      .filter((t): t is Throughput => t?.batchesPerCommit !== undefined)
      .map(
        (t) => `${fmtRate(t.commitsPerSecond)} synced commits/s of ${t.batchesPerCommit?.toFixed(1)} batches`,
      );
    if (gc.length) out.push(`Group commit (hot, round-robin, wide): ${gc.join("; ")}.`);
  }

  const lat: string[][] = [];
  if (r.sequential)
    lat.push([
      "Sequential action (1 client, keep-alive)",
      String(r.sequential.count),
      fmtMs(r.sequential.p50),
      fmtMs(r.sequential.p99),
      "–",
    ]);
  if (r.wake) {
    const w = r.wake;
    lat.push([
      "First action after forced sleep (client)",
      String(w.client.count),
      fmtMs(w.client.p50),
      fmtMs(w.client.p99),
      `p50 < ${TARGETS.wakeP50Ms} ms: ${status(w.client.p50 < TARGETS.wakeP50Ms)}`,
    ]);
    lat.push([
      "↳ in engine: lookup + boot + action + commit",
      String(w.engineAction.count),
      fmtMs(w.engineAction.p50),
      fmtMs(w.engineAction.p99),
      "–",
    ]);
    lat.push([
      "↳ in engine: boot only (load state, onWake)",
      String(w.boot.count),
      fmtMs(w.boot.p50),
      fmtMs(w.boot.p99),
      "–",
    ]);
  }
  if (r.create) {
    lat.push([
      "Create (PUT /actors, new key, sequential)",
      String(r.create.client.count),
      fmtMs(r.create.client.p50),
      fmtMs(r.create.client.p99),
      "–",
    ]);
    lat.push([
      "↳ in engine: boot incl. initial commit",
      String(r.create.boot.count),
      fmtMs(r.create.boot.p50),
      fmtMs(r.create.boot.p99),
      "–",
    ]);
  }
  if (lat.length) {
    out.push("### Latency");
    out.push(table(["Benchmark", "Samples", "p50", "p99", "Target"], lat));
  }

  if (r.durability) {
    const d = r.durability;
    out.push("### Durability");
    out.push(
      `kill -9 under load (${s.actors} actors): ${d.acknowledged.toLocaleString("en-US")} increments acknowledged, ` +
        `${d.recovered.toLocaleString("en-US")} found after restart, **${d.lost} lost** ` +
        `(up to ${d.inFlightBound} unacknowledged in-flight increments may also land); ` +
        `${d.idleChecked - d.mismatchedIdle}/${d.idleChecked} idle actors unchanged: ${d.ok ? "pass" : "**FAIL**"}. ` +
        `Each throughput row above also checks that the counters grew by exactly the acknowledged count.`,
    );
  }

  if (r.heap) {
    const h = r.heap;
    out.push("### Memory per idle awake actor");
    out.push(
      table(
        [
          "Awake actors",
          "Heap used / actor",
          "V8 heap committed / actor",
          "External / actor",
          "RSS / actor",
          "Wake time (concurrency 256)",
          "Target",
        ],
        h.steps.map((st) => [
          st.actors.toLocaleString("en-US"),
          fmtBytes(st.heapPerActor),
          st.heapTotalPerActor === undefined ? "–" : fmtBytes(st.heapTotalPerActor),
          fmtBytes(st.externalPerActor),
          fmtBytes(st.rssPerActor),
          `${st.wakeSeconds.toFixed(1)} s (${fmtRate(st.actors / st.wakeSeconds)}/s)`,
          `< ${TARGETS.heapPerActorBytes} B: ${status(st.heapPerActor < TARGETS.heapPerActorBytes)}`,
        ]),
      ),
    );
    out.push(
      "One process, engine without a listener on LevelStore, actors woken by one `increment` each, " +
        "heapUsed/RSS after forced GC minus a baseline taken after warming the same code paths on other actors. " +
        "RSS includes LevelDB's block cache filling up.",
    );
    if (h.breakdown) {
      const b = h.breakdown;
      out.push(
        `Where the heap goes (heap snapshot diff, ${b.actors.toLocaleString("en-US")} actors, ` +
          `${fmtBytes(b.heapDeltaPerActor)} per actor in the snapshot; "B.f" is field f of a B, "X <- Y" an X held by a Y):`,
      );
      const code = (t: string) => `\`${t.replace(/`/g, "'").replace(/\|/g, "\\|")}\``;
      out.push(
        table(
          ["Bytes / actor", "Objects / actor", "What", "Held by"],
          b.top
            .filter((g) => g.bytesPerActor >= 4)
            .slice(0, 15)
            .map((g) => [
              g.bytesPerActor.toFixed(0),
              g.countPerActor.toFixed(2),
              code(g.group),
              code(g.heldBy),
            ]),
        ),
      );
    }
  }
  if (r.profiles && Object.keys(r.profiles).length) {
    out.push("### CPU profiles of the engine (self time)");
    for (const [name, p] of Object.entries(r.profiles)) {
      out.push(
        `**${name}** (${p.busyMs.toFixed(0)} ms busy of ${p.totalMs.toFixed(0)} ms sampled): ` +
          p.top
            .slice(0, 8)
            .map((f) => `${f.selfPct.toFixed(1)}% \`${f.frame}\``)
            .join(", "),
      );
    }
  }
  if (run.failures.length) {
    out.push("### Failures");
    out.push(run.failures.map((f) => `- ${f.split("\n")[0]}`).join("\n"));
  }
  return out.join("\n\n");
}

const OWN_SECTIONS = new Set(["## Latest run", "## Previous run"]);

/** Sections of RESULTS.md written by other tools (e.g. bench/runner.ts's "## Runner mode"): kept as they are. */
function foreignSections(md: string): string[] {
  const out: string[] = [];
  const starts = [...md.matchAll(/^## .*$/gm)].map((m) => m.index ?? 0);
  for (let i = 0; i < starts.length; i++) {
    const chunk = md.slice(starts[i], starts[i + 1] ?? md.length).trim();
    const heading = chunk.split("\n", 1)[0] ?? "";
    if (!OWN_SECTIONS.has(heading.trim())) out.push(chunk);
  }
  return out;
}

function renderResults(runs: Run[], keep: string[] = []): string {
  const [latest, previous] = runs;
  const parts = [
    "# Benchmark results",
    "Written by `npm run bench` (`bench/actions.ts`); do not edit by hand. Newest run first; " +
      `\`bench/results.json\` keeps the last ${KEEP_RUNS} runs. Targets are goals, not tests.`,
  ];
  if (latest) parts.push("## Latest run", renderRun(latest));
  if (previous) parts.push("## Previous run", renderRun(previous));
  parts.push(...keep);
  return `${parts.join("\n\n")}\n`;
}

async function formatMarkdown(md: string): Promise<string> {
  try {
    const prettier = await import("prettier");
    const config = (await prettier.resolveConfig(RESULTS_MD)) ?? {};
    return await prettier.format(md, { ...config, filepath: RESULTS_MD });
  } catch {
    return md;
  }
}

// ---- entry ---------------------------------------------------------------------------------------------

const role = process.env.BENCH_ROLE;
const entry =
  role === "bare" ? bareChild : role === "engine" ? engineChild : role === "heap" ? heapChild : main;
entry().catch((e: unknown) => {
  process.stderr.write(`${errorText(e)}\n`);
  process.exit(2);
});
