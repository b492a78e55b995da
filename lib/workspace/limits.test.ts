/**
 * Workspace limits against real abuse on a real engine: a fork bomb, a disk filler, a memory
 * hog, an infinite loop and more busy programs than CPUs, each meeting its limit while another
 * actor of the same engine keeps answering. Uses toybox (`npm run build:software`) and the C
 * test program testdata/limits.c (built with clang into the OS temp directory).
 */
import { afterAll, describe, expect, it } from "vitest";
import type { Engine } from "../engine/engine.js";
import { NS, actorId, expectEnclaveError, startEngine, until } from "../engine/testing/harness.js";
import { buildTestProgram } from "./wasi/testing/test-program.js";
import { closeSharedWorkerPool } from "./wasi/index.js";
import {
  baseSoftware,
  definePackage,
  workspace,
  type ExecResult,
  type ProcessInfo,
  type WorkspaceLimits,
} from "./index.js";

afterAll(() => closeSharedWorkerPool());

const MiB = 1024 * 1024;
// One package list for every workspace here: the software mount (and compiled modules) are shared.
const software = [
  baseSoftware,
  definePackage("limits-test", [{ path: "/usr/bin/limits", data: buildTestProgram("limits"), mode: 0o755 }]),
];
const box = (limits: WorkspaceLimits = {}) => workspace({ software, limits });

/** A second actor that must keep answering while another workspace is abused. */
class Bystander {
  readonly latencies: number[] = [];
  #stop = false;
  #loop: Promise<void> | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly id: string,
  ) {}

  start(): void {
    this.#loop = (async () => {
      while (!this.#stop) {
        const t = performance.now();
        // A failed test closes the engine under the loop: that ends it, without an unhandled error.
        const ok = await this.engine.action(NS, this.id, "exists", ["/tmp"]).then(
          () => true,
          () => false,
        );
        if (!ok) break;
        this.latencies.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
  }

  /** Stops probing; the slowest and the median answer, in ms. */
  async stop(): Promise<{ max: number; median: number; count: number }> {
    this.#stop = true;
    await this.#loop;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      max: sorted[sorted.length - 1] ?? Infinity,
      median: sorted[Math.floor(sorted.length / 2)] ?? Infinity,
      count: sorted.length,
    };
  }
}

async function setup(limits: WorkspaceLimits) {
  const s = await startEngine({ limited: box(limits), plain: box() });
  const id = await actorId(s.engine, "limited", ["l", String(Math.random())]);
  const otherId = await actorId(s.engine, "plain", ["p", String(Math.random())]);
  const call = <T = unknown>(action: string, ...args: unknown[]) =>
    s.engine.action(NS, id, action, args) as Promise<T>;
  // Both VMs booted before anything is timed.
  await call("exists", "/tmp");
  await s.engine.action(NS, otherId, "exists", ["/tmp"]);
  const bystander = new Bystander(s.engine, otherId);
  return { ...s, id, otherId, call, bystander };
}

const running = (list: ProcessInfo[]) => list.filter((p) => p.status === "running");

describe("maxProcesses", () => {
  it("a fork bomb meets EAGAIN, ends, and the process table drains while others answer", async () => {
    const { call, bystander } = await setup({ resources: { maxProcesses: 8 } });
    bystander.start();
    // The classic bomb (`:` is not a function name this shell takes): every call forks two more.
    const classic = await call<ExecResult>("exec", "bomb(){ bomb | bomb & }; bomb; wait", {
      timeoutMs: 10_000,
    });
    expect(classic.signal).toBeUndefined();
    expect(classic.stderr).toMatch(/fork: Resource temporarily unavailable/);
    // One that also starts programs and keeps forking as slots free up: only the timeout ends it.
    const t = performance.now();
    const sleeper = await call<ExecResult>("exec", "bomb(){ sleep 1 | bomb & bomb; }; bomb; wait", {
      timeoutMs: 3000,
    });
    expect(performance.now() - t).toBeLessThan(8000);
    expect(sleeper.stderr).toMatch(/Resource temporarily unavailable/);
    await until("the process table drains", async () => running(await call("listProcesses")).length === 0);
    const latency = await bystander.stop();
    expect(latency.count).toBeGreaterThan(10);
    expect(latency.max).toBeLessThan(1000);
    expect(latency.median).toBeLessThan(50);

    // The limit for the spawn action: the catalogue error.
    const pids: number[] = [];
    for (let i = 0; i < 8; i++) pids.push((await call<{ pid: number }>("spawn", "sleep", ["30"])).pid);
    await expectEnclaveError(call("spawn", "sleep", ["30"]), "workspace", "EAGAIN", 429);
    // exec needs a process for its shell too.
    await expectEnclaveError(call("exec", "true"), "workspace", "EAGAIN", 429);
    for (const pid of pids) await call("killProcess", pid, "SIGKILL");
    expect(await call<ExecResult>("exec", "echo fine")).toMatchObject({ exitCode: 0, stdout: "fine\n" });
  });
});

describe("maxFilesystemBytes", () => {
  it("a disk filler gets ENOSPC, the file stays under the limit, and deleting frees the space", async () => {
    const { engine, id, call, bystander } = await setup({ resources: { maxFilesystemBytes: 4 * MiB } });
    bystander.start();
    const dd = await call<ExecResult>("exec", "dd if=/dev/zero of=/home/user/big bs=1M count=1000");
    expect(dd.exitCode).not.toBe(0);
    expect(dd.stderr).toMatch(/No space left on device/);
    const head = await call<ExecResult>("exec", "head -c 100000000 /dev/zero > /home/user/big2");
    expect(head.exitCode).not.toBe(0);
    expect(head.stderr).toMatch(/No space left on device/);
    const latency = await bystander.stop();
    expect(latency.max).toBeLessThan(1000);

    const sizes = async () =>
      (await call<{ path: string; size: number; type: string }[]>("readdirRecursive", "/home/user"))
        .filter((e) => e.type === "file")
        .map((e) => [e.path, e.size] as const);
    const before = await sizes();
    const total = before.reduce((n, [, size]) => n + size, 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(4 * MiB);
    const e = await expectEnclaveError(
      call("writeFile", "/home/user/more", new Uint8Array(2 * MiB)),
      "workspace",
      "ENOSPC",
      507,
    );
    expect(e.status).toBe(507);
    // Nothing half-written.
    expect(await call("exists", "/home/user/more")).toBe(false);

    // What was acknowledged is what a sleep keeps.
    const sums = (await call<ExecResult>("exec", "sha256sum big big2")).stdout;
    await engine.sleep(NS, id);
    expect(await sizes()).toEqual(before);
    expect((await call<ExecResult>("exec", "sha256sum big big2")).stdout).toBe(sums);

    await call("deleteFile", "/home/user/big");
    await call("deleteFile", "/home/user/big2");
    await call("writeFile", "/home/user/more", new Uint8Array(2 * MiB));
    expect(await call<ExecResult>("exec", "echo ok > f && cat f && wc -c < more")).toMatchObject({
      exitCode: 0,
      stdout: `ok\n${2 * MiB}\n`,
    });
  });
});

describe("maxWasmMemoryBytes", () => {
  it("a memory hog's malloc fails at the cap; the engine's memory stays bounded", async () => {
    const { call, bystander } = await setup({ resources: { maxWasmMemoryBytes: 32 * MiB } });
    bystander.start();
    let peak = process.memoryUsage().rss;
    const base = peak;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      const hog = await call<ExecResult>("exec", "limits hog");
      expect(hog.exitCode).toBe(3);
      expect(hog.stderr).toContain("hog: out of memory");
      const mib = Number(/allocated (\d+) MiB/.exec(hog.stdout)?.[1]);
      expect(mib).toBeGreaterThan(16);
      expect(mib).toBeLessThan(32);
      // toybox sort of more input than fits: sort fails, the pipeline and the engine go on.
      const sort = await call<ExecResult>("exec", "seq 3000000 | sort -n | wc -l");
      expect(sort.stderr).toMatch(/^sort: /m);
      expect(sort.stdout.trim()).not.toBe("3000000");
      // Output the engine itself holds is capped too: exec's result and a $( ) value.
      const flood = await call<ExecResult>("exec", "cat /dev/zero");
      expect(flood.exitCode).toBe(141);
      expect(flood.stdout.length).toBe(16 * MiB);
      expect(flood.stderr).toMatch(/stdout past \d+ bytes was dropped/);
      const captured = await call<ExecResult>("exec", 'x=$(cat /dev/zero); echo "${#x} $?"');
      expect(captured.stdout).toBe("0 1\n");
      expect(captured.stderr).toMatch(/command substitution: output over/);
    } finally {
      clearInterval(sampler);
    }
    // Without the cap the hog alone would touch the default 256 MiB.
    expect(peak - base).toBeLessThan(160 * MiB);
    const latency = await bystander.stop();
    expect(latency.max).toBeLessThan(1000);
    expect(await call<ExecResult>("exec", "seq 3 | sort -r | head -1")).toMatchObject({ stdout: "3\n" });
  });
});

describe("processCpuTimeMs", () => {
  it("an infinite loop is ended with SIGXCPU once over its CPU time", async () => {
    const { call, bystander } = await setup({ processCpuTimeMs: 500 });
    bystander.start();
    const t = performance.now();
    const r = await call<ExecResult>("exec", "limits forever");
    const took = performance.now() - t;
    // The shell reports its child's end as 128 + SIGXCPU.
    expect(r.exitCode).toBe(152);
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(3000);
    const { pid } = await call<{ pid: number }>("spawn", "limits", ["forever"]);
    expect(await call("waitProcess", pid)).toEqual({ pid, exitCode: 152, signal: "SIGXCPU" });
    const latency = await bystander.stop();
    expect(latency.count).toBeGreaterThan(5);
    expect(latency.max).toBeLessThan(1000);
    // Time blocked (sleeping, reading a pipe) is not CPU time.
    expect(await call<ExecResult>("exec", "sleep 0.7; echo done")).toMatchObject({ exitCode: 0 });
  });

  it("without a limit of its own, the loop runs until killed", async () => {
    const { call } = await setup({});
    const { pid } = await call<{ pid: number }>("spawn", "limits", ["forever"]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(running(await call("listProcesses")).map((p) => p.pid)).toContain(pid);
    await call("killProcess", pid, "SIGKILL");
    expect(await call("waitProcess", pid)).toEqual({ pid, exitCode: 137, signal: "SIGKILL" });
  });
});

describe("cpuCount", () => {
  /** The [start, end] (monotonic ms) of each `limits spin` run in an exec's output. */
  const runs = (r: ExecResult) =>
    [...r.stdout.matchAll(/^ran ([\d.]+) ([\d.]+) /gm)].map((m) => [Number(m[1]), Number(m[2])] as const);
  const overlap = (a: readonly [number, number], b: readonly [number, number]) => a[0] < b[1] && b[0] < a[1];

  it("one CPU: busy programs take turns, pipelines still flow, other workspaces are not held back", async () => {
    const { engine, call, otherId } = await setup({ resources: { cpuCount: 1 } });
    const spin = "limits spin 200";
    await call("exec", spin); // warm: the module is compiled once per engine
    // Time stamps from inside the programs, not durations: other load on the machine cannot fake them.
    const [here, elsewhere] = await Promise.all([
      call<ExecResult>("exec", `${spin} & ${spin} & wait`),
      engine.action(NS, otherId, "exec", [spin]) as Promise<ExecResult>,
    ]);
    const [a, b] = runs(here);
    const [c] = runs(elsewhere);
    expect(a && b && c).toBeTruthy();
    // With one CPU the second program starts only once the first is done...
    expect(overlap(a!, b!)).toBe(false);
    // ...while the other workspace (two CPUs) ran alongside them.
    expect(overlap(c!, a!) || overlap(c!, b!)).toBe(true);

    // A program that never blocks holds the only CPU: the next one waits for it...
    const { pid } = await call<{ pid: number }>("spawn", "limits", ["forever"]);
    const starved = await call<ExecResult>("exec", `${spin}`, { timeoutMs: 800 });
    expect(starved).toMatchObject({ exitCode: 137, signal: "SIGKILL", stdout: "" });
    // ...and no other workspace does.
    expect(await engine.action(NS, otherId, "exec", [spin])).toMatchObject({ exitCode: 0 });
    await call("killProcess", pid, "SIGKILL");

    // Stages blocked on their pipes give the CPU to each other.
    expect(await call<ExecResult>("exec", "seq 100000 | sort | wc -l")).toMatchObject({
      exitCode: 0,
      stdout: "100000\n",
    });
  });

  it("two CPUs: two busy programs run at once", async () => {
    const { call } = await setup({ resources: { cpuCount: 2 } });
    const [a, b] = runs(await call<ExecResult>("exec", "limits spin 200 & limits spin 200 & wait"));
    // The second one started without waiting for the first (a machine with one core still overlaps them).
    expect(overlap(a!, b!)).toBe(true);
  });
});

describe("shell memory", () => {
  it("a variable-doubling loop hits the shell's variable limit instead of the engine's heap", async () => {
    const { call, bystander } = await setup({});
    bystander.start();
    const before = process.memoryUsage().rss;
    const r = await call<ExecResult>(
      "exec",
      'x=a; i=0; while [ $i -lt 40 ]; do x="$x$x"; i=$((i+1)); done; echo "${#x}"',
      {
        timeoutMs: 20_000,
      },
    );
    const grew = process.memoryUsage().rss - before;
    expect(r.stderr).toMatch(/value too large|would exceed/);
    // 2^24 characters is the largest value allowed: every later doubling is refused.
    expect(Number(r.stdout.trim())).toBeLessThanOrEqual(16 * MiB);
    expect(grew).toBeLessThan(512 * MiB);
    const b = await bystander.stop();
    expect(b.max).toBeLessThan(1000);
  });
});
