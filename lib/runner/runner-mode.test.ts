/**
 * Runner mode end to end, with real processes: a standalone engine (as `enclave start` runs
 * it: no actor code of its own, file-system store) and runner processes hosting the app in
 * testing/app.ts, joined through ENCLAVE_ENDPOINT. Everything goes through the engine: the
 * HTTP API, the client library's WebSockets, alarms. Then the failures: a runner killed with
 * -9 under load, a frozen runner, the engine killed with -9 and restarted, graceful runner
 * shutdown, no runner at all, and refused handshakes.
 *
 * The tests share the processes and run in order.
 */
import { WebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type ActorError } from "../client/index.js";
import { createLogger } from "../telemetry/index.js";
import { RUNNER_PROTOCOL_VERSION } from "../wire/protocol.js";
import { RunnerCloseCodes } from "./protocol.js";
import { startRunner } from "./runner.js";
import { registry } from "./testing/app.js";
import type { Proc } from "./testing/processes.js";
import {
  ADMIN_TOKEN,
  call,
  createToken,
  endpointFor,
  poll,
  removeDir,
  startEngineProcess,
  startRunnerProcess,
  tempDir,
  type Json,
} from "./testing/processes.js";

const HEARTBEAT_MS = 400;
const PLACEMENT_MS = 1500;
const ENGINE_ENV = { RUNNER_HEARTBEAT_MS: String(HEARTBEAT_MS), PLACEMENT_TIMEOUT_MS: String(PLACEMENT_MS) };

let dir: string;
let engine: Proc;
let url: string;
let port: number;
let secret: string;
let endpoint: string;
const runners = new Map<string, Proc>();

async function runner(name: string, env: Record<string, string> = {}): Promise<Proc> {
  const proc = startRunnerProcess(endpoint, name, env);
  runners.set(name, proc);
  await proc.line("ready ", 30_000);
  return proc;
}

/** Which runner runs the actor (the counter's `host` action answers RUNNER_NAME). */
async function hostOf(actorId: string): Promise<string> {
  const res = await call(url, "POST", `/gateway/${actorId}/action/host`, { args: [] });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.output as string;
}

async function counterId(key: string): Promise<string> {
  const res = await call(url, "PUT", "/actors", { name: "counter", key: [key] });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.actor.actorId as string;
}

const act = (actorId: string, name: string, args: unknown[] = []) =>
  call(url, "POST", `/gateway/${actorId}/action/${name}`, { args });

beforeAll(async () => {
  dir = await tempDir();
  ({ proc: engine, url, port } = await startEngineProcess(dir, { env: ENGINE_ENV }));
  secret = await createToken(url, "secret");
  endpoint = endpointFor(url, secret);
  await Promise.all([runner("A"), runner("B")]);
}, 60_000);

afterAll(async () => {
  await Promise.all([...runners.values()].map((r) => r.stop(5000)));
  await engine?.stop(5000);
  if (dir) await removeDir(dir);
}, 30_000);

describe("runner mode: a standalone engine, runners hosting the actor code", () => {
  it("serves actions over HTTP, events over the client's WebSocket, raw requests and errors as embedded mode does", async () => {
    const client = createClient<typeof registry>(endpoint);
    try {
      const counter = client.counter.getOrCreate(["basics"]);
      expect(await counter.increment(2)).toBe(2);
      expect(await counter.increment(3)).toBe(5);
      expect(await counter.get()).toBe(5);
      expect(await counter.bytes(new Uint8Array([1, 2, 3]))).toEqual(new Uint8Array([3, 2, 1]));
      expect(await counter.kvPut("k:1", "one")).toBe(true);
      expect(await counter.kvGet("k:1")).toBe("one");
      expect(await counter.kvKeys("k:")).toEqual(["k:1"]);
      expect(["A", "B"]).toContain(await counter.host());

      // A UserError arrives as is; any other error as an internal error whose details stay in
      // the runner's log, under the correlation id the client got.
      const user = (await counter.fail().catch((e: unknown) => e)) as ActorError;
      expect(user).toMatchObject({ group: "user", code: "bad_day", status: 400, metadata: { retry: false } });
      const internal = (await counter.crash().catch((e: unknown) => e)) as ActorError;
      expect(internal).toMatchObject({ group: "actor", code: "internal_error", status: 500 });
      expect(internal.message).not.toContain("a detail only the log may see");
      const correlationId = (internal.metadata as { correlationId: string }).correlationId;
      const host = runners.get(await counter.host()) as Proc;
      const logged = await host.log(
        (l) => l.correlationId === correlationId,
        "the crash in the runner's log",
      );
      expect(JSON.stringify(logged)).toContain("a detail only the log may see");

      const res = await counter.fetch("/echo?x=1", { method: "POST", body: "hello" });
      expect(res.status).toBe(201);
      expect(res.headers.get("x-actor")).toBe("counter");
      expect(await res.json()).toEqual({
        method: "POST",
        path: "/echo?namespace=default&x=1",
        body: "hello",
        count: 5,
      });

      // Events: a chat room, two connections, messages sent over HTTP and over a connection.
      const room = client.chat.getOrCreate(["lobby"]);
      const ann = room.connect({ user: "ann" });
      const bob = room.connect({ user: "bob" });
      const annHeard: string[] = [];
      const bobHeard: string[] = [];
      ann.on("message", (line: string) => annHeard.push(line));
      bob.on("message", (line: string) => bobHeard.push(line));
      bob.on("whisper", (text: string) => bobHeard.push(`(whisper) ${text}`));
      await poll("both connected", () => ann.status === "connected" && bob.status === "connected");
      expect(await ann.send("hi")).toBe(1);
      expect(await room.send("from http")).toBe(2);
      expect(await bob.whisper("psst")).toBe(true);
      await poll("the events", () => annHeard.length === 2 && bobHeard.length === 3);
      expect(annHeard).toEqual(["ann: hi", "http: from http"]);
      expect(bobHeard).toEqual(["ann: hi", "http: from http", "(whisper) psst"]);
      expect(await room.history()).toEqual(["ann: hi", "http: from http"]);

      // onBeforeConnect refuses: the client gets the actor's error and stops for good.
      const banned = room.connect({ user: "banned" });
      const refused = await new Promise<ActorError>((resolve) => banned.onError(resolve));
      expect(refused).toMatchObject({ group: "user", code: "banned" });
    } finally {
      await client.dispose();
    }
  });

  it("sleeps and wakes: forced sleep, c.sleep(), idle sleep decided on the runner", async () => {
    const id = await counterId("sleepy");
    await act(id, "increment", [7]);
    expect((await call(url, "GET", `/actors/${id}`)).body.actor.status).toBe("running");
    expect((await call(url, "POST", `/actors/${id}/sleep`)).status).toBe(200);
    expect((await call(url, "GET", `/actors/${id}`)).body.actor.status).toBe("sleeping");
    expect((await act(id, "stats")).body.output).toMatchObject({ count: 7, wakes: 2, slept: 1 });

    expect((await act(id, "nap")).body.output).toBe("bye");
    await poll(
      "c.sleep()",
      async () => (await call(url, "GET", `/actors/${id}`)).body.actor.status === "sleeping",
    );
    expect((await act(id, "stats")).body.output).toMatchObject({ count: 7, wakes: 3, slept: 2 });

    const napper = (await call(url, "PUT", "/actors", { name: "napper", key: ["n"] })).body.actor
      .actorId as string;
    expect((await call(url, "POST", `/gateway/${napper}/action/wakes`, {})).body.output).toBe(1);
    await poll(
      "the napper to fall asleep after 300 ms idle",
      async () => (await call(url, "GET", `/actors/${napper}`)).body.actor.status === "sleeping",
      10_000,
    );
    expect((await call(url, "POST", `/gateway/${napper}/action/wakes`, {})).body.output).toBe(2);
  });

  it("fires alarms through the engine onto a runner, waking the actor", async () => {
    const id = await counterId("alarm");
    await act(id, "later", [300, 5]);
    expect((await act(id, "pending")).body.output).toEqual([{ action: "increment", args: [5] }]);
    await call(url, "POST", `/actors/${id}/sleep`);
    await poll("the alarm to run", async () => (await act(id, "get")).body.output === 5, 10_000);
    expect((await act(id, "pending")).body.output).toEqual([]);
  });

  it("destroys through the engine: DELETE /actors/{id} and c.destroy()", async () => {
    const id = await counterId("doomed");
    await act(id, "increment", [1]);
    expect((await call(url, "DELETE", `/actors/${id}`)).status).toBe(200);
    expect((await call(url, "GET", `/actors/${id}`)).status).toBe(404);
    expect((await act(id, "get")).status).toBe(404);
    const again = await counterId("doomed");
    expect(again).not.toBe(id);
    expect((await act(again, "get")).body.output).toBe(0);

    expect((await act(again, "selfDestruct")).body.output).toBe("boom");
    await poll("c.destroy()", async () => (await call(url, "GET", `/actors/${again}`)).status === 404);
  });

  it("kill -9 of a runner under load: in-flight calls fail retryably, then the actors answer from the other runner with every acknowledged increment", async () => {
    // Placement is least-loaded, and earlier tests left some actors awake: create counters until
    // both runners host a few of them.
    const ids: string[] = [];
    const hosts: string[] = [];
    for (let i = 0; i < 40; i++) {
      if (hosts.filter((h) => h === "A").length >= 3 && hosts.filter((h) => h === "B").length >= 3) break;
      ids.push(await counterId(`load-${i}`));
      hosts.push(await hostOf(ids[i] as string));
    }
    expect(new Set(hosts)).toEqual(new Set(["A", "B"]));
    const onA = ids.filter((_, i) => hosts[i] === "A");
    const before = await Promise.all(ids.map(async (id) => (await act(id, "get")).body.output as number));

    // A client connection to an actor on A: it must come back by itself.
    const client = createClient<typeof registry>(endpoint);
    const watched = client.counter.getForId(onA[0] as string);
    const conn = watched.connect();
    const statuses: string[] = [];
    const seen: number[] = [];
    conn.onStatusChange((s) => statuses.push(s));
    conn.on("changed", (n: number) => seen.push(n));
    await poll("the watcher to connect", () => conn.status === "connected");

    const acked = ids.map(() => 0);
    const failed = ids.map(() => 0);
    const afterKill = ids.map(() => 0);
    const failures: string[] = [];
    let killed = false;
    let stop = false;
    const worker = async (i: number) => {
      while (!stop) {
        let res: Response;
        try {
          res = await fetch(`${url}/gateway/${ids[i]}/action/increment`, {
            method: "POST",
            headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
            body: JSON.stringify({ args: [1] }),
            // Never a hang: a call that does not answer fails the test.
            signal: AbortSignal.timeout(15_000),
          });
        } catch (e) {
          throw new Error(`increment ${i} did not answer: ${String(e)}`);
        }
        const body = (await res.json()) as Json;
        if (res.status === 200) {
          acked[i]!++;
          if (killed) afterKill[i]!++;
        } else {
          failed[i]!++;
          failures.push(`${res.status} ${body.group}/${body.code}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const workers = ids.map((_, i) => worker(i));
    await poll("load on every actor", () => acked.every((n) => n >= 5));
    await runners.get("A")!.kill9();
    killed = true;
    await poll("every actor answering again after the kill", () => afterKill.every((n) => n >= 5), 30_000);
    stop = true;
    await Promise.all(workers);

    // In-flight calls on A failed with a retryable 503, nothing else.
    for (const f of failures)
      expect(f).toMatch(/^503 (runner\/runner_lost|runner\/no_runner|actor\/stopping)$/);
    expect(failures.length).toBeGreaterThan(0);
    // Every acknowledged increment is there (an unacknowledged one may have landed too).
    const after = await Promise.all(ids.map(async (id) => (await act(id, "get")).body.output as number));
    for (const [i, value] of after.entries()) {
      expect(value - before[i]!).toBeGreaterThanOrEqual(acked[i]!);
      expect(value - before[i]!).toBeLessThanOrEqual(acked[i]! + failed[i]!);
    }
    expect(new Set(await Promise.all(ids.map(hostOf)))).toEqual(new Set(["B"]));

    // The connection was closed with 1001, reconnected by itself, and hears events again.
    await poll(
      "the watcher to reconnect",
      () => statuses.includes("connecting") && conn.status === "connected",
    );
    const value = (await act(onA[0] as string, "increment", [1])).body.output as number;
    await poll("an event after the reconnection", () => seen.includes(value));
    await client.dispose();

    await runner("C");
  }, 90_000);

  it("a frozen runner is dropped after missed heartbeats; its actors move; it reconnects when it thaws", async () => {
    const id = await counterId("frozen");
    const host = await hostOf(id);
    const frozen = runners.get(host)!;
    const other = host === "B" ? "C" : "B";
    const connectedBefore = frozen.lines.filter((l) => l === "status connected").length;
    frozen.signal("SIGSTOP");
    const t0 = Date.now();
    const stuck = await act(id, "increment", [1]);
    const waited = Date.now() - t0;
    expect(stuck.status).toBe(503);
    expect(stuck.body).toMatchObject({ group: "runner", code: "runner_lost" });
    expect(waited).toBeLessThan(10_000);
    await engine.log((l) => l.msg === "runner missed its heartbeats; dropping it", "the heartbeat log line");
    expect(await hostOf(id)).toBe(other);
    expect((await act(id, "get")).status).toBe(200);

    frozen.signal("SIGCONT");
    await frozen.waitFor(
      "the thawed runner to reconnect",
      () => frozen.lines.filter((l) => l === "status connected").length > connectedBefore,
    );
  }, 60_000);

  it("kill -9 of the engine: restarted on the same data and port, the runners reconnect by themselves", async () => {
    const id = await counterId("survivor");
    await act(id, "increment", [41]);
    const connected = (p: Proc) => p.lines.filter((l) => l === "status connected").length;
    const b = runners.get("B")!;
    const c = runners.get("C")!;
    const [bBefore, cBefore] = [connected(b), connected(c)];
    await engine.kill9();
    ({ proc: engine } = await startEngineProcess(dir, { port, env: ENGINE_ENV }));
    await b.waitFor("B to reconnect", () => connected(b) > bBefore, 30_000);
    await c.waitFor("C to reconnect", () => connected(c) > cBefore, 30_000);
    expect((await act(id, "get")).body.output).toBe(41);
    expect((await act(id, "increment", [1])).body.output).toBe(42);
  }, 60_000);

  it("a runner stopping gracefully has its actors put to sleep first; with no runner left, requests get 503 runner/no_runner", async () => {
    const id = await counterId("graceful");
    await act(id, "increment", [1]);
    const stats = (await act(id, "stats")).body.output as { slept: number };
    await Promise.all(["B", "C"].map((n) => runners.get(n)!.stop()));
    expect(runners.get("B")!.child.exitCode).toBe(0);
    expect(runners.get("C")!.child.exitCode).toBe(0);

    // onSleep ran on the way out (its state change was committed): seen after the next wake.
    const t0 = Date.now();
    const none = await act(id, "get");
    expect(none.status).toBe(503);
    expect(none.body).toMatchObject({ group: "runner", code: "no_runner" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(PLACEMENT_MS - 100);

    // A type no runner hosts: nothing is created.
    const ghost = await call(url, "PUT", "/actors", { name: "ghost", key: ["g"] });
    expect(ghost.status).toBe(503);
    expect(ghost.body).toMatchObject({ group: "runner", code: "no_runner" });
    expect((await call(url, "GET", "/actors?name=ghost")).body.actors).toEqual([]);

    await runner("D");
    expect((await act(id, "stats")).body.output).toMatchObject({ count: 1, slept: stats.slept + 1 });
    expect(await hostOf(id)).toBe("D");
  }, 60_000);

  it("refuses bad handshakes clearly, once, with no retry loop", async () => {
    const log = createLogger({ level: "silent" });
    const start = (ep: string, protocolVersion?: number) =>
      startRunner({
        use: registry.use,
        endpoint: ep,
        log,
        ...(protocolVersion ? { protocolVersion } : {}),
      }).then(
        async (r) => {
          await r.close();
          throw new Error("expected a refusal");
        },
        (e: unknown) => e as Error & { group?: string; code?: string; status?: number },
      );

    const wrong = await start(endpointFor(url, "w".repeat(32)));
    expect(wrong).toMatchObject({ group: "auth", code: "unauthenticated", status: 401 });
    expect(wrong.message).toMatch(
      /refused the runner connection \(401 auth\/unauthenticated.*check the token/,
    );
    expect(wrong.message).not.toContain("w".repeat(32));

    const publicToken = await createToken(url, "public");
    const pub = await start(endpointFor(url, publicToken));
    expect(pub).toMatchObject({ group: "auth", code: "forbidden", status: 403 });
    expect(pub.message).toMatch(/public tokens/);

    // A secret token of "default" naming another namespace; the admin token naming a missing one.
    const other = await start(endpointFor(url, secret, "elsewhere"));
    expect(other).toMatchObject({ status: 403 });
    const missing = await start(endpointFor(url, ADMIN_TOKEN, "elsewhere"));
    expect(missing).toMatchObject({ group: "namespace", code: "not_found", status: 404 });
    expect(missing.message).toMatch(/namespace "elsewhere" does not exist/);

    // Another protocol version: both versions named, on the runner and in the engine's log.
    const v = RUNNER_PROTOCOL_VERSION + 1;
    const mismatch = await start(endpoint, v);
    expect(mismatch).toMatchObject({ group: "runner", code: "protocol_mismatch" });
    expect(mismatch.message).toContain(
      `runner speaks protocol ${v}, this engine speaks ${RUNNER_PROTOCOL_VERSION}`,
    );
    const logged = await engine.log(
      (l) => l.level === 50 && typeof l.msg === "string" && l.msg.includes(`runner speaks protocol ${v}`),
      "the mismatch in the engine's log",
    );
    expect(logged).toMatchObject({
      runnerProtocolVersion: v,
      engineProtocolVersion: RUNNER_PROTOCOL_VERSION,
    });

    // On the wire: a refused message, then the dedicated close code.
    const ws = new WebSocket(`${url.replace("http", "ws")}/runners/connect`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    const got: Json[] = [];
    ws.on("message", (d) => got.push(JSON.parse(String(d))));
    ws.on("open", () =>
      ws.send(JSON.stringify({ t: "hello", protocolVersion: v, types: ["x"], future: true })),
    );
    const code = await new Promise<number>((resolve) => ws.on("close", (c) => resolve(c)));
    expect(code).toBe(RunnerCloseCodes.protocolMismatch);
    expect(got).toEqual([
      {
        t: "refused",
        error: {
          group: "runner",
          code: "protocol_mismatch",
          message: `runner speaks protocol ${v}, this engine speaks ${RUNNER_PROTOCOL_VERSION}`,
          metadata: { runnerProtocolVersion: v, engineProtocolVersion: RUNNER_PROTOCOL_VERSION },
        },
      },
    ]);

    // registry.start() in a process: it prints the refusal and exits, it does not loop.
    const bad = startRunnerProcess(endpointFor(url, "w".repeat(32)), "bad");
    runners.set("bad", bad);
    const failure = await bad.line("failed ", 30_000);
    expect(failure).toMatch(/401 auth\/unauthenticated/);
    expect((await bad.exited).code).toBe(3);
  }, 60_000);
});
