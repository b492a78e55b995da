/**
 * End to end: the client against the real engine and gateway over real sockets (no mocks).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket as WsWebSocket } from "ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { actor, createEngine, setup, UserError, type ActionContext, type ActorContext } from "../index.js";
import { ActorError, createClient, type ActorConnectionBase, type ConnectionStatus } from "./index.js";

const TOKEN = "t".repeat(32);

interface Count {
  count: number;
}
type Ctx = ActionContext<Count>;

const counter = actor({
  state: { count: 0 },
  actions: {
    increment: (c: Ctx, n: number): number => {
      c.state.count += n;
      c.broadcast("changed", c.state.count, "by-increment");
      return c.state.count;
    },
    value: (c: Ctx): number => c.state.count,
    fail: (_c: Ctx, code: string): number => {
      throw new UserError("refused on purpose", { code, metadata: { reason: "test", n: 7 } });
    },
    reverse: (_c: Ctx, bytes: Uint8Array) => ({
      bytes: Uint8Array.from(bytes).reverse(),
      length: bytes.length,
    }),
  },
  onRequest: async (c: ActorContext<Count>, request: Request) => {
    const url = new URL(request.url);
    return Response.json(
      {
        method: request.method,
        path: url.pathname,
        x: url.searchParams.get("x"),
        body: request.method === "POST" ? await request.text() : null,
        sawAuthorization: request.headers.has("authorization"),
        count: c.state.count,
      },
      { status: 201, headers: { "x-actor": "counter" } },
    );
  },
});

const seeded = actor({
  state: { count: 0 },
  onCreate: (c, input: { start: number }) => {
    c.state.count = input.start;
  },
  actions: { value: (c: ActionContext<Count>): number => c.state.count },
});

const guarded = actor({
  onBeforeConnect: (_c, params) => {
    if ((params as { pass?: string } | undefined)?.pass !== "open sesame") {
      throw new UserError("wrong password", { code: "bad_password", metadata: { hint: "sesame" } });
    }
  },
  actions: { hello: (_c: ActionContext, name: string): string => `hello ${name}` },
});

const registry = setup({ use: { counter, seeded, guarded } });
type Registry = typeof registry;

function waitForStatus(
  conn: Pick<ActorConnectionBase, "status" | "onStatusChange">,
  status: ConnectionStatus,
  timeoutMs = 10_000,
): Promise<void> {
  if (conn.status === status) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`connection stayed ${conn.status}, expected ${status}`));
    }, timeoutMs);
    const off = conn.onStatusChange((s) => {
      if (s !== status) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rejection(promise: Promise<unknown>): Promise<ActorError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ActorError);
    return error as ActorError;
  }
  throw new Error("expected a rejection");
}

describe("client against the engine", () => {
  let engine: Awaited<ReturnType<typeof createEngine>>;
  let url: string;
  let endpoint: string;
  let client: ReturnType<typeof createClient<Registry>>;

  beforeAll(async () => {
    engine = await createEngine({
      registry,
      storage: { driver: "memory" },
      gateway: { host: "127.0.0.1", port: 0 },
      auth: { adminToken: TOKEN },
      log: { level: "silent" },
    });
    ({ url } = await engine.listen());
    endpoint = `${url.replace("://", `://default:${TOKEN}@`)}`;
    client = createClient<Registry>({
      endpoint,
      connection: { minReconnectDelayMs: 50, maxReconnectDelayMs: 500 },
    });
  });

  afterAll(async () => {
    await client?.dispose();
    await engine?.close();
  }, 60_000);

  it("getOrCreate, then typed actions", async () => {
    const h = client.counter.getOrCreate(["e2e", "getOrCreate"]);
    expect(await h.increment(2)).toBe(2);
    expect(await h.increment(3)).toBe(5);
    expect(await h.action("value")).toBe(5);
    const id = await h.resolve();
    expect(typeof id).toBe("string");
    // Another handle for the same key is the same actor.
    expect(await client.counter.getOrCreate(["e2e", "getOrCreate"]).resolve()).toBe(id);
    expect(await client.counter.get(["e2e", "getOrCreate"]).resolve()).toBe(id);
    // A string key is a one-element key.
    expect(await client.counter.getOrCreate("solo").resolve()).toBe(
      await client.counter.get(["solo"]).resolve(),
    );
  });

  it("concurrent getOrCreate from many handles finds one actor", async () => {
    const ids = await Promise.all(
      Array.from({ length: 10 }, () => client.counter.getOrCreate(["e2e", "concurrent"]).resolve()),
    );
    expect(new Set(ids).size).toBe(1);
  });

  it("a getOrCreate handle whose actor was destroyed gets a new one; a getForId handle does not", async () => {
    const h = client.counter.getOrCreate(["e2e", "destroyed"]);
    expect(await h.increment(5)).toBe(5);
    const oldId = await h.resolve();
    const res = await fetch(`${url}/actors/${oldId}?namespace=default`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.ok).toBe(true);
    expect(await h.increment(1)).toBe(1);
    expect(await h.resolve()).not.toBe(oldId);
    const e = await rejection(client.counter.getForId(oldId).value());
    expect(e.group).toBe("actor");
    expect(["not_found", "destroyed"]).toContain(e.code);
  });

  it("getOrCreate and create pass input to the actor", async () => {
    expect(await client.seeded.getOrCreate("s1", { input: { start: 41 } }).value()).toBe(41);
    expect(await client.seeded.create("s2", { input: { start: 7 } }).value()).toBe(7);
  });

  it("get of a missing actor fails with actor.not_found (404)", async () => {
    const e = await rejection(client.counter.get(["e2e", "no such key"]).value());
    expect(e).toMatchObject({ group: "actor", code: "not_found", status: 404 });
  });

  it("connecting to a missing actor fails its actions with actor.not_found and stops", async () => {
    const conn = client.counter.get(["e2e", "missing for connect"]).connect();
    const e = await rejection(conn.value());
    expect(e).toMatchObject({ group: "actor", code: "not_found", status: 404 });
    expect(conn.status).toBe("disconnected");
    await conn.dispose();
  });

  it("create twice: the second fails with 409 actor.already_exists; one handle creates once", async () => {
    const first = client.counter.create(["e2e", "create"]);
    const [a, b] = await Promise.all([first.resolve(), first.resolve()]);
    expect(a).toBe(b);
    expect(await first.increment(1)).toBe(1);
    expect(await first.resolve()).toBe(a);
    const e = await rejection(client.counter.create(["e2e", "create"]).resolve());
    expect(e).toMatchObject({ group: "actor", code: "already_exists", status: 409, retryable: false });
  });

  it("getForId reaches the same actor, and a bad id is actor.not_found", async () => {
    const h = client.counter.getOrCreate(["e2e", "byId"]);
    await h.increment(4);
    const byId = client.counter.getForId(await h.resolve());
    expect(await byId.value()).toBe(4);
    expect(await byId.resolve()).toBe(await h.resolve());
    const e = await rejection(client.counter.getForId("doesnotexist0000").value());
    expect(e).toMatchObject({ group: "actor", code: "not_found", status: 404 });
  });

  it("a UserError arrives with its code and metadata, over HTTP and over a connection", async () => {
    const h = client.counter.getOrCreate(["e2e", "userError"]);
    const e = await rejection(h.fail("out_of_stock"));
    expect(e).toMatchObject({
      group: "user",
      code: "out_of_stock",
      message: "refused on purpose",
      metadata: { reason: "test", n: 7 },
      status: 400,
    });
    const conn = h.connect();
    try {
      const e2 = await rejection(conn.fail("over_socket"));
      expect(e2).toMatchObject({ group: "user", code: "over_socket", metadata: { reason: "test", n: 7 } });
    } finally {
      await conn.dispose();
    }
  });

  it("an unknown action is actor.action_not_found", async () => {
    const h = client.counter.getOrCreate(["e2e", "noAction"]);
    const e = await rejection(h.action("nope" as "value"));
    expect(e).toMatchObject({ group: "actor", code: "action_not_found", status: 404 });
  });

  it("Uint8Array arguments and outputs travel as bytes", async () => {
    const h = client.counter.getOrCreate(["e2e", "bytes"]);
    const out = await h.reverse(new Uint8Array([1, 2, 3, 255]));
    expect(out.length).toBe(4);
    expect(out.bytes).toBeInstanceOf(Uint8Array);
    expect([...out.bytes]).toEqual([255, 3, 2, 1]);
    const conn = h.connect();
    try {
      const viaSocket = await conn.reverse(new Uint8Array([9, 8]));
      expect(viaSocket.bytes).toBeInstanceOf(Uint8Array);
      expect([...viaSocket.bytes]).toEqual([8, 9]);
    } finally {
      await conn.dispose();
    }
  });

  it("connect: actions and events from c.broadcast", async () => {
    const h = client.counter.getOrCreate(["e2e", "events"]);
    const conn = h.connect();
    const statuses: ConnectionStatus[] = [];
    conn.onStatusChange((s) => statuses.push(s));
    const seen: [number, string][] = [];
    const off = conn.on("changed", (count: number, tag: string) => seen.push([count, tag]));
    let onceCalls = 0;
    conn.once("changed", () => onceCalls++);
    try {
      await waitForStatus(conn, "connected");
      expect(conn.status).toBe("connected");
      expect(await conn.increment(1)).toBe(1);
      // An action over HTTP is broadcast to the connection too.
      await h.increment(10);
      await waitFor(() => seen.length === 2);
      expect(seen).toEqual([
        [1, "by-increment"],
        [11, "by-increment"],
      ]);
      expect(onceCalls).toBe(1);
      // After the last listener goes, no more events.
      off();
      await conn.value(); // the unsub went out before this action, on the same socket
      await h.increment(1);
      await sleep(100);
      expect(seen).toHaveLength(2);
    } finally {
      await conn.dispose();
    }
    expect(statuses).toEqual(["connected", "disconnected"]);
    expect(conn.status).toBe("disconnected");
    await expect(conn.value()).rejects.toMatchObject({ group: "connection", code: "disposed" });
  });

  it("actions called while connecting are queued and sent once connected", async () => {
    const conn = client.counter.getOrCreate(["e2e", "queued"]).connect();
    try {
      expect(conn.status).toBe("connecting");
      const results = await Promise.all([conn.increment(1), conn.increment(2), conn.value()]);
      expect(results).toEqual([1, 3, 3]);
    } finally {
      await conn.dispose();
    }
  });

  it("connect params reach onBeforeConnect; a refusal is reported and not retried", async () => {
    const h = client.guarded.getOrCreate("door");
    const ok = h.connect({ pass: "open sesame" });
    try {
      expect(await ok.hello("you")).toBe("hello you");
    } finally {
      await ok.dispose();
    }

    const refused = h.connect({ pass: "guess" });
    const errors: ActorError[] = [];
    const statuses: ConnectionStatus[] = [];
    refused.onError((e) => errors.push(e));
    refused.onStatusChange((s) => statuses.push(s));
    const pending = refused.hello("me");
    const e = await rejection(pending);
    expect(e).toMatchObject({ group: "user", code: "bad_password", metadata: { hint: "sesame" } });
    await waitFor(() => errors.length > 0);
    expect(errors[0]).toMatchObject({ group: "user", code: "bad_password" });
    await sleep(300);
    expect(refused.status).toBe("disconnected");
    expect(statuses).toEqual(["disconnected"]);
    await expect(refused.hello("again")).rejects.toMatchObject({ code: "bad_password" });
    await refused.dispose();
  });

  it("fetch sends a raw request to onRequest and returns the Response", async () => {
    const h = client.counter.getOrCreate(["e2e", "raw"]);
    await h.increment(3);
    const res = await h.fetch("/hello/world?x=1", { method: "POST", body: "ping" });
    expect(res).toBeInstanceOf(Response);
    expect(res.status).toBe(201);
    expect(res.headers.get("x-actor")).toBe("counter");
    expect(await res.json()).toEqual({
      method: "POST",
      path: "/hello/world",
      x: "1",
      body: "ping",
      sawAuthorization: false,
      count: 3,
    });
    const get = await h.fetch("plain");
    expect(await get.json()).toMatchObject({ method: "GET", path: "/plain", body: null });
  });

  it("getGatewayUrl has no credentials and works with a token of one's own", async () => {
    const h = client.counter.getOrCreate(["e2e", "gatewayUrl"]);
    await h.increment(6);
    const gateway = await h.getGatewayUrl();
    expect(gateway).toBe(`${url}/gateway/${await h.resolve()}`);
    expect(gateway).not.toContain(TOKEN);
    expect(gateway).not.toContain("@");
    const res = await fetch(`${gateway}/action/value`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ args: [] }),
    });
    expect(await res.json()).toEqual({ output: 6 });
  });

  it("a wrong token is an auth error that does not show the token", async () => {
    const wrong = "w".repeat(32);
    const bad = createClient<Registry>(url.replace("://", `://default:${wrong}@`));
    const e = await rejection(bad.counter.getOrCreate("x").value());
    expect(e.group).toBe("auth");
    expect([401, 403]).toContain(e.status);
    expect(e.message).not.toContain(wrong);

    const id = await client.counter.getOrCreate(["e2e", "wrongToken"]).resolve();
    const conn = bad.counter.getForId(id).connect();
    const errors: ActorError[] = [];
    conn.onError((err) => errors.push(err));
    const pending = rejection(conn.value());
    await waitFor(() => errors.length > 0);
    expect(errors[0]).toMatchObject({ group: "auth" });
    expect([401, 403]).toContain(errors[0]!.status);
    expect((await pending).group).toBe("auth");
    await sleep(200);
    expect(conn.status).toBe("disconnected");
    await bad.dispose();
  });

  it("an unknown namespace is namespace.not_found", async () => {
    const other = createClient<Registry>({ endpoint: url, namespace: "nope", token: TOKEN });
    const e = await rejection(other.counter.getOrCreate("x").resolve());
    expect(e).toMatchObject({ group: "namespace", code: "not_found", status: 404 });
  });

  it("an unreachable engine is a retryable connection error without the token", async () => {
    const down = createClient<Registry>(`http://default:${TOKEN}@127.0.0.1:1`);
    const e = await rejection(down.counter.getOrCreate("x").value());
    expect(e).toMatchObject({ group: "connection", code: "unreachable", retryable: true, status: 0 });
    expect(e.message).not.toContain(TOKEN);
  });

  describe("with a browser-style global WebSocket (token as subprotocol)", () => {
    const saved = (globalThis as { WebSocket?: unknown }).WebSocket;
    beforeAll(() => {
      (globalThis as { WebSocket?: unknown }).WebSocket = WsWebSocket;
    });
    afterEach(() => {
      (globalThis as { WebSocket?: unknown }).WebSocket = saved;
    });

    it("connects, calls actions and gets events", async () => {
      const h = client.counter.getOrCreate(["e2e", "browser"]);
      const conn = h.connect();
      const seen: number[] = [];
      conn.on("changed", (count: number) => seen.push(count));
      try {
        expect(await conn.increment(5)).toBe(5);
        await waitFor(() => seen.length === 1);
        expect(seen).toEqual([5]);
      } finally {
        await conn.dispose();
      }
    });
  });

  it("client.dispose() closes every connection", async () => {
    const local = createClient<Registry>(endpoint);
    const a = local.counter.getOrCreate(["e2e", "disposeAll", "a"]).connect();
    const b = local.counter.getOrCreate(["e2e", "disposeAll", "b"]).connect();
    await Promise.all([a.value(), b.value()]);
    expect([a.status, b.status]).toEqual(["connected", "connected"]);
    await local.dispose();
    expect([a.status, b.status]).toEqual(["disconnected", "disconnected"]);
  });
});

describe("a refused upgrade", () => {
  it("does not hold up engine.close()", async () => {
    const engine = await createEngine({
      registry,
      storage: { driver: "memory" },
      gateway: { host: "127.0.0.1", port: 0 },
      auth: { adminToken: TOKEN },
      log: { level: "silent" },
      shutdown: { timeoutMs: 20_000 },
    });
    const { url } = await engine.listen();
    const id = await createClient<Registry>({ endpoint: url, token: TOKEN })
      .counter.getOrCreate("x")
      .resolve();
    const bad = createClient<Registry>({ endpoint: url, token: "w".repeat(32) });
    const conn = bad.counter.getForId(id).connect();
    await expect(conn.value()).rejects.toMatchObject({ group: "auth", status: 401 });
    await bad.dispose();
    const started = Date.now();
    await engine.close();
    expect(Date.now() - started).toBeLessThan(5000);
  }, 30_000);
});

describe("reconnection across an engine restart", () => {
  let dir: string;
  const engines: Awaited<ReturnType<typeof createEngine>>[] = [];

  const start = async (port: number) => {
    const engine = await createEngine({
      registry,
      storage: { driver: "fileSystem", fileSystem: { path: dir } },
      gateway: { host: "127.0.0.1", port },
      auth: { adminToken: TOKEN },
      log: { level: "silent" },
    });
    engines.push(engine);
    const { url } = await engine.listen();
    return { engine, url };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "enclave-client-"));
  });

  afterAll(async () => {
    for (const e of engines) await e.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it("reconnects, re-subscribes and keeps state; status changes are reported", async () => {
    const first = await start(0);
    const port = Number(new URL(first.url).port);
    const client = createClient<Registry>({
      endpoint: first.url,
      token: TOKEN,
      connection: { minReconnectDelayMs: 50, maxReconnectDelayMs: 400 },
    });
    const h = client.counter.getOrCreate(["e2e", "restart"]);
    expect(await h.increment(10)).toBe(10);

    const conn = h.connect();
    const statuses: ConnectionStatus[] = [];
    conn.onStatusChange((s) => statuses.push(s));
    const seen: number[] = [];
    conn.on("changed", (count: number) => seen.push(count));
    try {
      await waitForStatus(conn, "connected");
      expect(await conn.value()).toBe(10);

      await first.engine.close();
      await waitForStatus(conn, "disconnected");

      // Called while the engine is down: queued, sent after the reconnect.
      const queued = conn.increment(1);

      const second = await start(port);
      expect(second.url).toBe(first.url);
      await waitForStatus(conn, "connected", 15_000);
      expect(await queued).toBe(11);

      // The subscription was renewed on the new socket.
      await h.increment(1);
      await waitFor(() => seen.includes(12));
      expect(statuses[0]).toBe("connected");
      expect(statuses).toContain("disconnected");
      expect(statuses).toContain("connecting");
      expect(statuses.at(-1)).toBe("connected");
    } finally {
      await client.dispose();
    }
    expect(conn.status).toBe("disconnected");
  });
});
