/**
 * Every benchmark, one command: `npm run bench` (`npx tsx bench/main.ts`).
 *
 *   --quick       CI smoke run (< 90 s): short settings, skips the rivetkit peer, writes nothing
 *   --only a,b    run only these: actions, runner, storage, directory, workspace, peer, or one of
 *                 bench/actions.ts's own benchmarks (bare, http-hot, http-1000, http-wide, ws,
 *                 sequential, wake, create, durability, heap); partial runs write nothing
 *                 unless --write
 *   --write / --no-write
 *   --render      only re-render bench/RESULTS.md from bench/results.json
 *
 * Each benchmark is a script run in its own child process (bench/actions.ts, bench/runner.ts,
 * bench/storage.ts, bench/directory.ts, bench/peer.ts) that hands back its figures and its
 * markdown section; this file prints progress, the summary of figures against the targets, and
 * writes bench/RESULTS.md (latest and previous run side by side) and bench/results.json (the
 * last runs, machine-readable), each run with its commit, Node version and machine.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { WorkspaceBenchData } from "./workspace.js";
import { ACTIONS_BENCHMARKS, errorText, fmtBytes, fmtMs, fmtRate, table } from "./common.js";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const RESULTS_JSON = path.join(BENCH_DIR, "results.json");
const RESULTS_MD = path.join(BENCH_DIR, "RESULTS.md");
const KEEP_RUNS = 5;

const ACTIONS_SUBS: readonly string[] = ACTIONS_BENCHMARKS;

interface Bench {
  name: string;
  script: string;
  title: string;
  timeoutSeconds: number;
  quick: boolean;
  /** Extra node flags for the script's process. */
  nodeArgs?: string[];
}
const BENCHES: Bench[] = [
  {
    name: "actions",
    script: "actions.ts",
    title: "Enclave actions (bench/actions.ts)",
    timeoutSeconds: 1500,
    quick: true,
  },
  {
    name: "runner",
    script: "runner.ts",
    title: "Runner mode vs embedded (bench/runner.ts)",
    timeoutSeconds: 600,
    quick: true,
  },
  {
    name: "storage",
    script: "storage.ts",
    title: "Storage ceiling: raw classic-level vs Enclave (bench/storage.ts)",
    timeoutSeconds: 300,
    quick: true,
  },
  {
    name: "directory",
    script: "directory.ts",
    title: "Directory of sleeping actors (bench/directory.ts)",
    timeoutSeconds: 900,
    quick: true,
  },
  {
    name: "workspace",
    script: "workspace.ts",
    title: "Workspaces (bench/workspace.ts)",
    timeoutSeconds: 600,
    quick: true,
    nodeArgs: ["--expose-gc"],
  },
  {
    name: "peer",
    script: "peer.ts",
    title: "Peer: rivetkit (bench/peer.ts)",
    timeoutSeconds: 900,
    quick: false,
  },
];

/** Targets printed beside the figures (goals, not tests: missing one does not fail the run). */
const TARGETS = {
  httpVsBare: 0.5,
  httpVsRivet: 10,
  wsVsRivet: 5,
  wakeP50Ms: 2,
  wakeP99Ms: 10,
  heapPerActorBytes: 1024,
  wakeGrowth: 2,
  writesVsRaw: 0.5,
  workspaceBootP50Ms: 3,
  idleWorkspaceBytes: 5 * 1024 * 1024,
};

interface BenchOutcome {
  ok: boolean;
  seconds: number;
  exitCode: number | null;
  error?: string;
  data?: unknown;
  md?: string;
}

interface RunRecord {
  date: string;
  commit: string;
  dirty: boolean;
  node: string;
  machine: { cpu: string; cpus: number; memoryBytes: number; os: string };
  mode: "full" | "quick";
  only: string[] | null;
  loadavg: [number, number];
  seconds: number;
  benchmarks: Record<string, BenchOutcome>;
  /** Markdown of an earlier run written before this orchestrator existed (kept for comparison). */
  legacyMd?: string;
}

const t0 = performance.now();
function progress(message: string): void {
  const t = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${t}s] ${message}\n`);
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

interface Options {
  quick: boolean;
  only: string[] | null;
  write: boolean;
  /** Only re-render RESULTS.md from results.json (no benchmark runs). */
  render: boolean;
}

function parseArgs(argv: string[]): Options {
  let quick = false;
  let only: string[] | null = null;
  let write: boolean | undefined;
  let render = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--quick") quick = true;
    else if (a === "--write") write = true;
    else if (a === "--no-write") write = false;
    else if (a === "--render") render = true;
    else if (a === "--only" || a.startsWith("--only=")) {
      const v = a === "--only" ? (argv[++i] ?? "") : a.slice("--only=".length);
      only = v.split(",").filter(Boolean);
      for (const n of only) {
        if (!BENCHES.some((b) => b.name === n) && !ACTIONS_SUBS.includes(n))
          throw new Error(
            `unknown benchmark "${n}"; choose from ${[...BENCHES.map((b) => b.name), ...ACTIONS_SUBS].join(", ")}`,
          );
      }
      if (only.length === 0) throw new Error("--only needs a benchmark name");
    } else if (a === "--help" || a === "-h") {
      process.stdout.write(
        `usage: npm run bench -- [--quick] [--only ${BENCHES.map((b) => b.name).join(",")}|${ACTIONS_SUBS.join(",")}] [--write|--no-write] [--render]\n`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return { quick, only, render, write: write ?? (!quick && only === null) };
}

/** Runs one benchmark script in a child process; its progress goes to stderr. */
async function runBench(b: Bench, extra: string[], quick: boolean, tmp: string): Promise<BenchOutcome> {
  const out = path.join(tmp, `${b.name}.json`);
  const args = [
    ...process.execArgv,
    ...(b.nodeArgs ?? []),
    path.join(BENCH_DIR, b.script),
    "--out",
    out,
    ...extra,
  ];
  if (quick) args.push("--quick");
  const start = performance.now();
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    progress(`${b.name}: over ${b.timeoutSeconds}s: stopping it (pid ${child.pid})`);
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
  }, b.timeoutSeconds * 1000);
  const exitCode = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  clearTimeout(timer);
  const seconds = (performance.now() - start) / 1000;
  const outcome: BenchOutcome = { ok: exitCode === 0, seconds, exitCode };
  if (existsSync(out)) {
    const parsed = JSON.parse(await readFile(out, "utf8")) as { data: unknown; md: string };
    outcome.data = parsed.data;
    outcome.md = parsed.md;
  }
  if (timedOut) outcome.error = `timed out after ${b.timeoutSeconds} s`;
  else if (exitCode !== 0)
    outcome.error = `exited with code ${exitCode}${outcome.md ? " (figures below are partial or failed checks)" : ""}`;
  return outcome;
}

// ---- targets -------------------------------------------------------------------------------------

interface Tput {
  rate: number;
  ratio?: number;
  latency: { p50: number; p99: number };
}
interface ActionsData {
  results: {
    bare?: Tput;
    httpHot?: Tput;
    http1000?: Tput;
    httpWide?: Tput;
    ws?: Tput;
    sequential?: { p50: number; p99: number };
    wake?: { client: { p50: number; p99: number } };
    create?: { client: { p50: number; p99: number } };
    heap?: { steps: { actors: number; heapPerActor: number; rssPerActor: number }[] };
  };
  settings: { actors: number };
}
interface PeerLoad {
  rate: number;
  latency: { p50: number | null; p99: number | null };
}
interface PeerData {
  modes: Partial<
    Record<
      "stock" | "quickack",
      { httpHot: PeerLoad; httpMany: PeerLoad; ws: PeerLoad; httpSequential: { p50: number | null } }
    >
  >;
  errors: string[];
}
interface StorageData {
  syncedBatch: { putsPerSecond: number };
  groupCommit: { putsPerSecond: number };
  enclave: { writesPerSecond: number; latency: { p50: number; p99: number } };
  ratioGroupCommit: number;
  ratioSyncedBatch: number;
}
interface DirectoryData {
  target: number;
  reached: number;
  createSeconds: number;
  createRate: number;
  extrapolatedSeconds: number | null;
  diskBytes: number;
  diskPerActor: number;
  wakeGrowth: number;
  checkpoints: { actors: number; wake: { p50: number; p99: number } }[];
}
interface RunnerData {
  modes: Record<
    "embedded" | "runner",
    { hot: { rate: number; p50: number }; many: { rate: number; p50: number } }
  >;
}

const met = (ok: boolean) => (ok ? "met" : "**missed**");
const x = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "–" : `${n.toFixed(2)}x`);

/** The summary table: every figure of the issue, its reference, ratio and target. */
function summary(run: RunRecord): string[][] {
  const get = <T>(name: string) => run.benchmarks[name]?.data as T | undefined;
  const a = get<ActionsData>("actions")?.results;
  const p = get<PeerData>("peer");
  const st = get<StorageData>("storage");
  const d = get<DirectoryData>("directory");
  const rn = get<RunnerData>("runner");
  const rows: string[][] = [];
  const na = (why: string) => ["–", "–", "–", "–", `N/A: ${why}`];
  const peerWhy = run.mode === "quick" ? "peer skipped in --quick" : "peer not measured (see below)";
  const vsPeer = (
    mine: number | undefined,
    f: (m: NonNullable<PeerData["modes"]["stock"]>) => number,
    min: number,
  ) => {
    const stock = p?.modes.stock;
    const qa = p?.modes.quickack;
    if (mine === undefined || (!stock && !qa)) return ["–", "–", `>= ${min}x: ${peerWhy}`];
    const rs = stock ? mine / f(stock) : undefined;
    const rq = qa ? mine / f(qa) : undefined;
    const ref = `${stock ? fmtRate(f(stock)) : "–"} / ${qa ? fmtRate(f(qa)) : "–"}/s`;
    const worst = Math.min(rs ?? Infinity, rq ?? Infinity);
    return [ref, `${x(rs)} / ${x(rq)}`, `>= ${min}x vs the faster mode: ${met(worst >= min)}`];
  };
  const bareRef = a?.bare ? `${fmtRate(a.bare.rate)} req/s` : "–";
  const tp = (t: Tput | undefined, unit = "req/s") =>
    t ? `${fmtRate(t.rate)} ${unit} (p50 ${fmtMs(t.latency.p50)}, p99 ${fmtMs(t.latency.p99)})` : "–";
  if (a?.httpHot) {
    rows.push([
      "Durable HTTP actions, 1 hot actor, 20 conns",
      tp(a.httpHot),
      `bare fastify ${bareRef}`,
      x(a.httpHot.ratio),
      `>= ${TARGETS.httpVsBare}x bare: ${a.httpHot.ratio !== undefined ? met(a.httpHot.ratio >= TARGETS.httpVsBare) : "–"}`,
    ]);
    rows.push([
      "↳ vs rivetkit HTTP actions, 1 hot actor (stock / quickack)",
      tp(a.httpHot),
      ...vsPeer(a.httpHot.rate, (m) => m.httpHot.rate, TARGETS.httpVsRivet),
    ]);
  }
  if (a?.http1000) {
    rows.push([
      "Durable HTTP actions, 1,000 actors round-robin, 20 conns",
      tp(a.http1000),
      `bare fastify ${bareRef}`,
      x(a.http1000.ratio),
      `>= ${TARGETS.httpVsBare}x bare: ${a.http1000.ratio !== undefined ? met(a.http1000.ratio >= TARGETS.httpVsBare) : "–"}`,
    ]);
    rows.push([
      "↳ vs rivetkit HTTP actions, many actors round-robin (stock / quickack)",
      tp(a.http1000),
      ...vsPeer(a.http1000.rate, (m) => m.httpMany.rate, TARGETS.httpVsRivet),
    ]);
  }
  if (a?.ws)
    rows.push([
      "WebSocket actions, 20 conns x 8 in flight",
      tp(a.ws, "actions/s"),
      ...vsPeer(a.ws.rate, (m) => m.ws.rate, TARGETS.wsVsRivet),
    ]);
  if (a?.sequential) {
    const stock = p?.modes.stock?.httpSequential.p50 ?? undefined;
    const qa = p?.modes.quickack?.httpSequential.p50 ?? undefined;
    rows.push([
      "Sequential HTTP action latency (1 client, keep-alive)",
      `p50 ${fmtMs(a.sequential.p50)}, p99 ${fmtMs(a.sequential.p99)}`,
      stock !== undefined || qa !== undefined
        ? `rivetkit p50 ${fmtMs(stock)} / ${fmtMs(qa)} (stock / quickack)`
        : "–",
      stock !== undefined || qa !== undefined
        ? `${x((stock ?? NaN) / a.sequential.p50)} / ${x((qa ?? NaN) / a.sequential.p50)} lower`
        : "–",
      "no small-request latency floor (TCP_NODELAY, keep-alive)",
    ]);
  }
  if (a?.wake)
    rows.push([
      "Wake latency of a sleeping actor (first action after sleep, HTTP)",
      `p50 ${fmtMs(a.wake.client.p50)}, p99 ${fmtMs(a.wake.client.p99)}`,
      "–",
      "–",
      `p50 < ${TARGETS.wakeP50Ms} ms: ${met(a.wake.client.p50 < TARGETS.wakeP50Ms)}; p99 < ${TARGETS.wakeP99Ms} ms: ${met(a.wake.client.p99 < TARGETS.wakeP99Ms)}`,
    ]);
  if (a?.create)
    rows.push([
      "Create latency (PUT /actors, new key)",
      `p50 ${fmtMs(a.create.client.p50)}, p99 ${fmtMs(a.create.client.p99)}`,
      "–",
      "–",
      "–",
    ]);
  for (const s of a?.heap?.steps ?? [])
    rows.push([
      `Heap / RSS per live idle actor at ${s.actors.toLocaleString("en-US")}`,
      `${fmtBytes(s.heapPerActor)} heap, ${fmtBytes(s.rssPerActor)} RSS`,
      "–",
      "–",
      `< 1 KB heap: ${met(s.heapPerActor < TARGETS.heapPerActorBytes)}`,
    ]);
  if (d) {
    const first = d.checkpoints[0];
    const last = d.checkpoints.at(-1);
    const full = d.reached >= d.target;
    rows.push([
      `Directory: create ${d.target.toLocaleString("en-US")} sleeping actors (in process)`,
      full
        ? `${d.createSeconds.toFixed(1)} s (${fmtRate(d.createRate)}/s)`
        : `${d.reached.toLocaleString("en-US")} in ${d.createSeconds.toFixed(1)} s; ${d.target.toLocaleString("en-US")} **extrapolated** ~${d.extrapolatedSeconds?.toFixed(0)} s`,
      "–",
      "–",
      "–",
    ]);
    if (first && last)
      rows.push([
        `Directory: wake latency at ${last.actors.toLocaleString("en-US")} sleeping actors (in process)`,
        `p50 ${fmtMs(last.wake.p50)}, p99 ${fmtMs(last.wake.p99)}`,
        `at ${first.actors.toLocaleString("en-US")}: p50 ${fmtMs(first.wake.p50)}, p99 ${fmtMs(first.wake.p99)}`,
        x(d.wakeGrowth),
        `flat (<= ${TARGETS.wakeGrowth}x) from 1k to ${d.target.toLocaleString("en-US")}: ${full ? met(d.wakeGrowth <= TARGETS.wakeGrowth) : `${met(d.wakeGrowth <= TARGETS.wakeGrowth)} up to ${d.reached.toLocaleString("en-US")} only`}`,
      ]);
    rows.push([
      `Directory: disk size at ${d.reached.toLocaleString("en-US")} actors`,
      `${fmtBytes(d.diskBytes)} (${fmtBytes(d.diskPerActor)} / actor)`,
      "–",
      "–",
      "–",
    ]);
  }
  if (st)
    rows.push([
      "Durable writes/s under concurrency (256 callers, in process)",
      `${fmtRate(st.enclave.writesPerSecond)} writes/s (p50 ${fmtMs(st.enclave.latency.p50)})`,
      `raw synced batched puts ${fmtRate(st.syncedBatch.putsPerSecond)}/s; raw group commit ${fmtRate(st.groupCommit.putsPerSecond)}/s`,
      `${x(st.ratioSyncedBatch)} / ${x(st.ratioGroupCommit)}`,
      `>= ${TARGETS.writesVsRaw}x raw batched puts: ${met(st.ratioSyncedBatch >= TARGETS.writesVsRaw)}`,
    ]);
  if (rn)
    rows.push([
      "Runner mode vs embedded, HTTP actions (1 hot / 100 actors)",
      `${fmtRate(rn.modes.runner.hot.rate)} / ${fmtRate(rn.modes.runner.many.rate)} req/s`,
      `embedded ${fmtRate(rn.modes.embedded.hot.rate)} / ${fmtRate(rn.modes.embedded.many.rate)} req/s`,
      `${x(rn.modes.runner.hot.rate / rn.modes.embedded.hot.rate)} / ${x(rn.modes.runner.many.rate / rn.modes.embedded.many.rate)}`,
      "–",
    ]);
  const w = get<WorkspaceBenchData>("workspace");
  if (w) {
    rows.push([
      "Workspace boot (kernel on wake)",
      `p50 ${fmtMs(w.boot.p50)}, p99 ${fmtMs(w.boot.p99)}`,
      `cold first action ${fmtMs(w.coldAction.p50)} p50`,
      "–",
      `p50 < ${TARGETS.workspaceBootP50Ms} ms: ${met(w.boot.p50 < TARGETS.workspaceBootP50Ms)}`,
    ]);
    rows.push([
      'Workspace `exec("echo hi")`',
      `p50 ${fmtMs(w.echo.p50)}, p99 ${fmtMs(w.echo.p99)}`,
      "–",
      "–",
      `p50 < 3 ms: ${met(w.echo.p50 < 3)}`,
    ]);
    rows.push([
      "Idle workspace memory (actor + booted VM)",
      `heap ${fmtBytes(w.idle.heapPerWorkspace)}, RSS ${fmtBytes(w.idle.rssPerWorkspace)}`,
      "–",
      "–",
      `< 5 MB: ${met(Math.max(w.idle.heapPerWorkspace, w.idle.rssPerWorkspace) < TARGETS.idleWorkspaceBytes)}`,
    ]);
  } else {
    const why = "workspace benchmark not run";
    rows.push(["Workspace boot", ...na(why).slice(1)]);
    rows.push(['Workspace `exec("echo hi")`', ...na(why).slice(1)]);
    rows.push(["Idle workspace memory", ...na(why).slice(1)]);
  }
  if (w?.vmFetch) {
    rows.push([
      "vmFetch into a guest Node server",
      `${fmtRate(w.vmFetch.rate)} req/s (${w.vmFetch.concurrency} callers); sequential p50 ${fmtMs(w.vmFetch.latency.p50)}, p99 ${fmtMs(w.vmFetch.latency.p99)}`,
      "–",
      "–",
      "–",
    ]);
    rows.push([
      "Preview URL proxy (HTTP, guest Node server)",
      `${fmtRate(w.preview.rate)} req/s (${w.preview.connections} conns, p50 ${w.preview.latency.p50} ms)`,
      "–",
      "–",
      "–",
    ]);
  } else {
    const why = "workspace benchmark not run";
    rows.push(["vmFetch throughput", ...na(why).slice(1)]);
    rows.push(["Preview proxy throughput", ...na(why).slice(1)]);
  }
  return rows;
}

// ---- rendering -------------------------------------------------------------------------------------

function renderRun(run: RunRecord): string {
  if (run.legacyMd) return run.legacyMd;
  const out: string[] = [];
  out.push(
    `Commit \`${run.commit}\`${run.dirty ? " (with uncommitted changes)" : ""} · Node ${run.node} · ` +
      `${run.machine.cpus} × ${run.machine.cpu}, ${fmtBytes(run.machine.memoryBytes)} RAM, ${run.machine.os} · ` +
      `${run.date.replace("T", " ").slice(0, 16)} UTC · ${run.mode} run${run.only ? ` (only ${run.only.join(", ")})` : ""} · ` +
      `${run.seconds.toFixed(0)} s · load average ${run.loadavg[0].toFixed(2)} at start, ${run.loadavg[1].toFixed(2)} at end`,
  );
  out.push("### Summary: figures, reference points and targets");
  out.push(
    "Ratios are of figures measured in this run on this machine (absolute figures drift between runs and machines). " +
      "Targets are goals, not tests.",
  );
  out.push(table(["Figure", "Enclave", "Reference (same run)", "Ratio", "Target"], summary(run)));
  const notMeasured: string[] = [];
  for (const b of BENCHES) {
    const o = run.benchmarks[b.name];
    if (!o) continue;
    out.push(`### ${b.title}`);
    if (o.error) out.push(`**${b.name}: ${o.error}.**`);
    if (o.md) out.push(o.md.replace(/^(#{2,5}) /gm, "#$1 "));
    else notMeasured.push(`${b.name}: ${o.error ?? "no figures"}`);
  }
  const peer = run.benchmarks.peer?.data as PeerData | undefined;
  for (const e of peer?.errors ?? []) notMeasured.push(`peer: ${e.split("\n")[0]}`);
  if (run.mode === "quick") notMeasured.push("peer: skipped in --quick");
  out.push("### Not measured");
  out.push(notMeasured.map((n) => `- ${n}`).join("\n"));
  return out.join("\n\n");
}

function renderResults(runs: RunRecord[]): string {
  const [latest, previous] = runs;
  const parts = [
    "# Benchmark results",
    "Written by `npm run bench` (`bench/main.ts`, which runs every script in `bench/`); do not edit by hand. " +
      `Newest run first, the previous run below it; \`bench/results.json\` keeps the last ${KEEP_RUNS} runs.`,
  ];
  if (latest) parts.push("## Latest run", renderRun(latest));
  if (previous) parts.push("## Previous run", renderRun(previous));
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

/** Runs from results.json; a file from before this orchestrator becomes one legacy run (its markdown). */
async function readRuns(): Promise<RunRecord[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(RESULTS_JSON, "utf8"));
  } catch {
    return [];
  }
  if (parsed && typeof parsed === "object" && "runs" in parsed) return (parsed as { runs: RunRecord[] }).runs;
  if (!Array.isArray(parsed) || parsed.length === 0) return [];
  const old = parsed[0] as {
    date: string;
    commit: string;
    dirty: boolean;
    node: string;
    cpus: { model: string; count: number };
  };
  const md = await readFile(RESULTS_MD, "utf8").catch(() => "");
  const section = (heading: string) => {
    const m = new RegExp(`^${heading}\\n([\\s\\S]*?)(?=^## |$(?![\\s\\S]))`, "m").exec(md);
    return m?.[1]?.trim().replace(/^(#{2,5}) /gm, "#$1 ") ?? "";
  };
  const legacyMd = [
    "Written by the earlier `bench/actions.ts` and `bench/runner.ts` (before `bench/main.ts`; no reference points, no summary).",
    "### Enclave actions (bench/actions.ts)",
    section("## Latest run"),
    "### Runner mode vs embedded (bench/runner.ts)",
    section("## Runner mode"),
  ].join("\n\n");
  return [
    {
      date: old.date,
      commit: old.commit,
      dirty: old.dirty,
      node: old.node,
      machine: { cpu: old.cpus.model, cpus: old.cpus.count, memoryBytes: 0, os: "" },
      mode: "full",
      only: null,
      loadavg: [0, 0],
      seconds: 0,
      benchmarks: { actions: { ok: true, seconds: 0, exitCode: 0, data: old } },
      legacyMd,
    },
  ];
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.render) {
    await writeFile(RESULTS_MD, await formatMarkdown(renderResults(await readRuns())));
    progress(`re-rendered ${path.relative(REPO, RESULTS_MD)} from ${path.relative(REPO, RESULTS_JSON)}`);
    return;
  }
  // The action benchmarks drive the compiled package (what vendors run), built fresh here.
  try {
    progress("building the package (npm run build): the action benchmarks drive dist/");
    execFileSync("npm", ["run", "build"], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });
    process.env.BENCH_FROM_DIST = "1";
  } catch (e) {
    progress(`the build failed (${errorText(e).split("\n")[0]}); the benchmarks run the TypeScript sources`);
  }
  const cpus = os.cpus();
  const run: RunRecord = {
    date: new Date().toISOString(),
    commit: git(["rev-parse", "--short", "HEAD"]) || "unknown",
    dirty: git(["status", "--porcelain", "--untracked-files=no"]) !== "",
    node: process.version,
    machine: {
      cpu: cpus[0]?.model.trim() ?? "unknown",
      cpus: cpus.length,
      memoryBytes: os.totalmem(),
      os: `${os.type()} ${os.release()}`,
    },
    mode: opts.quick ? "quick" : "full",
    only: opts.only,
    loadavg: [os.loadavg()[0] ?? 0, 0],
    seconds: 0,
    benchmarks: {},
  };
  const plan: { bench: Bench; extra: string[] }[] = [];
  for (const b of BENCHES) {
    if (opts.quick && !b.quick) continue;
    if (!opts.only) plan.push({ bench: b, extra: [] });
    else if (opts.only.includes(b.name)) plan.push({ bench: b, extra: [] });
    else if (b.name === "actions") {
      const subs = opts.only.filter((n) => ACTIONS_SUBS.includes(n));
      if (subs.length) plan.push({ bench: b, extra: ["--only", subs.join(",")] });
    }
  }
  progress(
    `${run.mode} run of ${plan.map((p) => p.bench.name + (p.extra.length ? ` (${p.extra[1]})` : "")).join(", ")}; ` +
      `commit ${run.commit}${run.dirty ? " (modified)" : ""}, Node ${run.node}, ${cpus.length} × ${run.machine.cpu}`,
  );
  const tmp = await mkdtemp(path.join(os.tmpdir(), "enclave-bench-main-"));
  let failed = 0;
  try {
    for (const [i, { bench, extra }] of plan.entries()) {
      progress(`(${i + 1}/${plan.length}) ${bench.name}: starting`);
      let o: BenchOutcome;
      try {
        o = await runBench(bench, extra, opts.quick, tmp);
      } catch (e) {
        o = { ok: false, seconds: 0, exitCode: null, error: errorText(e).split("\n")[0] };
      }
      run.benchmarks[bench.name] = o;
      if (!o.ok) failed++;
      progress(
        `(${i + 1}/${plan.length}) ${bench.name}: ${o.ok ? "done" : `FAILED (${o.error})`} in ${o.seconds.toFixed(1)}s`,
      );
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  run.loadavg[1] = os.loadavg()[0] ?? 0;
  run.seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`${renderRun(run)}\n`);
  if (opts.write) {
    const runs = await readRuns();
    runs.unshift(run);
    runs.length = Math.min(runs.length, KEEP_RUNS);
    await writeFile(RESULTS_JSON, `${JSON.stringify({ format: 2, runs }, null, 2)}\n`);
    await writeFile(RESULTS_MD, await formatMarkdown(renderResults(runs)));
    progress(`wrote ${path.relative(REPO, RESULTS_MD)} and ${path.relative(REPO, RESULTS_JSON)}`);
  }
  progress(failed ? `done; ${failed} benchmark(s) failed` : "done");
  process.exitCode = failed ? 1 : 0;
}

main().catch((e: unknown) => {
  process.stderr.write(`${errorText(e)}\n`);
  process.exit(2);
});
