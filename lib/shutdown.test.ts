/**
 * Graceful shutdown (what `enclave start` does on SIGTERM) with real actors: an action in flight
 * is drained and its write kept, every awake actor is put to sleep (onSleep runs), the store is
 * closed; an action that never ends runs into the deadline (exit code 1, at once); a second
 * signal ends the wait at once.
 */
import { EventEmitter } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { actor } from "./actor/index.js";
import { createEngine, type EnclaveEngine } from "./create-engine.js";
import { SignalWatch, shutdown, type SignalSource } from "./shutdown.js";

const ADMIN = "s".repeat(32);
const slept: string[] = [];
const forever = new Promise<never>(() => undefined);

const worker = actor({
  state: { done: 0 },
  actions: {
    slow: async (c, ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      c.state.done += 1;
      return c.state.done;
    },
    hang: async () => forever,
    get: (c) => c.state.done,
  },
  onSleep: (c) => {
    slept.push(c.key.join("/"));
  },
});

let dir: string;
const engines: EnclaveEngine[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "enclave-cli-shutdown-"));
  slept.length = 0;
});
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

async function start(timeoutMs: number): Promise<{ running: EnclaveEngine; url: string }> {
  const running = await createEngine({
    registry: { use: { worker } },
    storage: { driver: "fileSystem", fileSystem: { path: join(dir, "data") } },
    gateway: { host: "127.0.0.1", port: 0 },
    auth: { adminToken: ADMIN },
    log: { level: "silent" },
    shutdown: { timeoutMs },
    env: {},
    configPaths: [],
  });
  engines.push(running);
  const { url } = await running.listen();
  return { running, url };
}

const headers = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };

async function create(url: string, key: string): Promise<string> {
  const res = await fetch(`${url}/actors`, {
    method: "PUT",
    headers,
    body: JSON.stringify({ name: "worker", key: [key] }),
  });
  return ((await res.json()) as { actor: { actorId: string } }).actor.actorId;
}

function call(url: string, id: string, action: string, args: unknown[] = []): Promise<Response> {
  return fetch(`${url}/gateway/${id}/action/${action}`, {
    method: "POST",
    headers,
    body: JSON.stringify({ args }),
  });
}

function signals(): EventEmitter & SignalSource {
  return new EventEmitter() as EventEmitter & SignalSource;
}

describe("graceful shutdown", () => {
  it("drains an action in flight, puts awake actors to sleep, closes the store: exit code 0", async () => {
    const { running, url } = await start(10_000);
    const a = await create(url, "a");
    const b = await create(url, "b");
    expect((await call(url, b, "slow", [0])).status).toBe(200); // b is awake
    const inFlight = call(url, a, "slow", [300]);
    await new Promise((r) => setTimeout(r, 50));

    const source = signals();
    const watch = new SignalWatch(source);
    source.emit("SIGTERM", "SIGTERM");
    expect(await watch.first).toBe("SIGTERM");
    const result = await shutdown(() => running.close(), watch, 10_000);
    watch.dispose();
    expect(result).toEqual({ outcome: "closed", exitCode: 0 });
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ output: 1 });
    expect(slept.sort()).toEqual(["a", "b"]);
    expect(source.listenerCount("SIGTERM") + source.listenerCount("SIGINT")).toBe(0);

    // The store was closed (the directory opens again) and the drained write is there.
    const again = await start(10_000);
    expect(await (await call(again.url, a, "get")).json()).toEqual({ output: 1 });
  });

  it("an action that never ends: the deadline wins, exit code 1, without waiting any longer", async () => {
    const { running, url } = await start(400);
    const id = await create(url, "stuck");
    void call(url, id, "hang").catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    const watch = new SignalWatch(signals());
    const t0 = Date.now();
    const result = await shutdown(() => running.close(), watch, 400);
    const took = Date.now() - t0;
    watch.dispose();
    expect(result).toEqual({ outcome: "deadline", exitCode: 1 });
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(2_000);
  });

  it("a second signal ends the wait at once with exit code 1", async () => {
    // The engine's own deadline only bounds the clean-up after the test.
    const { running, url } = await start(1_500);
    const id = await create(url, "stuck");
    void call(url, id, "hang").catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    const source = signals();
    const watch = new SignalWatch(source);
    source.emit("SIGTERM", "SIGTERM");
    const pending = shutdown(() => running.close(), watch, 60_000);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    source.emit("SIGINT", "SIGINT");
    expect(await pending).toEqual({ outcome: "second-signal", exitCode: 1 });
    expect(Date.now() - t0).toBeLessThan(500);
    expect(watch.received).toBe(2);
    watch.dispose();
  });
});
