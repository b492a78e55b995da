/**
 * Runner-mode benchmark: `npx tsx bench/runner.ts [--quick] [--write|--no-write]`.
 *
 * Actions per second and latency (p50/p99) over HTTP, in the same run, for:
 *   - embedded: the engine and the counter actor in one process;
 *   - runner:   a standalone engine process (no actor code) and a runner process hosting the
 *               counter, joined over the runner protocol (what `enclave start` + an app with
 *               ENCLAVE_ENDPOINT run).
 * Every server is a real child process on LevelStore (synced group commit) in a temp dir; the
 * load generator (autocannon, 20 connections) runs in this process. Rounds interleave the two
 * modes so machine noise hits both alike. Counters are checked against the acknowledged
 * requests afterwards.
 *
 * Writes the "## Runner mode" section of bench/RESULTS.md (replacing an earlier one; the rest of
 * the file belongs to bench/actions.ts), unless --no-write (default for --quick).
 */
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon, { type Request as CannonRequest } from "autocannon";

const SELF = fileURLToPath(import.meta.url);
const BENCH_DIR = path.dirname(SELF);
const RESULTS_MD = path.join(BENCH_DIR, "RESULTS.md");
const TOKEN = "b".repeat(40);
const HEADING = "## Runner mode";

type Mode = "embedded" | "runner";
const MODES: Mode[] = ["embedded", "runner"];

interface Settings {
  warmupSeconds: number;
  loadSeconds: number;
  rounds: number;
  connections: number;
  actors: number;
  sequential: number;
}
const FULL: Settings = {
  warmupSeconds: 3,
  loadSeconds: 5,
  rounds: 3,
  connections: 20,
  actors: 100,
  sequential: 2000,
};
const QUICK: Settings = {
  warmupSeconds: 1,
  loadSeconds: 2,
  rounds: 1,
  connections: 20,
  actors: 100,
  sequential: 300,
};

// ---- child processes -------------------------------------------------------------------------------

interface Message {
  type: "ready" | "reply";
  url?: string;
  id?: number;
  result?: unknown;
}

/** The benchmark's actor: a counter, as in bench/actions.ts. */
async function benchRegistry() {
  const { actor, setup } = await import("../lib/index.js");
  const counter = actor({
    state: { count: 0 },
    actions: {
      increment: (c, n: number) => (c.state.count += n),
      get: (c) => c.state.count,
    },
  });
  return setup({ use: { counter } });
}

async function child(role: string): Promise<void> {
  const { createEngine } = await import("../lib/index.js");
  const { createLogger } = await import("../lib/telemetry/index.js");
  const logger = createLogger({ level: "warn", destination: process.stderr });
  const env = (name: string) => process.env[name] ?? "";
  let close: () => Promise<void>;
  let url: string | undefined;
  if (role === "runner") {
    const registry = await benchRegistry();
    const runner = await registry.start({
      endpoint: env("BENCH_ENDPOINT"),
      logger,
      env: {},
      handleSignals: false,
    });
    close = () => runner.close();
  } else {
    const running = await createEngine({
      ...(role === "embedded" ? { registry: await benchRegistry() } : {}),
      storage: { fileSystem: { path: env("BENCH_DATA") } },
      gateway: { host: "127.0.0.1", port: 0 },
      auth: { adminToken: TOKEN },
      logger,
      env: {},
      configPaths: [],
    });
    ({ url } = await running.listen());
    close = () => running.close();
  }
  process.on("message", (raw) => {
    const m = raw as { id: number; cmd: string };
    void (async () => {
      let result: unknown;
      if (m.cmd === "cpu") result = process.cpuUsage();
      if (m.cmd === "exit") {
        await close();
        result = true;
        setImmediate(() => process.exit(0));
      }
      process.send?.({ type: "reply", id: m.id, result } satisfies Message);
    })();
  });
  process.on("disconnect", () => process.exit(0));
  process.send?.({ type: "ready", url } satisfies Message);
}

class Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  #next = 1;
  readonly #waiting = new Map<number, (v: unknown) => void>();

  constructor(role: string, env: Record<string, string>) {
    this.proc = fork(SELF, [], {
      env: { ...process.env, ...env, BENCH_RUNNER_ROLE: role },
      execArgv: process.execArgv,
      stdio: ["ignore", 2, 2, "ipc"],
    });
    this.exited = new Promise((r) => this.proc.once("exit", (code) => r(code)));
    this.proc.on("message", (raw) => {
      const m = raw as Message;
      if (m.type === "reply" && m.id !== undefined) this.#waiting.get(m.id)?.(m.result);
    });
  }

  ready(): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.proc.on("message", (m) => {
        if ((m as Message).type === "ready") resolve((m as Message).url);
      });
      void this.exited.then((code) => reject(new Error(`child exited (code ${code}) before it was ready`)));
    });
  }

  call<T>(cmd: string): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve) => {
      this.#waiting.set(id, resolve as (v: unknown) => void);
      this.proc.send({ id, cmd });
    });
  }

  async cpuMs(): Promise<number> {
    const c = await this.call<NodeJS.CpuUsage>("cpu");
    return (c.user + c.system) / 1000;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 30_000);
    await this.call("exit").catch(() => undefined);
    await this.exited;
    clearTimeout(timer);
  }
}

// ---- measuring --------------------------------------------------------------------------------------

function progress(message: string): void {
  process.stderr.write(`[bench:runner] ${message}\n`);
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

interface Load {
  rates: number[];
  latencies: number[];
  ok: number;
  failed: number;
  serverCpu: number[];
}

const emptyLoad = (): Load => ({ rates: [], latencies: [], ok: 0, failed: 0, serverCpu: [] });

const HEADERS = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const BODY = JSON.stringify({ args: [1] });

async function cannon(
  base: string,
  paths: string[],
  s: Settings,
  seconds: number,
  into?: Load,
): Promise<number> {
  const request = (p: string): CannonRequest => ({ method: "POST", path: p, headers: HEADERS, body: BODY });
  const slices: CannonRequest[][] = [];
  for (let k = 0; k < s.connections; k++) {
    const slice: CannonRequest[] = [];
    for (let j = k % paths.length; j < paths.length; j += s.connections)
      slice.push(request(paths[j] as string));
    slices.push(slice.length > 0 ? slice : [request(paths[k % paths.length] as string)]);
  }
  let next = 0;
  const t0 = performance.now();
  let tLast = t0;
  const instance = autocannon({
    url: base,
    connections: s.connections,
    pipelining: 1,
    timeout: 10,
    duration: seconds,
    setupClient: (client) => client.setRequests(slices[next++ % slices.length] as CannonRequest[]),
  });
  instance.on("response", (_c, status, _b, ms) => {
    tLast = performance.now();
    if (into && status >= 200 && status < 300) into.latencies.push(ms);
  });
  const result = await instance;
  const rate = result["2xx"] / ((tLast - t0) / 1000);
  if (into) {
    into.rates.push(rate);
    into.ok += result["2xx"];
    into.failed += result.non2xx + result.errors;
  }
  return result["2xx"];
}

async function post(
  base: string,
  p: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(base + p, { method: "POST", headers: HEADERS, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function put(base: string, p: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(base + p, { method: "PUT", headers: HEADERS, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`PUT ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function actorIds(base: string, n: number): Promise<{ hot: string; many: string[] }> {
  const id = async (key: string) =>
    ((await put(base, "/actors", { name: "counter", key: [key] })).actor as { actorId: string }).actorId;
  const hot = await id("hot");
  const many: string[] = [];
  for (let i = 0; i < n; i++) many.push(await id(`rr-${i}`));
  return { hot, many };
}

async function sum(base: string, ids: string[]): Promise<number> {
  let total = 0;
  for (const id of ids) total += (await post(base, `/gateway/${id}/action/get`, {})).json.output as number;
  return total;
}

async function sequential(base: string, id: string, n: number, into: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await post(base, `/gateway/${id}/action/increment`, { args: [1] });
    if (res.status !== 200) throw new Error(`sequential action failed: ${res.status}`);
    into.push(performance.now() - t);
  }
}

// ---- the run ----------------------------------------------------------------------------------------

interface ModeResult {
  hot: Load;
  many: Load;
  sequential: number[];
  counted: boolean;
  /** Increments found beyond the acknowledged ones (requests in flight when a timed run stopped). */
  extra: number;
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const outAt = process.argv.indexOf("--out");
  const out = outAt >= 0 ? process.argv[outAt + 1] : undefined;
  const write =
    out === undefined &&
    (process.argv.includes("--write") || (!quick && !process.argv.includes("--no-write")));
  const s = quick ? QUICK : FULL;
  const dir = await mkdtemp(path.join(os.tmpdir(), "enclave-bench-runner-"));
  const children: Child[] = [];
  const loadavg = [os.loadavg()[0] ?? 0, 0];
  try {
    progress("starting the embedded engine, the standalone engine and the runner");
    const embedded = new Child("embedded", { BENCH_DATA: path.join(dir, "embedded") });
    const engine = new Child("engine", { BENCH_DATA: path.join(dir, "standalone") });
    children.push(embedded, engine);
    const [embeddedUrl, engineUrl] = (await Promise.all([embedded.ready(), engine.ready()])) as string[];
    const runner = new Child("runner", {
      BENCH_ENDPOINT: (engineUrl as string).replace("http://", `http://default:${TOKEN}@`),
    });
    children.push(runner);
    await runner.ready();

    const base: Record<Mode, string> = { embedded: embeddedUrl as string, runner: engineUrl as string };
    const servers: Record<Mode, Child[]> = { embedded: [embedded], runner: [engine, runner] };
    const ids = {
      embedded: await actorIds(base.embedded, s.actors),
      runner: await actorIds(base.runner, s.actors),
    };
    const paths = (mode: Mode, which: "hot" | "many") =>
      which === "hot"
        ? [`/gateway/${ids[mode].hot}/action/increment`]
        : ids[mode].many.map((id) => `/gateway/${id}/action/increment`);
    const all = (mode: Mode) => [ids[mode].hot, ...ids[mode].many];
    const before = {
      embedded: await sum(base.embedded, all("embedded")),
      runner: await sum(base.runner, all("runner")),
    };
    const results: Record<Mode, ModeResult> = {
      embedded: { hot: emptyLoad(), many: emptyLoad(), sequential: [], counted: false, extra: 0 },
      runner: { hot: emptyLoad(), many: emptyLoad(), sequential: [], counted: false, extra: 0 },
    };
    const warm = { embedded: 0, runner: 0 };

    for (const mode of MODES) {
      progress(`warm-up ${mode} (${s.warmupSeconds} s)`);
      warm[mode] += await cannon(base[mode], paths(mode, "hot"), s, s.warmupSeconds);
      warm[mode] += await cannon(base[mode], paths(mode, "many"), s, s.warmupSeconds);
    }
    for (let round = 1; round <= s.rounds; round++) {
      for (const which of ["hot", "many"] as const) {
        for (const mode of round % 2 ? MODES : [...MODES].reverse()) {
          progress(
            `round ${round}/${s.rounds}: ${mode}, ${which === "hot" ? "1 hot actor" : `${s.actors} actors`}`,
          );
          const load = results[mode][which];
          const cpu0 = await Promise.all(servers[mode].map((c) => c.cpuMs()));
          const t0 = performance.now();
          await cannon(base[mode], paths(mode, which), s, s.loadSeconds, load);
          const wall = performance.now() - t0;
          const cpu1 = await Promise.all(servers[mode].map((c) => c.cpuMs()));
          load.serverCpu.push(cpu1.reduce((a, v, i) => a + v - (cpu0[i] as number), 0) / wall);
        }
      }
    }
    for (let block = 0; block < 4; block++) {
      for (const mode of block % 2 ? [...MODES].reverse() : MODES) {
        await sequential(base[mode], ids[mode].hot, Math.ceil(s.sequential / 4), results[mode].sequential);
      }
    }
    progress("checking the counters against the acknowledged requests");
    for (const mode of MODES) {
      const r = results[mode];
      const acked = warm[mode] + r.hot.ok + r.many.ok + r.sequential.length;
      const delta = (await sum(base[mode], all(mode))) - before[mode];
      // A timed run stops with up to one request per connection in flight: it may have landed.
      const runs = 2 + 2 * s.rounds;
      r.extra = delta - acked;
      r.counted = delta >= acked && delta <= acked + runs * s.connections;
      progress(`${mode}: counters grew by ${delta}, ${acked} acknowledged`);
    }
    loadavg[1] = os.loadavg()[0] ?? 0;

    const md = render(results, s, quick, loadavg as [number, number]);
    process.stdout.write(`${md}\n`);
    if (out !== undefined) {
      // For bench/main.ts: compact figures (no raw samples) and the section without its heading.
      const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
      const load = (l: Load) => {
        const lat = sorted(l.latencies);
        return {
          rate: median(l.rates),
          rounds: l.rates,
          p50: percentile(lat, 0.5),
          p99: percentile(lat, 0.99),
          ok: l.ok,
          failed: l.failed,
          serverCpu: median(l.serverCpu),
        };
      };
      const data = Object.fromEntries(
        MODES.map((m) => {
          const r = results[m];
          const seq = sorted(r.sequential);
          return [
            m,
            {
              hot: load(r.hot),
              many: load(r.many),
              sequential: { count: seq.length, p50: percentile(seq, 0.5), p99: percentile(seq, 0.99) },
              counted: r.counted,
              extra: r.extra,
            },
          ];
        }),
      );
      await writeFile(
        out,
        JSON.stringify({ data: { settings: s, loadavg, modes: data }, md: md.replace(/^## .*\n+/, "") }),
      );
    }
    if (write) {
      await writeSection(md);
      progress(`wrote the "${HEADING}" section of ${path.relative(process.cwd(), RESULTS_MD)}`);
    }
    if (!MODES.every((m) => results[m].counted)) process.exitCode = 1;
  } finally {
    await Promise.all(children.reverse().map((c) => c.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- reporting --------------------------------------------------------------------------------------

const fmtRate = (n: number) => `${Math.round(n).toLocaleString("en-US")}/s`;
const fmtMs = (n: number) => (n >= 10 ? `${n.toFixed(1)} ms` : `${n.toFixed(2)} ms`);
const pct = (n: number) => `${Math.round(n * 100)}%`;
const delta = (runner: number, embedded: number) => {
  const d = runner - embedded;
  return `${d < 0 ? "−" : "+"}${fmtMs(Math.abs(d))}`;
};

function render(
  results: Record<Mode, ModeResult>,
  s: Settings,
  quick: boolean,
  loadavg: [number, number],
): string {
  const commit = (() => {
    try {
      const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
      const dirty = execFileSync("git", ["status", "--porcelain"], { encoding: "utf8" }).trim() !== "";
      return `${sha}${dirty ? " (uncommitted changes)" : ""}`;
    } catch {
      return "";
    }
  })();
  const cpus = os.cpus();
  const lines: string[] = [
    HEADING,
    "",
    `Written by \`npx tsx bench/runner.ts\` (${quick ? "quick run" : "full run"}); do not edit by hand. ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC · Node ${process.version} · ${cpus.length} × ${cpus[0]?.model.trim() ?? "CPU"} · load average ${loadavg[0].toFixed(2)} at start, ${loadavg[1].toFixed(2)} at end${commit ? ` · commit \`${commit}\`` : ""}`,
    "",
    `Same run, same machine: **embedded** (engine and actor code in one process) vs **runner mode** (a standalone engine process without actor code, and a runner process hosting the counter, connected over the runner protocol). Durable HTTP actions (\`POST /gateway/{id}/action/increment\`, LevelStore with synced group commit), autocannon with ${s.connections} connections, ${s.warmupSeconds} s warm-up, then ${s.rounds} interleaved round(s) of ${s.loadSeconds} s per row: rate = median of the rounds, latency over all of them. Server CPU = CPU time of the server process(es) / wall time (runner mode: engine + runner). Sequential = one client, one request at a time (keep-alive).`,
    "",
    "| Benchmark | Embedded | Runner mode | Runner / embedded |",
    "| --- | --- | --- | --- |",
  ];
  const row = (label: string, e: string, r: string, ratio: string) =>
    lines.push(`| ${label} | ${e} | ${r} | ${ratio} |`);
  for (const [which, label] of [
    ["hot", "1 hot actor"],
    ["many", `${s.actors} actors round-robin`],
  ] as const) {
    const e = results.embedded[which];
    const r = results.runner[which];
    const [eRate, rRate] = [median(e.rates), median(r.rates)];
    const es = [...e.latencies].sort((a, b) => a - b);
    const rs = [...r.latencies].sort((a, b) => a - b);
    row(`${label}: actions/s`, fmtRate(eRate), fmtRate(rRate), `${(rRate / eRate).toFixed(2)}x`);
    row(
      `${label}: p50`,
      fmtMs(percentile(es, 0.5)),
      fmtMs(percentile(rs, 0.5)),
      delta(percentile(rs, 0.5), percentile(es, 0.5)),
    );
    row(
      `${label}: p99`,
      fmtMs(percentile(es, 0.99)),
      fmtMs(percentile(rs, 0.99)),
      delta(percentile(rs, 0.99), percentile(es, 0.99)),
    );
    row(`${label}: server CPU`, pct(median(e.serverCpu)), pct(median(r.serverCpu)), "–");
    row(`${label}: non-2xx / errors`, String(e.failed), String(r.failed), "–");
  }
  const es = [...results.embedded.sequential].sort((a, b) => a - b);
  const rs = [...results.runner.sequential].sort((a, b) => a - b);
  row(
    `Sequential (${es.length} actions): p50`,
    fmtMs(percentile(es, 0.5)),
    fmtMs(percentile(rs, 0.5)),
    delta(percentile(rs, 0.5), percentile(es, 0.5)),
  );
  row(
    `Sequential: p99`,
    fmtMs(percentile(es, 0.99)),
    fmtMs(percentile(rs, 0.99)),
    delta(percentile(rs, 0.99), percentile(es, 0.99)),
  );
  const counted = (r: ModeResult) =>
    r.counted ? `yes (+${r.extra} in flight at stops)` : `**no** (${r.extra})`;
  row("Every acknowledged increment counted", counted(results.embedded), counted(results.runner), "–");
  lines.push(
    "",
    "Runner mode adds a hop per action (engine → runner → engine for the write → runner → engine) and a third process on the same cores; the write itself is the engine's, as embedded.",
  );
  return lines.join("\n");
}

/** Replaces (or appends) the "## Runner mode" section of RESULTS.md. */
async function writeSection(section: string): Promise<void> {
  let current = "";
  try {
    current = await readFile(RESULTS_MD, "utf8");
  } catch {
    current = "# Benchmark results\n";
  }
  const start = current.indexOf(`\n${HEADING}\n`);
  let next: string;
  if (start === -1) {
    next = `${current.trimEnd()}\n\n${section}\n`;
  } else {
    const after = current.indexOf("\n## ", start + HEADING.length + 1);
    next = `${current.slice(0, start).trimEnd()}\n\n${section}\n${after === -1 ? "" : `\n${current.slice(after + 1)}`}`;
  }
  const prettier = await import("prettier");
  const config = (await prettier.resolveConfig(RESULTS_MD)) ?? {};
  await writeFile(RESULTS_MD, await prettier.format(next, { ...config, filepath: RESULTS_MD }));
}

const role = process.env.BENCH_RUNNER_ROLE;
if (role) await child(role);
else await main();
