/**
 * Bad input never yields a 500 and never changes data: malformed JSON, wrong types, extra
 * properties, oversized and deeply nested bodies, wrong content types, unknown routes, broken
 * URLs and broken HTTP. Every error body is exactly `{ group, code, message, metadata? }` with
 * the catalogue's status.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import { Errors, type ErrorSpec } from "../errors.js";
import { ADMIN_TOKEN, expectError, expectErrorShape, startEngine, type Harness } from "./testing/harness.js";

const LIMIT = 4096;

const counter = actor({
  state: { count: 0 as unknown, kept: null as unknown },
  actions: {
    increment: (c, n: number) => {
      c.state.count = (c.state.count as number) + n;
      return c.state.count;
    },
    keep: (c, v: unknown) => {
      c.state.kept = v;
      return true;
    },
    get: (c) => c.state.count,
  },
});

/** Sends raw bytes and returns the raw response text (until the server closes or a timeout). */
function rawExchange(port: number, data: string | Buffer, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let out = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, timeoutMs);
    socket.on("connect", () => socket.write(data));
    socket.on("data", (d: Buffer) => (out += d.toString("utf8")));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      if (out) resolve(out);
      else reject(e);
    });
  });
}

function parseRaw(text: string): { status: number; body: unknown; head: string } {
  const at = text.indexOf("\r\n\r\n");
  const head = text.slice(0, at);
  const status = Number(head.split(" ")[1]);
  return { status, head, body: JSON.parse(text.slice(at + 4)) };
}

describe("bad input", () => {
  let h: Harness;
  let id: string;
  let port: number;
  const statuses: number[] = [];

  async function send(
    method: string,
    path: string,
    body: string | undefined,
    contentType: string | undefined,
    spec: Pick<ErrorSpec, "group" | "code" | "status">,
  ): Promise<void> {
    const headers: Record<string, string> = {};
    if (contentType !== undefined) headers["content-type"] = contentType;
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = body;
    const res = await h.admin(path, init);
    statuses.push(res.status);
    await expectError(res, spec);
  }

  beforeAll(async () => {
    h = await startEngine({ use: { counter }, options: { limits: { messageBytes: LIMIT } } });
    port = Number(new URL(h.url).port);
    const { body } = await h.json("PUT", "/actors", { name: "counter", key: ["victim"] });
    id = body.actor.actorId as string;
    expect((await h.json("POST", `/gateway/${id}/action/increment`, { args: [5] })).body).toEqual({
      output: 5,
    });
  });

  afterAll(async () => {
    h.assertNeverReceived(ADMIN_TOKEN);
    await h.close();
  });

  const JSON_CT = "application/json";

  it("malformed JSON is 400 request/malformed_json", async () => {
    for (const body of [
      '{"name":',
      "{name: 'counter'}",
      "{'args':[1]}",
      '{"args":[1]',
      "\u0000",
      "nul",
      '{"args":[1]}x',
    ]) {
      await send("PUT", "/actors", body, JSON_CT, Errors.malformedJson);
      await send("POST", `/gateway/${id}/action/increment`, body, JSON_CT, Errors.malformedJson);
    }
  });

  it("prototype poisoning is refused, not merged", async () => {
    for (const body of ['{"__proto__":{"args":[1000]}}', '{"constructor":{"prototype":{"args":[1000]}}}']) {
      await send("POST", `/gateway/${id}/action/increment`, body, JSON_CT, Errors.malformedJson);
    }
  });

  it("wrong types are 400 request/invalid, never coerced", async () => {
    const action = `/gateway/${id}/action/increment`;
    for (const body of [{ args: "5" }, { args: 5 }, { args: { 0: 5 } }, { args: true }, [5], "5", 5, true]) {
      await send("POST", action, JSON.stringify(body), JSON_CT, Errors.badRequest);
    }
    for (const body of [
      { name: "counter", key: 5 },
      { name: "counter", key: null },
      { name: "counter", key: true },
      { name: "counter", key: [1, 2] },
      { name: "counter", key: ["a", null] },
      { name: "counter", key: { a: 1 } },
      { name: 5, key: "x" },
      { name: ["counter"], key: "x" },
      { name: "", key: "x" },
      { key: "x" },
      { name: "counter" },
      {},
      [],
      "counter",
      null,
    ]) {
      await send("PUT", "/actors", JSON.stringify(body), JSON_CT, Errors.badRequest);
      await send("POST", "/actors", JSON.stringify(body), JSON_CT, Errors.badRequest);
    }
    // A bodiless create names nothing.
    await send("PUT", "/actors", undefined, JSON_CT, Errors.badRequest);
  });

  it("extra properties are 400 request/invalid", async () => {
    await send(
      "POST",
      `/gateway/${id}/action/increment`,
      JSON.stringify({ args: [1], extra: 1 }),
      JSON_CT,
      Errors.badRequest,
    );
    await send(
      "POST",
      `/gateway/${id}/action/increment`,
      JSON.stringify({ arg: [1] }),
      JSON_CT,
      Errors.badRequest,
    );
    await send(
      "PUT",
      "/actors",
      JSON.stringify({ name: "counter", key: "x", namespace: "other" }),
      JSON_CT,
      Errors.badRequest,
    );
  });

  it("an actor key over the limits is 400 limit/key_too_large", async () => {
    await send(
      "PUT",
      "/actors",
      JSON.stringify({ name: "counter", key: "k".repeat(1025) }),
      JSON_CT,
      Errors.keyTooLarge,
    );
    const parts = Array.from({ length: 17 }, (_, i) => String(i));
    await send(
      "PUT",
      "/actors",
      JSON.stringify({ name: "counter", key: parts }),
      JSON_CT,
      Errors.keyTooLarge,
    );
  });

  it("a body over limits.messageBytes is 413 request/body_too_large (with and without Content-Length)", async () => {
    const big = JSON.stringify({ args: ["x".repeat(LIMIT)] });
    await send("POST", `/gateway/${id}/action/increment`, big, JSON_CT, Errors.bodyTooLarge);
    const bigCreate = JSON.stringify({ name: "counter", key: "big", input: "x".repeat(LIMIT) });
    await send("PUT", "/actors", bigCreate, JSON_CT, Errors.bodyTooLarge);

    // Chunked: no Content-Length, the limit is enforced while reading.
    const chunks = [Buffer.from('{"args":["'), Buffer.alloc(LIMIT, 0x61), Buffer.from('"]}')];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(new Uint8Array(c));
        controller.close();
      },
    });
    const res = await h.admin(`/gateway/${id}/action/increment`, {
      method: "POST",
      headers: { "content-type": JSON_CT },
      body: stream,
      duplex: "half",
    } as RequestInit);
    statuses.push(res.status);
    await expectError(res, Errors.bodyTooLarge);
  });

  it("values nested deeper than the wire allows are 400 request/invalid", async () => {
    const depth = 1500; // fits in 4 KiB; deep enough to break recursive walkers
    const deep = `{"args":[${"[".repeat(depth)}${"]".repeat(depth)}]}`;
    expect(deep.length).toBeLessThan(LIMIT);
    await send("POST", `/gateway/${id}/action/keep`, deep, JSON_CT, Errors.badRequest);
    const deepInput = `{"name":"counter","key":"deep","input":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    await send("PUT", "/actors", deepInput, JSON_CT, Errors.badRequest);
    // Moderate nesting is fine.
    const ok = await h.json("POST", `/gateway/${id}/action/keep`, { args: [[[[{ a: [[1]] }]]]] });
    expect(ok.status).toBe(200);
  });

  it("a body that is not JSON is 415 request/unsupported_media_type", async () => {
    for (const ct of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/xml",
    ]) {
      await send("POST", `/gateway/${id}/action/increment`, '{"args":[1]}', ct, Errors.unsupportedMediaType);
      await send("PUT", "/actors", '{"name":"counter","key":"ct"}', ct, Errors.unsupportedMediaType);
    }
    // No Content-Type at all, with a body.
    const raw = await rawExchange(
      port,
      `POST /gateway/${id}/action/increment HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n` +
        `Content-Length: 12\r\nConnection: close\r\n\r\n{"args":[1]}`,
    );
    const parsed = parseRaw(raw);
    expect(parsed.status).toBe(415);
    expectErrorShape(parsed.body);
    expect(parsed.body).toMatchObject({ group: "request", code: "unsupported_media_type" });
  });

  it("unknown routes and methods are 404 request/route_not_found", async () => {
    await send("GET", "/", undefined, undefined, Errors.routeNotFound);
    await send("GET", "/nope", undefined, undefined, Errors.routeNotFound);
    await send("POST", `/gateway/${id}/nope/increment`, "{}", JSON_CT, Errors.routeNotFound);
    await send("PATCH", "/actors", "{}", JSON_CT, Errors.routeNotFound);
    await send("GET", `/gateway/${id}/action/increment`, undefined, undefined, Errors.routeNotFound);
    await send("DELETE", "/health", undefined, undefined, Errors.routeNotFound);
    // No credential on an unknown route: still 404, nothing to authenticate against.
    const res = await h.fetch("/definitely/not/here");
    statuses.push(res.status);
    await expectError(res, Errors.routeNotFound);
  });

  it("broken URLs are wire errors too", async () => {
    await send("GET", "/actors/%E0%A4%A", undefined, undefined, Errors.badRequest);
    await send("GET", `/actors/${"x".repeat(300)}`, undefined, undefined, Errors.urlTooLong);
    await send("GET", `/actors/${"x".repeat(65)}`, undefined, undefined, Errors.badRequest);
  });

  it("HTTP the server cannot parse gets a wire error, not a bare 400", async () => {
    const garbage = parseRaw(await rawExchange(port, "THIS IS NOT HTTP\r\n\r\n"));
    expect(garbage.status).toBe(400);
    expectErrorShape(garbage.body);
    expect(garbage.body).toMatchObject({ group: "request", code: "invalid" });

    const huge = `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"y".repeat(20_000)}\r\n\r\n`;
    const tooBig = parseRaw(await rawExchange(port, huge));
    expect(tooBig.status).toBe(431);
    expectErrorShape(tooBig.body);
    expect(tooBig.body).toMatchObject({ group: "request", code: "headers_too_large" });
  });

  it("after all of it: no 500 anywhere, the actor's state intact, no stray actors", async () => {
    expect(statuses.length).toBeGreaterThan(50);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect((await h.json("POST", `/gateway/${id}/action/get`)).body).toEqual({ output: 5 });
    const list = await h.json("GET", "/actors");
    expect(list.body.actors.map((a: { key: string[] }) => a.key)).toEqual([["victim"]]);
    // Still healthy, still serving.
    expect((await h.json("POST", `/gateway/${id}/action/increment`, { args: [1] })).body).toEqual({
      output: 6,
    });
  });
});
