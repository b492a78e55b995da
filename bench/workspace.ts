/**
 * Workspaces: `npx tsx --expose-gc bench/workspace.ts [--quick] [--out FILE]`.
 *
 *   - kernel boot: what a VM costs to boot on wake (root, /home/user loaded from the store,
 *     the shared software mount), p50/p99 over many boots;
 *   - cold first action: a sleeping workspace actor woken by `exists` (wake + VM boot);
 *   - `exec("echo hi")` round trip through the engine (action, shell, toybox on a worker);
 *   - memory per idle booted workspace: heap and RSS growth per VM over N booted workspaces,
 *     after a forced GC;
 *   - a guest Node HTTP server (`node server.js` in QuickJS): `vmFetch` round trip and
 *     throughput through the engine, and preview-URL proxy throughput over real HTTP
 *     (autocannon on loopback, in this process).
 * In process, on the real on-disk store in a temp dir.
 */
import { mkdtemp, rm } from "node:fs/promises";
import autocannon from "autocannon";
import os from "node:os";
import path from "node:path";
import { createEngine } from "../lib/create-engine.js";
import { setup } from "../lib/setup.js";
import { bootKernel } from "../lib/workspace/boot.js";
import { baseSoftware, workspace } from "../lib/workspace/index.js";
import { closeSharedWorkerPool } from "../lib/workspace/wasi/index.js";
import {
  type Latency,
  finish,
  fmtBytes,
  fmtMs,
  fmtRate,
  latencyOf,
  progressFor,
  scriptArgs,
  table,
} from "./common.js";

const progress = progressFor("workspace");
const args = scriptArgs();
const NS = "default";

export interface WorkspaceBenchData {
  boot: Latency;
  coldAction: Latency;
  echo: Latency;
  idle: {
    workspaces: number;
    heapPerWorkspace: number;
    rssPerWorkspace: number;
    externalPerWorkspace: number;
  };
  vmFetch: { latency: Latency; concurrency: number; rate: number };
  preview: {
    connections: number;
    rate: number;
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
  };
}

const SERVER_JS = `require("http").createServer((req, res) => {
  res.setHeader("content-type", "text/plain");
  res.end("hello from the guest");
}).listen(3000);`;

const gc = (globalThis as { gc?: () => void }).gc;
function collect(): void {
  if (!gc) throw new Error("run with --expose-gc (npx tsx --expose-gc bench/workspace.ts)");
  for (let i = 0; i < 3; i++) gc();
}

async function bootLatency(n: number): Promise<Latency> {
  const empty = { load: async () => [], commit: async () => undefined };
  const opts = { software: [baseSoftware], mounts: [], limits: {}, persistence: () => empty };
  for (let i = 0; i < 50; i++) await bootKernel(opts);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await bootKernel(opts);
    times.push(performance.now() - t);
  }
  return latencyOf(times);
}

async function main(): Promise<void> {
  const quick = args.quick;
  const dir = await mkdtemp(path.join(os.tmpdir(), "enclave-bench-ws-"));
  const running = await createEngine({
    registry: setup({ use: { vm: workspace() } }),
    storage: { fileSystem: { path: dir } },
    gateway: { host: "127.0.0.1", port: 0 },
    auth: { adminToken: "b".repeat(32) },
    log: { level: "silent" },
    env: {},
  });
  const { engine } = running;
  try {
    progress("kernel boot");
    const boot = await bootLatency(quick ? 200 : 2000);

    progress("cold first action (wake + boot)");
    const coldTimes: number[] = [];
    const cold = await engine.getOrCreate(NS, "vm", ["cold"], undefined, "getOrCreate");
    await engine.action(NS, cold.record.actorId, "writeFile", ["/home/user/a", "x"]);
    for (let i = 0; i < (quick ? 30 : 200); i++) {
      await engine.sleep(NS, cold.record.actorId);
      const t = performance.now();
      await engine.action(NS, cold.record.actorId, "exists", ["/home/user/a"]);
      coldTimes.push(performance.now() - t);
    }

    progress('exec("echo hi") round trip');
    const hot = await engine.getOrCreate(NS, "vm", ["echo"], undefined, "getOrCreate");
    const id = hot.record.actorId;
    for (let i = 0; i < 50; i++) await engine.action(NS, id, "exec", ["echo hi"]);
    const echoTimes: number[] = [];
    for (let i = 0; i < (quick ? 200 : 2000); i++) {
      const t = performance.now();
      const r = (await engine.action(NS, id, "exec", ["echo hi"])) as { stdout: string };
      echoTimes.push(performance.now() - t);
      if (r.stdout !== "hi\n") throw new Error(`echo hi printed ${JSON.stringify(r.stdout)}`);
    }

    const n = quick ? 50 : 500;
    progress(`memory: booting ${n} idle workspaces`);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(
        (await engine.getOrCreate(NS, "vm", ["idle", String(i)], undefined, "getOrCreate")).record.actorId,
      );
    }
    // Created and asleep; then each is woken with its VM booted (the figure counts the awake
    // actor too, ~0.7 KB, as a user would see it).
    for (const a of ids) await engine.sleep(NS, a);
    collect();
    const before = process.memoryUsage();
    for (const a of ids) await engine.action(NS, a, "exists", ["/home/user"]);
    collect();
    const after = process.memoryUsage();
    const idle = {
      workspaces: n,
      heapPerWorkspace: (after.heapUsed - before.heapUsed) / n,
      rssPerWorkspace: (after.rss - before.rss) / n,
      externalPerWorkspace: (after.external + after.arrayBuffers - before.external - before.arrayBuffers) / n,
    };
    // Make sure what was measured is booted VMs, not something else.
    const r = (await engine.action(NS, ids[0]!, "exec", ["echo ok"])) as { stdout: string };
    if (r.stdout !== "ok\n") throw new Error("idle workspace did not answer");

    progress("guest Node server: vmFetch round trip");
    const web = (await engine.getOrCreate(NS, "vm", ["web"], undefined, "getOrCreate")).record.actorId;
    await engine.action(NS, web, "writeFile", ["/home/user/server.js", SERVER_JS]);
    await engine.action(NS, web, "spawn", ["node", ["/home/user/server.js"]]);
    const fetchOnce = () => engine.action(NS, web, "vmFetch", [3000, "/"]) as Promise<{ status: number }>;
    for (let i = 0; ; i++) {
      const ok = await fetchOnce().then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (i > 500) throw new Error("the guest server never answered");
      await new Promise((r) => setTimeout(r, 10));
    }
    for (let i = 0; i < 100; i++) await fetchOnce();
    const fetchTimes: number[] = [];
    for (let i = 0; i < (quick ? 200 : 2000); i++) {
      const t = performance.now();
      await fetchOnce();
      fetchTimes.push(performance.now() - t);
    }
    const concurrency = 8;
    const fetchSeconds = quick ? 2 : 5;
    let fetched = 0;
    const until = performance.now() + fetchSeconds * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) {
          const r = await fetchOnce();
          if (r.status === 200) fetched++;
        }
      }),
    );
    const vmFetchRate = fetched / ((performance.now() - t0) / 1000);

    progress("preview URL proxy throughput (autocannon)");
    const { url } = await running.listen();
    const preview = (await engine.action(NS, web, "createSignedPreviewUrl", [3000])) as { path: string };
    const connections = 10;
    const cannon = await autocannon({
      url: new URL(preview.path, url).href,
      connections,
      duration: quick ? 2 : 8,
      timeout: 10,
    });
    const data: WorkspaceBenchData = {
      boot,
      coldAction: latencyOf(coldTimes),
      echo: latencyOf(echoTimes),
      idle,
      vmFetch: { latency: latencyOf(fetchTimes), concurrency, rate: vmFetchRate },
      preview: {
        connections,
        rate: cannon["2xx"] / cannon.duration,
        latency: { p50: cannon.latency.p50, p99: cannon.latency.p99 },
        non2xx: cannon.non2xx,
        errors: cannon.errors,
      },
    };
    const md = [
      table(
        ["Figure", "p50", "p99", "Target"],
        [
          [
            "Kernel boot (VM on wake)",
            fmtMs(boot.p50),
            fmtMs(boot.p99),
            "p50 < 3 ms (issue #9), < 5 ms (issue #5)",
          ],
          [
            "Cold first action (actor wake + VM boot + `exists`)",
            fmtMs(data.coldAction.p50),
            fmtMs(data.coldAction.p99),
            "–",
          ],
          ['`exec("echo hi")` through the engine', fmtMs(data.echo.p50), fmtMs(data.echo.p99), "p50 < 3 ms"],
          [
            "`vmFetch` into a guest Node server, sequential",
            fmtMs(data.vmFetch.latency.p50),
            fmtMs(data.vmFetch.latency.p99),
            "–",
          ],
        ],
      ),
      `Idle booted workspace, actor included (${n} workspaces, after forced GC): heap ${fmtBytes(idle.heapPerWorkspace)}, ` +
        `RSS ${fmtBytes(idle.rssPerWorkspace)}, external/array buffers ${fmtBytes(idle.externalPerWorkspace)} per workspace ` +
        "(target < 5 MB per #9, < 10 MB per #5; the toybox module and worker pool are shared by the engine and not counted per workspace).",
      `Guest Node HTTP server (QuickJS on a worker): \`vmFetch\` ${fmtRate(data.vmFetch.rate)} req/s with ${concurrency} concurrent callers in process; ` +
        `preview URL proxy ${fmtRate(data.preview.rate)} req/s over HTTP with ${connections} autocannon connections ` +
        `(p50 ${data.preview.latency.p50} ms, p99 ${data.preview.latency.p99} ms at autocannon's 1 ms resolution; ${data.preview.non2xx} non-2xx, ${data.preview.errors} errors). ` +
        "The load generator and the engine share this process and the machine's cores.",
    ].join("\n\n");
    await finish(args, data, md);
  } finally {
    await running.close();
    closeSharedWorkerPool();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
