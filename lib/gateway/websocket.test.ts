/**
 * `GET /gateway/{id}/connect`: one WebSocket carrying actions and events. Real sockets (`ws`).
 */
import { connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import { Errors, UserError } from "../errors.js";
import { CloseCodes, TOKEN_SUBPROTOCOL_PREFIX, WS_PROTOCOL } from "../wire/protocol.js";
import {
  ADMIN_TOKEN,
  expectError,
  expectErrorShape,
  pollUntil,
  sleep,
  startEngine,
  type Harness,
  type ServerMsg,
  type WsOptions,
} from "./testing/harness.js";

const LIMIT = 4096;

interface Params {
  name?: string;
  deny?: boolean;
  crash?: boolean;
  delayMs?: number;
}

const room = actor({
  state: { count: 0 },
  onBeforeConnect: async (_c, params) => {
    const p = (params ?? {}) as Params;
    if (p.delayMs) await sleep(p.delayMs);
    if (p.deny) throw new UserError("go away", { code: "denied", metadata: { why: "test" } });
    if (p.crash) throw new Error("secret connect failure");
  },
  createConnState: (c, params) => ({
    params: params ?? null,
    from: c.headers["x-from"] ?? null,
    headerNames: Object.keys(c.headers).sort(),
  }),
  actions: {
    increment: (c, n: number) => {
      c.state.count += n;
      c.broadcast("changed", c.state.count);
      return c.state.count;
    },
    get: (c) => c.state.count,
    whoami: (c) => c.conn?.state ?? null,
    bytes: (_c, b: Uint8Array) => ({
      isBytes: b instanceof Uint8Array,
      reversed: Uint8Array.from(b).reverse(),
    }),
    refuse: () => {
      throw new UserError("no", { code: "nope", metadata: { a: 1 } });
    },
    crash: () => {
      throw new Error("secret action failure");
    },
  },
});

const sleepy = actor({
  state: { n: 0 },
  actions: { ping: () => "pong" },
  options: { sleepTimeout: 300 },
});

describe("websocket connect", () => {
  let h: Harness;
  let id: string;
  const connect = (query = "", opts: Parameters<Harness["ws"]>[1] = {}, actorId = id) =>
    h.ws(`/gateway/${actorId}/connect${query}`, opts);

  beforeAll(async () => {
    h = await startEngine({ use: { room, sleepy }, options: { limits: { messageBytes: LIMIT } } });
    id = (await h.json("PUT", "/actors", { name: "room", key: ["ws"] })).body.actor.actorId as string;
  });
  afterAll(async () => {
    h.assertNeverReceived(ADMIN_TOKEN);
    h.assertNeverReceived("secret");
    await h.close();
  });

  it("sends init first, then answers actions by id with result or error", async () => {
    const ws = connect();
    await ws.opened;
    expect(ws.socket.protocol).toBe(WS_PROTOCOL);
    const init = await ws.next();
    expect(Object.keys(init).sort()).toEqual(["actorId", "connectionId", "t"]);
    expect(init.t).toBe("init");
    expect(init.actorId).toBe(id);
    expect(typeof init.connectionId).toBe("string");

    const r1 = await ws.call(1, "increment", [2]);
    expect(r1.msg).toEqual({ t: "result", id: 1, output: expect.any(Number) });
    const start = r1.msg.output as number;
    expect((await ws.call(2, "get")).msg).toEqual({ t: "result", id: 2, output: start });

    const refused = (await ws.call(3, "refuse")).msg;
    expect(refused).toEqual({
      t: "error",
      id: 3,
      error: { group: "user", code: "nope", message: "no", metadata: { a: 1 } },
    });

    const missing = (await ws.call(4, "noSuchAction")).msg;
    expect(missing.t).toBe("error");
    expect(missing.id).toBe(4);
    expectErrorShape(missing.error);
    expect(missing.error).toMatchObject({ group: "actor", code: "action_not_found" });

    const crashed = (await ws.call(5, "crash")).msg;
    expectErrorShape(crashed.error);
    expect(crashed.error).toMatchObject({ group: "actor", code: "internal_error" });
    expect(crashed.error.metadata.correlationId).toEqual(expect.any(String));
    expect(crashed.error.message).toContain(crashed.error.metadata.correlationId);

    // Still open and serving after errors.
    expect((await ws.call(6, "get")).msg.output).toBe(start);
    ws.close();
    expect((await ws.closed).code).toBe(1000);
  });

  it("answers concurrent actions by their ids", async () => {
    const ws = connect();
    await ws.next(); // init
    for (let i = 10; i < 20; i++) ws.send({ t: "action", id: i, name: "get", args: [] });
    const ids = new Set<number>();
    while (ids.size < 10) {
      const m = await ws.next();
      expect(m.t).toBe("result");
      ids.add(m.id as number);
    }
    expect([...ids].sort((a, b) => a - b)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    ws.close();
  });

  it("Uint8Array travels as { $bytes } both ways", async () => {
    const ws = connect();
    await ws.next();
    const { msg } = await ws.call(1, "bytes", [{ $bytes: Buffer.from([1, 2, 3, 255]).toString("base64") }]);
    expect(msg.t).toBe("result");
    expect(msg.output.isBytes).toBe(true);
    expect(Object.keys(msg.output.reversed)).toEqual(["$bytes"]);
    expect([...Buffer.from(msg.output.reversed.$bytes as string, "base64")]).toEqual([255, 3, 2, 1]);
    ws.close();
  });

  it("broadcast reaches only subscribed connections; unsub stops it", async () => {
    const a = connect();
    const b = connect();
    await a.next();
    await b.next();
    a.send({ t: "sub", event: "changed" });
    b.send({ t: "sub", event: "other-event" });

    // a's own call: the event arrives before the result on the same socket.
    const viaA = await a.call(1, "increment", [1]);
    expect(viaA.before).toEqual([{ t: "event", name: "changed", args: [viaA.msg.output] }]);

    // b is not subscribed to "changed": its own increment produces no event for it.
    const viaB = await b.call(1, "increment", [1]);
    expect(viaB.before).toEqual([]);
    // ... but a (subscribed) sees b's change.
    const seen = await a.until((m) => m.t === "event");
    expect(seen.msg).toEqual({ t: "event", name: "changed", args: [viaB.msg.output] });

    a.send({ t: "unsub", event: "changed" });
    const afterUnsub = await a.call(2, "increment", [1]);
    expect(afterUnsub.before).toEqual([]);
    // A late event would come before the answer to a later call on the same socket.
    expect((await a.call(3, "get")).before).toEqual([]);
    a.close();
    b.close();
  });

  it("connect params reach onBeforeConnect and createConnState; headers arrive without credentials", async () => {
    const params = { name: "ann", nested: { list: [1, 2] } };
    const ws = connect(`?params=${encodeURIComponent(JSON.stringify(params))}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "x-from": "tests" },
    });
    await ws.next();
    const me = (await ws.call(1, "whoami")).msg.output as {
      params: unknown;
      from: string;
      headerNames: string[];
    };
    expect(me.params).toEqual(params);
    expect(me.from).toBe("tests");
    expect(me.headerNames).not.toContain("authorization");
    expect(me.headerNames).not.toContain("sec-websocket-protocol");
    ws.close();

    // A denying onBeforeConnect sees the params too.
    const denied = connect(`?params=${encodeURIComponent(JSON.stringify({ deny: true }))}`);
    expect((await denied.next()).t).toBe("error");
  });

  it("onBeforeConnect throwing a UserError: { t: error, error: user } then close 4003, no init", async () => {
    const ws = connect(`?params=${encodeURIComponent(JSON.stringify({ deny: true }))}`);
    const first = await ws.next();
    expect(first).toEqual({
      t: "error",
      error: { group: "user", code: "denied", message: "go away", metadata: { why: "test" } },
    });
    const closed = await ws.closed;
    expect(closed.code).toBe(CloseCodes.rejected);
    expect(ws.messages.map((m) => m.t)).toEqual(["error"]);
  });

  it("onBeforeConnect crashing: internal error without details, close 4003", async () => {
    const ws = connect(`?params=${encodeURIComponent(JSON.stringify({ crash: true }))}`);
    const first = await ws.next();
    expect(first.t).toBe("error");
    expectErrorShape(first.error);
    expect(first.error).toMatchObject({ group: "actor", code: "internal_error" });
    expect((await ws.closed).code).toBe(CloseCodes.rejected);
  });

  it("params that are not JSON: error then close 4003", async () => {
    const ws = connect("?params=%7Bnot-json");
    const first = await ws.next();
    expect(first.t).toBe("error");
    expect(first.error).toMatchObject({ group: "request", code: "invalid" });
    expect((await ws.closed).code).toBe(CloseCodes.rejected);
  });

  it("an unknown actor: error actor/not_found, then close 4004", async () => {
    const ws = connect("", {}, "AAAAAAAAAAAAAAAAAAAAAA");
    const first = await ws.next();
    expect(first.t).toBe("error");
    expectErrorShape(first.error);
    expect(first.error).toMatchObject({ group: "actor", code: "not_found" });
    expect((await ws.closed).code).toBe(CloseCodes.notFound);
  });

  it("a malformed message gets { t: error } and the connection stays open", async () => {
    const ws = connect();
    await ws.next();
    const bad: (string | Buffer)[] = [
      "not json",
      "{",
      "null",
      "[]",
      '"action"',
      JSON.stringify({ t: "action" }),
      JSON.stringify({ t: "action", id: "1", name: "get", args: [] }),
      JSON.stringify({ t: "action", id: 1.5, name: "get", args: [] }),
      JSON.stringify({ t: "action", id: 1, name: "get", args: "x" }),
      JSON.stringify({ t: "action", id: 1, name: 5, args: [] }),
      JSON.stringify({ t: "sub" }),
      JSON.stringify({ t: "nope" }),
      `{"t":"action","id":1,"name":"get","args":[${"[".repeat(1000)}${"]".repeat(1000)}]}`,
      Buffer.from([1, 2, 3]),
    ];
    for (const m of bad) {
      ws.socket.send(m);
      const reply = await ws.next();
      expect(reply.t, String(m).slice(0, 40)).toBe("error");
      expectErrorShape(reply.error);
      expect(reply.error.group).toBe("request");
      expect(ws.socket.readyState).toBe(ws.socket.OPEN);
    }
    expect((await ws.call(99, "get")).msg.t).toBe("result");
    ws.close();
  });

  it("auth by subprotocol: enclave.token.TOKEN + enclave.v1; the server selects enclave.v1 only", async () => {
    const ws = connect("", {
      headers: {},
      protocols: [WS_PROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${ADMIN_TOKEN}`],
    });
    await ws.opened;
    expect(ws.socket.protocol).toBe(WS_PROTOCOL);
    expect(ws.upgradeHeaders?.["sec-websocket-protocol"]).toBe(WS_PROTOCOL);
    expect((await ws.next()).t).toBe("init");
    expect((await ws.call(1, "get")).msg.t).toBe("result");
    ws.close();

    // Offered alone, the token protocol is never selected (the client then gives up).
    const only = connect("", { headers: {}, protocols: [`${TOKEN_SUBPROTOCOL_PREFIX}${ADMIN_TOKEN}`] });
    await only.closed;
    expect(only.upgradeHeaders?.["sec-websocket-protocol"]).toBeUndefined();
  });

  it("no credential, or a wrong one (header or subprotocol): 401 before any upgrade", async () => {
    const attempts: WsOptions[] = [
      { headers: {} },
      { headers: { authorization: "Bearer wrong-wrong-wrong-wrong" } },
      { headers: { authorization: "Basic x" } },
      { headers: {}, protocols: [WS_PROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}wrong-wrong-wrong`] },
    ];
    for (const opts of attempts) {
      const ws = connect("", opts);
      const refused = await ws.rejected;
      expect(refused.status).toBe(401);
      const body = JSON.parse(refused.body) as unknown;
      expectErrorShape(body);
      expect(body).toMatchObject({ group: "auth", code: "unauthenticated" });
    }
  });

  it("a refused upgrade gets its wire error and the server closes the socket", async () => {
    const port = Number(new URL(h.url).port);
    const cases: [string, string, number][] = [
      [`/gateway/${id}/connect`, "", 401],
      [`/gateway/${id}/connect`, "Authorization: Basic x\r\n", 401],
      [`/gateway/${id}/connect?namespace=nope`, `Authorization: Bearer ${ADMIN_TOKEN}\r\n`, 404],
    ];
    for (const [path, auth, status] of cases) {
      const socket = tcpConnect(port, "127.0.0.1");
      let out = "";
      socket.on("data", (d: Buffer) => (out += d.toString("utf8")));
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: x\r\n${auth}Connection: Upgrade\r\nUpgrade: websocket\r\n` +
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      );
      // This client never closes: the server must.
      const closedByServer = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 5000);
        socket.on("close", () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      socket.destroy();
      expect(closedByServer, path).toBe(true);
      expect(out.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
      const body = JSON.parse(out.slice(out.indexOf("\r\n\r\n") + 4)) as unknown;
      expectErrorShape(body);
      h.received.push({
        what: `raw upgrade ${path}`,
        headers: out.slice(0, out.indexOf("\r\n\r\n")),
        body: JSON.stringify(body),
      });
    }
  });

  it("a plain GET without upgrade is 426 request/upgrade_required", async () => {
    await expectError(await h.admin(`/gateway/${id}/connect`), Errors.upgradeRequired);
  });

  it("a message over limits.messageBytes closes the socket with 1009", async () => {
    const ws = connect();
    await ws.next();
    ws.send({ t: "action", id: 1, name: "get", args: ["x".repeat(LIMIT + 10)] });
    expect((await ws.closed).code).toBe(CloseCodes.tooLarge);
  });

  it("messages sent before init are not lost, and answered in order after init", async () => {
    const ws = connect(`?params=${encodeURIComponent(JSON.stringify({ delayMs: 300 }))}`);
    await ws.opened;
    // The actor is still in onBeforeConnect: these arrive before init is sent.
    ws.send({ t: "sub", event: "changed" });
    for (let i = 1; i <= 5; i++) ws.send({ t: "action", id: i, name: "increment", args: [1] });
    expect(ws.messages).toEqual([]);
    const init = await ws.next();
    expect(init.t).toBe("init");
    const results: ServerMsg[] = [];
    const events: ServerMsg[] = [];
    while (results.length < 5) {
      const m = await ws.next();
      if (m.t === "event") events.push(m);
      else results.push(m);
    }
    expect(results.map((r) => [r.t, r.id])).toEqual([1, 2, 3, 4, 5].map((i) => ["result", i]));
    const outputs = results.map((r) => r.output as number);
    for (let i = 1; i < outputs.length; i++) expect(outputs[i]).toBe((outputs[i - 1] as number) + 1);
    // The subscription sent before init counted too.
    expect(events).toHaveLength(5);
    ws.close();
  });

  it("an open connection keeps the actor awake past its sleepTimeout; it sleeps after disconnect", async () => {
    const sid = (await h.json("PUT", "/actors", { name: "sleepy", key: ["ws"] })).body.actor
      .actorId as string;
    const status = async () => (await h.json("GET", `/actors/${sid}`)).body.actor.status as string;
    // Control: without a connection it goes to sleep on its own.
    await pollUntil(async () => (await status()) === "sleeping", { what: "idle sleep", timeoutMs: 10_000 });

    const ws = connect("", {}, sid);
    expect((await ws.next()).t).toBe("init");
    expect(await status()).toBe("running");
    await sleep(1500); // five sleep timeouts
    expect(await status()).toBe("running");
    expect((await ws.call(1, "ping")).msg.output).toBe("pong");

    ws.close();
    await ws.closed;
    await pollUntil(async () => (await status()) === "sleeping", {
      what: "sleep after disconnect",
      timeoutMs: 10_000,
    });
  });

  it("a forced sleep closes connections with 1001; destroying the actor closes them with 4010", async () => {
    const sid = (await h.json("PUT", "/actors", { name: "room", key: ["closing"] })).body.actor
      .actorId as string;
    const ws = connect("", {}, sid);
    await ws.next();
    expect((await h.json("POST", `/actors/${sid}/sleep`)).status).toBe(200);
    expect((await ws.closed).code).toBe(CloseCodes.goingAway);

    const ws2 = connect("", {}, sid);
    expect((await ws2.next()).t).toBe("init");
    expect((await h.admin(`/actors/${sid}`, { method: "DELETE" })).status).toBe(200);
    expect((await ws2.closed).code).toBe(CloseCodes.destroyed);

    // Connecting to the destroyed actor: not found.
    const ws3 = connect("", {}, sid);
    expect((await ws3.next()).error).toMatchObject({ group: "actor", code: "not_found" });
    expect((await ws3.closed).code).toBe(CloseCodes.notFound);
  });
});
