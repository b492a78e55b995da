/**
 * The rivetkit peer: `npx tsx bench/peer.ts [--quick] [--out FILE]` (needs root for `ip netns`).
 *
 * rivetkit 2.3.19 and its engine binary (`@rivetkit/engine-cli-linux-x64-musl`) are installed only
 * under bench/peers/ (`npm install` there; never a dependency of the library). For each loopback
 * mode, in a private network namespace created here (loopback only, no route out):
 *   - stock:    Linux loopback as it is (40 ms delayed ACKs apply);
 *   - quickack: `quickack 1` on the namespace's loopback routes (no delayed ACKs).
 * bench/peers/server.mjs hosts the same counter actor as Enclave's benchmark and lets rivetkit
 * spawn its engine with its own settings (RocksDB file-system store under a temp HOME,
 * RIVET_RUN_SERVICES=0, RUST_BACKTRACE unset); bench/peers/client.mjs runs the load in the same
 * namespace and writes its figures. Afterwards the server and the engine are killed by PID, the
 * namespace deleted and the temp dir removed.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  delay,
  errorText,
  finish,
  fmtBytes,
  fmtMs,
  fmtRate,
  progressFor,
  scriptArgs,
  table,
} from "./common.js";

const progress = progressFor("peer");
const PEERS = path.join(path.dirname(fileURLToPath(import.meta.url)), "peers");
const ENGINE_BIN = path.join(PEERS, "node_modules/@rivetkit/engine-cli-linux-x64-musl/rivet-engine");
const MODES = ["stock", "quickack"] as const;
type Mode = (typeof MODES)[number];

interface PeerLatency {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}
interface PeerLoad {
  rate: number;
  ok: number;
  errors: number;
  firstError?: string;
  seconds: number;
  latency: PeerLatency;
}
export interface PeerModeResult {
  create: PeerLatency;
  httpSequential: PeerLatency;
  httpHot: PeerLoad;
  httpMany: PeerLoad;
  wsSequential: PeerLatency;
  ws: PeerLoad;
  /** RSS at the end: the actor host (node) and the engine. */
  serverRss?: number;
  engineRss?: number;
  engineCpuSeconds?: number;
}
export interface PeerResult {
  version: string;
  settings: Settings;
  modes: Partial<Record<Mode, PeerModeResult>>;
  /** Why the peer (or a mode) could not be measured. */
  errors: string[];
}
interface Settings {
  actors: number;
  sequential: number;
  connections: number;
  depth: number;
  warmup: number;
  seconds: number;
}

function ip(args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** PIDs of rivet-engine processes (this package's binary) in the given network namespace. */
function enginePids(netns: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readlinkSync(`/proc/${d}/exe`) !== ENGINE_BIN) continue;
      if (readlinkSync(`/proc/${d}/ns/net`) !== netns) continue;
      out.push(Number(d));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

function procRss(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function procCpuSeconds(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks (100/s)
  } catch {
    return undefined;
  }
}

async function killPid(pid: number, name: string): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  for (let i = 0; i < 30; i++) {
    await delay(100);
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
  progress(`${name} (pid ${pid}) ignored SIGTERM for 3 s: SIGKILL`);
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.once("exit", (c) => r(c))));
}

async function runMode(mode: Mode, s: Settings): Promise<PeerModeResult> {
  const ns = `enclave-bench-${process.pid}-${mode}`;
  const home = await mkdtemp(path.join(os.tmpdir(), `enclave-bench-peer-${mode}-`));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== "RUST_BACKTRACE") env[k] = v;
  Object.assign(env, { HOME: home, RIVET_RUN_SERVICES: "0", NODE_OPTIONS: "" });
  let server: ChildProcess | undefined;
  const engines = new Set<number>();
  let netnsId = "";
  ip(["netns", "add", ns]);
  try {
    ip(["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    if (mode === "quickack") {
      for (const dst of ["127.0.0.0/8", "127.0.0.1"]) {
        ip([
          "netns",
          "exec",
          ns,
          "ip",
          "route",
          "change",
          "local",
          dst,
          "dev",
          "lo",
          "table",
          "local",
          "proto",
          "kernel",
          "scope",
          "host",
          "src",
          "127.0.0.1",
          "quickack",
          "1",
        ]);
      }
    }
    progress(
      `${mode}: namespace ${ns}: ${ip(["netns", "exec", ns, "ip", "route", "show", "table", "local"]).trim().replace(/\n/g, "; ")}`,
    );
    server = spawn("ip", ["netns", "exec", ns, process.execPath, path.join(PEERS, "server.mjs")], {
      cwd: home,
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let serverLog = "";
    server.stderr?.on("data", (d: Buffer) => {
      if (serverLog.length < 20_000) serverLog += String(d);
    });
    const serverPid = server.pid as number;
    // `ip netns exec` execs the command: the child's PID is the node server's.
    for (let i = 0; i < 50 && !netnsId; i++) {
      try {
        const id = readlinkSync(`/proc/${serverPid}/ns/net`);
        if (id !== readlinkSync("/proc/self/ns/net")) netnsId = id;
      } catch {
        // not yet
      }
      if (!netnsId) await delay(100);
    }
    if (!netnsId) throw new Error("could not find the server's network namespace");
    const watchEngines = setInterval(() => enginePids(netnsId).forEach((p) => engines.add(p)), 500);
    try {
      const out = path.join(home, "client.json");
      const client = spawn(
        "ip",
        [
          "netns",
          "exec",
          ns,
          process.execPath,
          path.join(PEERS, "client.mjs"),
          out,
          JSON.stringify({ ...s, endpoint: "http://127.0.0.1:6420" }),
        ],
        { cwd: PEERS, env, stdio: ["ignore", "inherit", "inherit"] },
      );
      const timer = setTimeout(() => client.kill("SIGKILL"), 300_000);
      const code = await exited(client);
      clearTimeout(timer);
      enginePids(netnsId).forEach((p) => engines.add(p));
      if (code !== 0 || !existsSync(out))
        throw new Error(`peer client exited with ${code}; server log: ${serverLog.slice(-2000)}`);
      const r = JSON.parse(await readFile(out, "utf8")) as PeerModeResult;
      r.serverRss = procRss(serverPid);
      const [engine] = engines;
      if (engine !== undefined) {
        r.engineRss = procRss(engine);
        r.engineCpuSeconds = procCpuSeconds(engine);
      }
      return r;
    } finally {
      clearInterval(watchEngines);
    }
  } finally {
    if (server?.pid !== undefined) await killPid(server.pid, "peer server");
    if (netnsId) enginePids(netnsId).forEach((p) => engines.add(p));
    for (const pid of engines) await killPid(pid, "rivet-engine");
    if (netnsId && enginePids(netnsId).length > 0)
      progress(`${mode}: WARNING: a rivet-engine is still running`);
    else progress(`${mode}: server and engine (pid ${[...engines].join(", ") || "none seen"}) stopped`);
    try {
      ip(["netns", "del", ns]);
    } catch (e) {
      progress(`${mode}: could not delete namespace ${ns}: ${errorText(e)}`);
    }
    await rm(home, { recursive: true, force: true });
  }
}

function render(r: PeerResult): string {
  const out: string[] = [];
  out.push(
    `rivetkit ${r.version} with its own engine binary (\`@rivetkit/engine-cli-linux-x64-musl\`, RocksDB ` +
      `file-system store in a temp dir), installed only under \`bench/peers/\`, the same counter actor ` +
      `(\`increment\`/\`get\`), called through rivetkit's own client (\`rivetkit/client\`): HTTP actions ` +
      `(\`handle.increment(1)\`) and actions over a WebSocket connection (\`handle.connect()\`). Each mode runs in ` +
      `its own network namespace (loopback only); engine spawned by rivetkit with its settings, ` +
      `\`RUST_BACKTRACE\` unset, \`RIVET_RUN_SERVICES=0\`; ${r.settings.actors} actors created one at a time; ` +
      `${r.settings.connections} concurrent callers (WebSocket: ${r.settings.connections} connections x ` +
      `${r.settings.depth} in flight), ${r.settings.warmup} s warm-up, ${r.settings.seconds} s measured.`,
  );
  const rows: string[][] = [];
  const load = (name: string, f: (m: PeerModeResult) => PeerLoad) =>
    rows.push([
      name,
      ...MODES.map((mode) => {
        const m = r.modes[mode];
        if (!m) return "–";
        const l = f(m);
        return `${fmtRate(l.rate)}/s (p50 ${fmtMs(l.latency.p50 ?? NaN)}, p99 ${fmtMs(l.latency.p99 ?? NaN)}${l.errors ? `, **${l.errors} errors**` : ""})`;
      }),
    ]);
  const lat = (name: string, f: (m: PeerModeResult) => PeerLatency) =>
    rows.push([
      name,
      ...MODES.map((mode) => {
        const m = r.modes[mode];
        if (!m) return "–";
        const l = f(m);
        return `p50 ${fmtMs(l.p50 ?? NaN)}, p99 ${fmtMs(l.p99 ?? NaN)} (${l.count})`;
      }),
    ]);
  load("HTTP actions, 1 hot actor", (m) => m.httpHot);
  load(`HTTP actions, ${r.settings.actors} actors round-robin`, (m) => m.httpMany);
  load("WebSocket actions", (m) => m.ws);
  lat("Sequential HTTP action", (m) => m.httpSequential);
  lat("Sequential WebSocket action", (m) => m.wsSequential);
  lat("Create + first action (new key, one at a time)", (m) => m.create);
  rows.push([
    "RSS at the end: actor host / engine",
    ...MODES.map((mode) => {
      const m = r.modes[mode];
      return m ? `${fmtBytes(m.serverRss)} / ${fmtBytes(m.engineRss)}` : "–";
    }),
  ]);
  out.push(table(["Peer: rivetkit", "stock loopback", "quickack loopback"], rows));
  if (r.errors.length) out.push(`Not measured: ${r.errors.map((e) => e.split("\n")[0]).join("; ")}`);
  return out.join("\n\n");
}

async function main(): Promise<void> {
  const args = scriptArgs();
  const s: Settings = args.quick
    ? { actors: 4, sequential: 20, connections: 20, depth: 8, warmup: 1, seconds: 2 }
    : { actors: 20, sequential: 100, connections: 20, depth: 8, warmup: 2, seconds: 6 };
  const result: PeerResult = { version: "?", settings: s, modes: {}, errors: [] };
  try {
    result.version = (
      JSON.parse(readFileSync(path.join(PEERS, "node_modules/rivetkit/package.json"), "utf8")) as {
        version: string;
      }
    ).version;
    if (!existsSync(ENGINE_BIN)) throw new Error(`no engine binary at ${ENGINE_BIN}`);
  } catch (e) {
    result.errors.push(
      `rivetkit is not installed under bench/peers (run \`npm install\` there): ${errorText(e).split("\n")[0]}`,
    );
  }
  if (result.errors.length === 0) {
    for (const mode of MODES) {
      progress(`${mode}: starting`);
      try {
        result.modes[mode] = await runMode(mode, s);
      } catch (e) {
        result.errors.push(`${mode}: ${errorText(e)}`);
        progress(`${mode}: FAILED: ${errorText(e)}`);
      }
    }
  }
  await finish(args, result, render(result));
}

await main();
