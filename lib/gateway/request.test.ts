/** `ANY /gateway/{id}/request/*`: the actor's own HTTP handler, with bytes in and out. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import { Errors, UserError } from "../errors.js";
import { ADMIN_TOKEN, expectError, startEngine, type Harness } from "./testing/harness.js";

const web = actor({
  state: { hits: 0 },
  actions: { hits: (c) => c.state.hits },
  onRequest: async (c, request) => {
    c.state.hits++;
    const url = new URL(request.url);
    if (url.pathname === "/binary") {
      return new Response(Uint8Array.from([0, 255, 1, 254, 10, 13]), {
        status: 203,
        headers: {
          "content-type": "application/octet-stream",
          "x-actor": "web",
          "cache-control": "no-store",
        },
      });
    }
    if (url.pathname === "/empty") return new Response(null, { status: 204, headers: { "x-empty": "yes" } });
    if (url.pathname === "/teapot") return new Response("short and stout", { status: 418 });
    if (url.pathname === "/refuse") throw new UserError("not here", { code: "nope", metadata: { p: 1 } });
    if (url.pathname === "/crash") throw new Error("secret crash detail");
    const body = new Uint8Array(await request.arrayBuffer());
    const headers: Record<string, string> = {};
    request.headers.forEach((v, k) => (headers[k] = v));
    return Response.json(
      {
        method: request.method,
        path: url.pathname,
        search: url.search,
        query: [...url.searchParams],
        headers,
        body: Buffer.from(body).toString("base64"),
        hits: c.state.hits,
      },
      { status: 201, headers: { "x-actor": "web" } },
    );
  },
});
const plain = actor({ state: {}, actions: { ping: () => "pong" } });

interface Echo {
  method: string;
  path: string;
  search: string;
  query: [string, string][];
  headers: Record<string, string>;
  body: string;
  hits: number;
}

describe("raw requests", () => {
  let h: Harness;
  let id: string;
  let plainId: string;

  beforeAll(async () => {
    h = await startEngine({ use: { web, plain }, options: { limits: { messageBytes: 4096 } } });
    id = (await h.json("PUT", "/actors", { name: "web", key: ["r"] })).body.actor.actorId as string;
    plainId = (await h.json("PUT", "/actors", { name: "plain", key: ["r"] })).body.actor.actorId as string;
  });
  afterAll(async () => {
    h.assertNeverReceived(ADMIN_TOKEN);
    h.assertNeverReceived("secret crash detail");
    await h.close();
  });

  it("method, path after /request, query and headers reach onRequest; the credential does not", async () => {
    const res = await h.admin(`/gateway/${id}/request/foo/bar?x=1&y=two&x=3`, {
      headers: { "x-custom": "hello", accept: "application/json" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-actor")).toBe("web");
    const echo = (await res.json()) as Echo;
    expect(echo.method).toBe("GET");
    expect(echo.path).toBe("/foo/bar");
    expect(echo.search).toBe("?x=1&y=two&x=3");
    expect(echo.query).toEqual([
      ["x", "1"],
      ["y", "two"],
      ["x", "3"],
    ]);
    expect(echo.headers["x-custom"]).toBe("hello");
    expect(echo.headers.accept).toBe("application/json");
    expect(echo.headers.authorization).toBeUndefined();
    expect(JSON.stringify(echo)).not.toContain(ADMIN_TOKEN);
    expect(echo.body).toBe("");
  });

  it("the path is the one the caller sent, encoding kept, and / when nothing follows /request", async () => {
    const cases: [string, string][] = [
      ["/request/a%20b/c%2Fd", "/a%20b/c%2Fd"],
      ["/request/%C3%A9t%C3%A9", "/%C3%A9t%C3%A9"],
      ["/request/", "/"],
      ["/request", "/"],
      ["/request?only=query", "/"],
      ["/request/trailing/", "/trailing/"],
      ["/request//evil.example/x", "//evil.example/x"],
    ];
    for (const [suffix, path] of cases) {
      const res = await h.admin(`/gateway/${id}${suffix}`);
      expect(res.status, suffix).toBe(201);
      expect(((await res.json()) as Echo).path, suffix).toBe(path);
    }
  });

  it("body bytes arrive unchanged whatever the content type, for every method with a body", async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      const res = await h.admin(`/gateway/${id}/request/upload`, {
        method,
        headers: { "content-type": "application/octet-stream" },
        body: bytes,
      });
      expect(res.status).toBe(201);
      const echo = (await res.json()) as Echo;
      expect(echo.method).toBe(method);
      expect([...Buffer.from(echo.body, "base64")]).toEqual([...bytes]);
      expect(echo.headers["content-type"]).toBe("application/octet-stream");
    }
    // JSON and text are passed as bytes too, not parsed (not even when invalid).
    for (const [ct, text] of [
      ["application/json", '{"a":1}'],
      ["application/json", "{not json"],
      ["text/plain; charset=utf-8", "héllo"],
      ["application/x-www-form-urlencoded", "a=1&b=2"],
    ] as const) {
      const res = await h.admin(`/gateway/${id}/request/text`, {
        method: "POST",
        headers: { "content-type": ct },
        body: text,
      });
      expect(res.status).toBe(201);
      expect(Buffer.from(((await res.json()) as Echo).body, "base64").toString("utf8")).toBe(text);
    }
  });

  it("status, headers and body of the actor's Response come back", async () => {
    const bin = await h.admin(`/gateway/${id}/request/binary`);
    expect(bin.status).toBe(203);
    expect(bin.headers.get("content-type")).toBe("application/octet-stream");
    expect(bin.headers.get("x-actor")).toBe("web");
    expect(bin.headers.get("cache-control")).toBe("no-store");
    expect([...new Uint8Array(await bin.arrayBuffer())]).toEqual([0, 255, 1, 254, 10, 13]);

    const empty = await h.admin(`/gateway/${id}/request/empty`, { method: "POST" });
    expect(empty.status).toBe(204);
    expect(empty.headers.get("x-empty")).toBe("yes");
    expect(await empty.text()).toBe("");

    const teapot = await h.admin(`/gateway/${id}/request/teapot`);
    expect(teapot.status).toBe(418);
    expect(await teapot.text()).toBe("short and stout");
  });

  it("errors from onRequest: UserError as is, anything else internal without details", async () => {
    const refused = await expectError(await h.admin(`/gateway/${id}/request/refuse`), {
      group: "user",
      code: "nope",
      status: 400,
    });
    expect(refused).toEqual({ group: "user", code: "nope", message: "not here", metadata: { p: 1 } });
    const crash = await expectError(await h.admin(`/gateway/${id}/request/crash`), Errors.internal);
    expect(crash.message).not.toContain("secret");
  });

  it("the handler runs in the actor: its state changes persist like an action's", async () => {
    const before = (await h.json("POST", `/gateway/${id}/action/hits`)).body.output as number;
    await h.admin(`/gateway/${id}/request/count`);
    await h.admin(`/gateway/${id}/request/count`);
    expect((await h.json("POST", `/gateway/${id}/action/hits`)).body.output).toBe(before + 2);
  });

  it("an actor without onRequest is 404 actor/no_request_handler; unknown actor 404", async () => {
    await expectError(await h.admin(`/gateway/${plainId}/request/x`), Errors.noRequestHandler);
    await expectError(
      await h.admin(`/gateway/${plainId}/request`, { method: "POST", body: "x" }),
      Errors.noRequestHandler,
    );
    await expectError(await h.admin("/gateway/AAAAAAAAAAAAAAAAAAAAAA/request/x"), Errors.actorNotFound);
  });

  it("a body over limits.messageBytes is 413", async () => {
    const res = await h.admin(`/gateway/${id}/request/big`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array(5000),
    });
    await expectError(res, Errors.bodyTooLarge);
  });

  it("needs a credential like every gateway route", async () => {
    await expectError(await h.fetch(`/gateway/${id}/request/x`), Errors.unauthenticated);
  });
});
