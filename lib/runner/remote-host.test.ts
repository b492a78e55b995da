/**
 * The engine's runner host and the runner, in one process (fast and deterministic): placement
 * and waiting for a runner, engines with local types and runners together, large messages,
 * refused service calls, reconnection with the same id, draining, and shutdown. The same
 * behaviours across real processes are in runner-mode.test.ts.
 */
import { WebSocket } from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import { createClient } from "../client/index.js";
import { createEngine, type CreateEngineOptions, type EnclaveEngine } from "../create-engine.js";
import { createLogger } from "../telemetry/index.js";
import { RUNNER_PROTOCOL_VERSION } from "../wire/protocol.js";
import { RunnerCloseCodes } from "./protocol.js";
import { startRunner, type EnclaveRunner } from "./runner.js";
import type { AnyActorDefinition } from "../actor/definition.js";

const ADMIN = "a".repeat(32);
const silent = createLogger({ level: "silent" });
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function engine(
  options: Partial<CreateEngineOptions> = {},
): Promise<{ running: EnclaveEngine; url: string; endpoint: string }> {
  const running = await createEngine({
    storage: { driver: "memory" },
    gateway: { host: "127.0.0.1", port: 0 },
    auth: { adminToken: ADMIN },
    runners: { placementTimeoutMs: 2000 },
    logger: silent,
    env: {},
    configPaths: [],
    ...options,
  });
  cleanups.push(() => running.close());
  const { url } = await running.listen();
  return { running, url, endpoint: url.replace("http://", `http://default:${ADMIN}@`) };
}

async function runner(
  endpoint: string,
  use: Record<string, AnyActorDefinition>,
  name = "r",
): Promise<EnclaveRunner> {
  const r = await startRunner({
    use,
    endpoint,
    log: silent,
    runnerName: name,
    minReconnectDelayMs: 20,
    maxReconnectDelayMs: 200,
  });
  cleanups.push(() => r.close());
  return r;
}

/** A counter that says which runner runs it. */
function named(name: string) {
  return actor({
    state: { count: 0 },
    actions: {
      where: () => name,
      increment: (c, n: number) => (c.state.count += n),
    },
  });
}

async function json(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
}

describe("placement", () => {
  it("a request waits for a runner hosting its type, and is served once one connects", async () => {
    const { url, endpoint } = await engine({ runners: { placementTimeoutMs: 10_000 } });
    const pending = json(url, "PUT", "/actors", { name: "counter", key: ["early"] });
    await new Promise((r) => setTimeout(r, 300));
    await runner(endpoint, { counter: named("late") });
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.created).toBe(true);
    const out = await json(url, "POST", `/gateway/${res.body.actor.actorId}/action/where`, {});
    expect(out.body).toEqual({ output: "late" });
  });

  it("places on the least loaded runner of the namespace hosting the type; never on another namespace's", async () => {
    const { url, endpoint, running } = await engine();
    await json(url, "POST", "/namespaces", { name: "other" });
    await runner(endpoint.replace("default:", "other:"), { counter: named("other-ns") }, "other-ns");
    await runner(endpoint, { counter: named("one") }, "one");
    await runner(endpoint, { counter: named("two") }, "two");
    const where: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = (await json(url, "PUT", "/actors", { name: "counter", key: [`k${i}`] })).body.actor.actorId;
      where.push((await json(url, "POST", `/gateway/${id}/action/where`, {})).body.output);
    }
    expect(where.filter((w) => w === "one")).toHaveLength(3);
    expect(where.filter((w) => w === "two")).toHaveLength(3);
    const info = running.runners.list();
    expect(info.map((r) => [r.namespace, r.runnerName, r.actors]).sort()).toEqual([
      ["default", "one", 3],
      ["default", "two", 3],
      ["other", "other-ns", 0],
    ]);
  });

  it("an engine with local types and runners: local types run here, announced types on runners, others are 404 at once", async () => {
    const local = named("local");
    const { url, endpoint } = await engine({ registry: { use: { counter: local } } });
    // Unknown before any runner announced it: 404, as in embedded mode.
    expect((await json(url, "PUT", "/actors", { name: "chat", key: ["x"] })).body).toMatchObject({
      group: "actor",
      code: "type_not_found",
    });
    await runner(endpoint, { chat: named("remote"), counter: named("shadowed") });
    const chat = (await json(url, "PUT", "/actors", { name: "chat", key: ["x"] })).body.actor.actorId;
    expect((await json(url, "POST", `/gateway/${chat}/action/where`, {})).body.output).toBe("remote");
    const counter = (await json(url, "PUT", "/actors", { name: "counter", key: ["x"] })).body.actor.actorId;
    expect((await json(url, "POST", `/gateway/${counter}/action/where`, {})).body.output).toBe("local");
    expect((await json(url, "PUT", "/actors", { name: "ghost", key: ["x"] })).status).toBe(404);
  });
});

describe("messages", () => {
  it("carries states, arguments and outputs larger than one WebSocket message (chunked)", async () => {
    const big = actor({
      state: { blob: "" },
      actions: {
        fill: (c, n: number) => {
          c.state.blob = "é".repeat(n);
          return c.state.blob.length;
        },
        read: (c) => c.state.blob,
        echo: (_c, b: Uint8Array) => b,
      },
    });
    const limits = { messageBytes: 256 * 1024, stateBytes: 1024 * 1024 };
    const { endpoint } = await engine({ limits });
    await runner(endpoint, { big });
    const client = createClient<{ use: { big: typeof big } }>(endpoint);
    const h = client.big.getOrCreate(["b"]);
    // ~400 KB of state (two bytes a character), well over messageBytes once encoded.
    expect(await h.action("fill", 200_000)).toBe(200_000);
    expect(((await h.action("read")) as string).length).toBe(200_000);
    const bytes = new Uint8Array(150_000).map((_, i) => i % 251);
    expect(await h.action("echo", bytes)).toEqual(bytes);
    await client.dispose();
  });

  it("refuses service calls for an actor that is not placed on the calling runner", async () => {
    const { url, running } = await engine();
    const ws = new WebSocket(`${url.replace("http", "ws")}/runners/connect`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const got: any[] = [];
    ws.on("message", (d) => got.push(JSON.parse(String(d))));
    await new Promise((r) => ws.on("open", r));
    ws.send(JSON.stringify({ t: "hello", protocolVersion: RUNNER_PROTOCOL_VERSION, types: ["counter"] }));
    await expect.poll(() => got.length).toBeGreaterThan(0);
    expect(got[0]).toMatchObject({ t: "welcome", protocolVersion: RUNNER_PROTOCOL_VERSION });
    ws.send(
      JSON.stringify({ t: "write", id: 1, actorId: "someone-else", state: { $bytes: "e30=" }, kv: [] }),
    );
    await expect.poll(() => got.find((m) => m.t === "replyError")).toBeTruthy();
    expect(got.find((m) => m.t === "replyError")).toMatchObject({
      id: 1,
      error: { group: "runner", code: "runner_lost" },
      status: 503,
    });
    // A malformed message ends the connection with the protocol-error close code.
    const closed = new Promise<number>((r) => ws.on("close", (c) => r(c)));
    ws.send(JSON.stringify({ t: "write", id: 2 }));
    expect(await closed).toBe(RunnerCloseCodes.protocolError);
    expect(got.at(-1)).toMatchObject({ t: "refused", error: { group: "runner", code: "protocol_error" } });
    expect(running.runners.list()).toEqual([]);
  });

  it("a socket that never says hello is refused after the handshake timeout", async () => {
    const { url } = await engine();
    const ws = new WebSocket(`${url.replace("http", "ws")}/runners/connect`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const closed = new Promise<number>((r) => ws.on("close", (c) => r(c)));
    await new Promise((r) => ws.on("open", r));
    ws.send(JSON.stringify({ t: "pong", at: 1 }));
    expect(await closed).toBe(RunnerCloseCodes.protocolError);
  });
});

describe("runner lifecycle", () => {
  it("a runner reconnecting with its id replaces its previous connection (4409), whose actors are lost", async () => {
    const { url, endpoint, running } = await engine();
    const first = await runner(endpoint, { counter: named("first") });
    const id = (await json(url, "PUT", "/actors", { name: "counter", key: ["x"] })).body.actor.actorId;
    await json(url, "POST", `/gateway/${id}/action/increment`, { args: [3] });
    const ws = new WebSocket(`${url.replace("http", "ws")}/runners/connect`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    await new Promise((r) => ws.on("open", r));
    ws.send(
      JSON.stringify({
        t: "hello",
        protocolVersion: RUNNER_PROTOCOL_VERSION,
        types: [],
        runnerId: first.runnerId,
      }),
    );
    // The first runner's connection is cut with 4409: it gives up (another process took its id).
    await expect.poll(() => first.status, { timeout: 5000 }).toBe("failed");
    expect(first.error?.message).toMatch(/4409/);
    expect((await json(url, "GET", `/actors/${id}`)).body.actor.status).toBe("sleeping");
    expect(running.runners.list().map((r) => r.runnerId)).toEqual([first.runnerId]);
    ws.close();
  });

  it("close() drains: the engine puts the runner's actors to sleep (onSleep committed), connections close with 1001", async () => {
    const slept: string[] = [];
    const napper = actor({
      state: { sleeps: 0 },
      onSleep: (c) => {
        c.state.sleeps++;
        slept.push(c.actorId);
      },
      actions: { sleeps: (c) => c.state.sleeps },
    });
    const { url, endpoint } = await engine();
    const r = await runner(endpoint, { napper });
    const id = (await json(url, "PUT", "/actors", { name: "napper", key: ["x"] })).body.actor.actorId;
    const ws = new WebSocket(`${url.replace("http", "ws")}/gateway/${id}/connect`, ["enclave.v1"], {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const closed = new Promise<number>((res) => ws.on("close", (c) => res(c)));
    await new Promise((res) => ws.on("open", res));
    await r.close();
    expect(r.status).toBe("stopped");
    expect(slept).toEqual([id]);
    expect(await closed).toBe(1001);
    expect((await json(url, "GET", `/actors/${id}`)).body.actor.status).toBe("sleeping");
    // Its state change was committed by the engine: the next runner sees it.
    await runner(endpoint, { napper });
    expect((await json(url, "POST", `/gateway/${id}/action/sleeps`, {})).body.output).toBe(1);
  });

  it("the engine stopping puts the runners' actors to sleep first; the runners then retry until closed", async () => {
    const slept: string[] = [];
    const napper = actor({
      state: {},
      onSleep: (c) => void slept.push(c.actorId),
      actions: { ping: () => "pong" },
    });
    const { url, endpoint, running } = await engine();
    const r = await runner(endpoint, { napper });
    const id = (await json(url, "PUT", "/actors", { name: "napper", key: ["x"] })).body.actor.actorId;
    const statuses: string[] = [];
    r.onStatusChange((s) => statuses.push(s));
    await running.close();
    expect(slept).toEqual([id]);
    await expect.poll(() => statuses.includes("reconnecting")).toBe(true);
    await r.close();
    expect(r.status).toBe("stopped");
  });

  it("start() keeps trying while the engine is unreachable; aborting its signal ends that", async () => {
    const abort = new AbortController();
    const pending = startRunner({
      use: { counter: named("x") },
      endpoint: `http://default:${ADMIN}@127.0.0.1:9`,
      log: silent,
      minReconnectDelayMs: 20,
      maxReconnectDelayMs: 50,
      signal: abort.signal,
    });
    const outcome = await Promise.race([
      pending.then(
        () => "resolved",
        () => "rejected",
      ),
      new Promise((r) => setTimeout(() => r("waiting"), 300)),
    ]);
    expect(outcome).toBe("waiting");
    abort.abort();
    await expect(pending).rejects.toMatchObject({ group: "actor", code: "stopping" });
  });

  it("refuses an endpoint with the namespace or token given twice, or without a token", async () => {
    const use = { counter: named("x") };
    await expect(
      startRunner({ use, endpoint: "http://ns:tok@127.0.0.1:1", namespace: "ns", log: silent }),
    ).rejects.toThrow(/namespace is given twice/);
    await expect(
      startRunner({ use, endpoint: "http://ns:tok@127.0.0.1:1", token: "tok", log: silent }),
    ).rejects.toThrow(/token is given twice/);
    await expect(startRunner({ use, endpoint: "http://127.0.0.1:1", log: silent })).rejects.toThrow(
      /has no token/,
    );
  });
});
