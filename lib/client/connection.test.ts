/**
 * Connection behaviour that a healthy engine does not show on demand (dropped sockets, refusals,
 * close codes, backoff), against a scripted WebSocket server. client.test.ts covers the same
 * client against the real engine.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { decodeWire, encodeWire } from "../wire/codec.js";
import { CloseCodes, WS_PROTOCOL, type ClientMessage, type ServerMessage } from "../wire/protocol.js";
import { ActorError, createClient, type ConnectionStatus } from "./index.js";

interface Fake {
  url: string;
  upgrades: IncomingMessage[];
  sockets: WebSocket[];
  received: ClientMessage[][];
  close(): Promise<void>;
}

type OnSocket = (ws: WebSocket, index: number, send: (m: ServerMessage) => void) => void;
type OnUpgrade = (req: IncomingMessage, socket: Duplex) => boolean;

const servers: Server[] = [];
const clients: { dispose(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function fake(onSocket: OnSocket, onUpgrade?: OnUpgrade): Promise<Fake> {
  const server = createServer();
  servers.push(server);
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  const state: Fake = { url: "", upgrades: [], sockets: [], received: [], close: async () => undefined };
  server.on("upgrade", (req, socket, head) => {
    state.upgrades.push(req);
    if (onUpgrade?.(req, socket)) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const index = state.sockets.push(ws) - 1;
      const log: ClientMessage[] = [];
      state.received.push(log);
      ws.on("message", (data) => log.push(decodeWire<ClientMessage>(String(data))));
      onSocket(ws, index, (m) => ws.send(encodeWire(m)));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("no port");
  state.url = `http://127.0.0.1:${addr.port}`;
  return state;
}

function refuse(socket: Duplex, status: number, body?: object): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

function client(url: string, extra: { namespace?: string; token?: string; maxQueuedActions?: number } = {}) {
  const c = createClient({
    endpoint: url,
    token: extra.token ?? "tok",
    ...(extra.namespace === undefined ? {} : { namespace: extra.namespace }),
    connection: {
      minReconnectDelayMs: 20,
      maxReconnectDelayMs: 80,
      ...(extra.maxQueuedActions === undefined ? {} : { maxQueuedActions: extra.maxQueuedActions }),
    },
  });
  clients.push(c);
  return c;
}

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers actions: `double` doubles, `hang` never answers. */
const answer: OnSocket = (ws, _i, send) => {
  send({ t: "init", actorId: "A1", connectionId: "c" });
  ws.on("message", (data) => {
    const m = decodeWire<ClientMessage>(String(data));
    if (m.t === "action" && m.name === "double")
      send({ t: "result", id: m.id, output: (m.args[0] as number) * 2 });
  });
};

describe("connection", () => {
  it("authenticates by header, passes namespace and params, queues until init", async () => {
    const server = await fake((ws, i, send) => {
      setTimeout(() => answer(ws, i, send), 50);
    });
    const conn = client(server.url, { namespace: "ns-1" })
      .thing!.getForId("A1")
      .connect({ room: "a b", n: 1 });
    const events: unknown[][] = [];
    conn.on("tick", (...args: unknown[]) => events.push(args));
    expect(conn.status).toBe("connecting");
    expect(await conn.double!(21)).toBe(42);
    expect(conn.status).toBe("connected");

    const req = server.upgrades[0]!;
    expect(req.headers.authorization).toBe("Bearer tok");
    expect(req.headers["sec-websocket-protocol"]).toBe(WS_PROTOCOL);
    const url = new URL(req.url!, "http://x");
    expect(url.pathname).toBe("/gateway/A1/connect");
    expect(url.searchParams.get("namespace")).toBe("ns-1");
    expect(JSON.parse(url.searchParams.get("params")!)).toEqual({ room: "a b", n: 1 });
    // The subscription goes out before the queued action.
    expect(server.received[0]!.map((m) => m.t)).toEqual(["sub", "action"]);

    server.sockets[0]!.send(encodeWire({ t: "event", name: "tick", args: [1, new Uint8Array([7])] }));
    await waitFor(() => events.length === 1);
    expect(events[0]![0]).toBe(1);
    expect(events[0]![1]).toBeInstanceOf(Uint8Array);
  });

  it("sends unsub when the last listener goes, and only then", async () => {
    const server = await fake(answer);
    const conn = client(server.url).thing!.getForId("A1").connect();
    const offA = conn.on("e", () => undefined);
    const offB = conn.on("e", () => undefined);
    await conn.double!(1);
    offA();
    offA();
    await conn.double!(1);
    expect(server.received[0]!.filter((m) => m.t !== "action")).toEqual([{ t: "sub", event: "e" }]);
    offB();
    await conn.double!(1);
    expect(server.received[0]!.filter((m) => m.t !== "action")).toEqual([
      { t: "sub", event: "e" },
      { t: "unsub", event: "e" },
    ]);
  });

  it("fails in-flight actions with a retryable error on a drop, then reconnects and re-subscribes", async () => {
    const server = await fake((ws, i, send) => {
      answer(ws, i, send);
      ws.on("message", (data) => {
        if (decodeWire<ClientMessage>(String(data)).t === "action" && i === 0) {
          setTimeout(() => ws.terminate(), 20);
        }
      });
    });
    const conn = client(server.url).thing!.getForId("A1").connect();
    const statuses: ConnectionStatus[] = [];
    conn.onStatusChange((s) => statuses.push(s));
    conn.on("e", () => undefined);
    const error = await conn.hang!().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActorError);
    expect(error).toMatchObject({ group: "connection", code: "disconnected", retryable: true, status: 0 });
    await waitFor(() => conn.status === "connected" && server.sockets.length === 2);
    expect(await conn.double!(2)).toBe(4);
    expect(server.received[1]![0]).toEqual({ t: "sub", event: "e" });
    expect(statuses).toEqual(["connected", "disconnected", "connecting", "connected"]);
  });

  for (const code of [CloseCodes.rejected, CloseCodes.notFound, CloseCodes.destroyed]) {
    it(`stops for good on close code ${code}`, async () => {
      const server = await fake((ws, _i, send) => {
        send({ t: "init", actorId: "A1", connectionId: "c" });
        setTimeout(() => ws.close(code, "bye"), 10);
      });
      const conn = client(server.url).thing!.getForId("A1").connect();
      const errors: ActorError[] = [];
      conn.onError((e) => errors.push(e));
      await waitFor(() => errors.length === 1);
      await sleep(200);
      expect(server.upgrades).toHaveLength(1);
      expect(conn.status).toBe("disconnected");
      expect(errors[0]).toMatchObject({ group: "connection", retryable: false });
      await expect(conn.double!(1)).rejects.toBe(errors[0]);
    });
  }

  it("reports a connection-level error once and stops when a close code 4003 follows it", async () => {
    const server = await fake((ws, _i, send) => {
      send({ t: "error", error: { group: "user", code: "nope", message: "go away", metadata: { a: 1 } } });
      ws.close(CloseCodes.rejected, "nope");
    });
    const conn = client(server.url).thing!.getForId("A1").connect();
    const pending = conn.double!(1);
    await expect(pending).rejects.toMatchObject({
      group: "user",
      code: "nope",
      metadata: { a: 1 },
      status: 400,
    });
    const errors: ActorError[] = [];
    conn.onError((e) => errors.push(e));
    await sleep(150);
    expect(errors).toEqual([]);
    expect(server.upgrades).toHaveLength(1);
  });

  it("retries after close code 4503 (engine stopping)", async () => {
    const server = await fake((ws, i, send) => {
      answer(ws, i, send);
      if (i === 0) setTimeout(() => ws.close(CloseCodes.stopping, "stopping"), 10);
    });
    const conn = client(server.url).thing!.getForId("A1").connect();
    await waitFor(() => server.sockets.length === 2 && conn.status === "connected");
  });

  for (const status of [401, 403, 404]) {
    it(`stops for good when the upgrade is refused with ${status}, keeping the error body`, async () => {
      const body = { group: "auth", code: `c${status}`, message: "no" };
      const server = await fake(answer, (_req, socket) => {
        refuse(socket, status, body);
        return true;
      });
      const conn = client(server.url).thing!.getForId("A1").connect();
      await expect(conn.double!(1)).rejects.toMatchObject({ ...body, status });
      await sleep(150);
      expect(server.upgrades).toHaveLength(1);
      expect(conn.status).toBe("disconnected");
    });
  }

  it("backs off with jitter up to the cap, reports the failure once, and recovers", async () => {
    let refuseAll = true;
    const times: number[] = [];
    const server = await fake(answer, (_req, socket) => {
      times.push(Date.now());
      if (!refuseAll) return false;
      refuse(socket, 503, { group: "actor", code: "stopping", message: "stopping" });
      return true;
    });
    const conn = client(server.url).thing!.getForId("A1").connect();
    const errors: ActorError[] = [];
    conn.onError((e) => errors.push(e));
    const statuses: ConnectionStatus[] = [];
    conn.onStatusChange((s) => statuses.push(s));
    const queued = conn.double!(5);
    await sleep(700);
    refuseAll = false;
    expect(await queued).toBe(10);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps.length).toBeGreaterThanOrEqual(6);
    // Capped at 80 ms (plus scheduling slack); never below half the first delay.
    expect(Math.max(...gaps)).toBeLessThan(80 + 60);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(9);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ group: "actor", code: "stopping", status: 503, retryable: true });
    expect(statuses.at(-1)).toBe("connected");
    expect(statuses.filter((s) => s === "connecting").length).toBeGreaterThanOrEqual(5);
  });

  it("bounds the queue and fails queued actions on dispose", async () => {
    const server = await fake(() => undefined); // accepts, never sends init
    const conn = client(server.url, { maxQueuedActions: 2 }).thing!.getForId("A1").connect();
    const a = conn.double!(1);
    const b = conn.double!(2);
    // Settled during dispose(): observe them now so they never count as unhandled.
    a.catch(() => undefined);
    b.catch(() => undefined);
    await expect(conn.double!(3)).rejects.toMatchObject({ group: "connection", code: "queue_full" });
    await waitFor(() => server.sockets.length === 1);
    await conn.dispose();
    await expect(a).rejects.toMatchObject({ group: "connection", code: "disposed", retryable: false });
    await expect(b).rejects.toMatchObject({ code: "disposed" });
    expect(conn.status).toBe("disconnected");
    await sleep(100);
    expect(server.upgrades).toHaveLength(1);
  });

  it("routes a throwing listener to onError and still calls the others", async () => {
    const server = await fake(answer);
    const conn = client(server.url).thing!.getForId("A1").connect();
    const errors: ActorError[] = [];
    conn.onError((e) => errors.push(e));
    let second = 0;
    conn.on("e", () => {
      throw new Error("boom");
    });
    conn.on("e", () => second++);
    let once = 0;
    conn.once("e", () => once++);
    await conn.double!(1);
    server.sockets[0]!.send(encodeWire({ t: "event", name: "e", args: [] }));
    server.sockets[0]!.send(encodeWire({ t: "event", name: "e", args: [] }));
    await waitFor(() => second === 2);
    expect(once).toBe(1);
    expect(errors.map((e) => e.code)).toEqual(["listener_error", "listener_error"]);
  });

  it("an action error with an id rejects only that action", async () => {
    const server = await fake((ws, i, send) => {
      answer(ws, i, send);
      ws.on("message", (data) => {
        const m = decodeWire<ClientMessage>(String(data));
        if (m.t === "action" && m.name === "bad") {
          send({ t: "error", id: m.id, error: { group: "actor", code: "action_not_found", message: "no" } });
        }
      });
    });
    const conn = client(server.url).thing!.getForId("A1").connect();
    await expect(conn.bad!()).rejects.toMatchObject({
      group: "actor",
      code: "action_not_found",
      status: 404,
    });
    expect(await conn.double!(3)).toBe(6);
    expect(conn.status).toBe("connected");
  });
});
