/**
 * Credentials: who may call what. Missing, malformed or wrong tokens are 401 before anything
 * else is looked at; the admin token names a namespace with ?namespace=; the token never comes
 * back in any response; every route must declare its auth level.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import { createEngine } from "../create-engine.js";
import { Errors } from "../errors.js";
import { ADMIN_TOKEN, expectError, startEngine, type Harness } from "./testing/harness.js";

const counter = actor({
  state: { count: 0 },
  actions: { increment: (c, n: number) => (c.state.count += n), get: (c) => c.state.count },
  onRequest: () => new Response("raw"),
});

describe("auth over HTTP", () => {
  let h: Harness;
  let id: string;

  beforeAll(async () => {
    h = await startEngine({ use: { counter }, options: { limits: { messageBytes: 4096 } } });
    const { body } = await h.json("PUT", "/actors", { name: "counter", key: ["auth"] });
    id = body.actor.actorId as string;
    await h.json("POST", `/gateway/${id}/action/increment`, { args: [3] });
  });
  afterAll(async () => {
    h.assertNeverReceived(ADMIN_TOKEN);
    await h.close();
  });

  /** Every authenticated route, with a valid body where it takes one. */
  const routes = (): { method: string; path: string; body?: string }[] => [
    { method: "PUT", path: "/actors", body: '{"name":"counter","key":"auth"}' },
    { method: "POST", path: "/actors", body: '{"name":"counter","key":"new"}' },
    { method: "GET", path: "/actors" },
    { method: "GET", path: `/actors/${id}` },
    { method: "DELETE", path: `/actors/${id}` },
    { method: "POST", path: `/actors/${id}/sleep` },
    { method: "POST", path: `/gateway/${id}/action/increment`, body: '{"args":[100]}' },
    { method: "GET", path: `/gateway/${id}/connect` },
    { method: "GET", path: `/gateway/${id}/request/x` },
    { method: "POST", path: `/gateway/${id}/request/x`, body: "raw" },
  ];

  const call = (r: { method: string; path: string; body?: string }, authorization?: string) => {
    const headers: Record<string, string> = {};
    if (r.body !== undefined) headers["content-type"] = "application/json";
    if (authorization !== undefined) headers.authorization = authorization;
    return h.fetch(r.path, { method: r.method, headers, ...(r.body === undefined ? {} : { body: r.body }) });
  };

  it("no Authorization header: 401 auth/unauthenticated on every authenticated route", async () => {
    for (const r of routes()) await expectError(await call(r), Errors.unauthenticated);
  });

  it("a malformed Authorization header is 401", async () => {
    for (const header of [
      "Basic x",
      "Bearer",
      "Bearer ",
      "Bearer  " + ADMIN_TOKEN,
      ADMIN_TOKEN,
      "Token " + ADMIN_TOKEN,
      `Bearer ${ADMIN_TOKEN} extra`,
    ]) {
      for (const r of routes()) await expectError(await call(r, header), Errors.unauthenticated);
    }
  });

  it("a wrong token is 401, including a prefix or an extension of the right one", async () => {
    for (const token of ["b".repeat(32), ADMIN_TOKEN.slice(0, 31), ADMIN_TOKEN + "a", "x"]) {
      for (const r of routes()) await expectError(await call(r, `Bearer ${token}`), Errors.unauthenticated);
    }
  });

  it("auth is checked before the body: bad, huge or mistyped bodies without a token are 401", async () => {
    const action = `/gateway/${id}/action/increment`;
    const cases: { body: string; ct: string }[] = [
      { body: "{not json", ct: "application/json" },
      { body: '{"args":"5","extra":1}', ct: "application/json" },
      { body: JSON.stringify({ args: ["x".repeat(10_000)] }), ct: "application/json" },
      { body: "hello", ct: "text/plain" },
    ];
    for (const c of cases) {
      for (const path of [action, "/actors"]) {
        const res = await h.fetch(path, { method: "POST", headers: { "content-type": c.ct }, body: c.body });
        await expectError(res, Errors.unauthenticated);
        const wrong = await h.fetch(path, {
          method: "POST",
          headers: { "content-type": c.ct, authorization: "Bearer nope-nope-nope-nope" },
          body: c.body,
        });
        await expectError(wrong, Errors.unauthenticated);
      }
    }
    // Nothing changed, nothing was created.
    expect((await h.json("POST", `/gateway/${id}/action/get`)).body).toEqual({ output: 3 });
    expect((await h.json("GET", "/actors")).body.actors).toHaveLength(1);
  });

  it("the admin token works on every route; ?namespace=default is the default", async () => {
    expect((await h.admin(`/actors/${id}`)).status).toBe(200);
    expect((await h.admin(`/actors/${id}?namespace=default`)).status).toBe(200);
    expect((await h.admin("/actors?namespace=default")).status).toBe(200);
  });

  it("?namespace=nope with the admin token is 404 namespace/not_found, for every route", async () => {
    for (const r of routes()) {
      const sep = r.path.includes("?") ? "&" : "?";
      const res = await call({ ...r, path: `${r.path}${sep}namespace=nope` }, `Bearer ${ADMIN_TOKEN}`);
      await expectError(res, Errors.namespaceNotFound);
    }
    // Invalid names too (never looked up as keys).
    for (const ns of ["", "UPPER", "a/b", "x".repeat(100), "%00"]) {
      await expectError(await h.admin(`/actors?namespace=${ns}`), Errors.namespaceNotFound);
    }
    // And nothing happened in the default namespace meanwhile.
    expect((await h.json("POST", `/gateway/${id}/action/get`)).body).toEqual({ output: 3 });
  });

  it("health and metadata need no credential", async () => {
    for (const path of ["/health", "/health/ready", "/metadata"]) {
      expect((await h.fetch(path)).status).toBe(200);
    }
  });
});

describe("routes must declare their auth", () => {
  it("adding a route without config.auth (or with an unknown level) throws; with one, it works", async () => {
    const running = await createEngine({
      registry: { use: { counter } },
      storage: { driver: "memory" },
      gateway: { host: "127.0.0.1", port: 0 },
      auth: { adminToken: ADMIN_TOKEN },
      log: { level: "silent" },
      env: {},
    });
    try {
      expect(() => running.server.get("/x", async () => "x")).toThrow(/does not declare its auth/);
      expect(() => running.server.route({ method: "POST", url: "/y", handler: async () => "y" })).toThrow(
        /does not declare its auth/,
      );
      expect(() =>
        running.server.get("/z", { config: { auth: "nobody" as never } }, async () => "z"),
      ).toThrow(/unknown auth level/);
      // Inside a plugin the rule holds too: registration fails, so startup fails.
      running.server.register(async (scope) => {
        scope.get("/in-plugin", async () => "p");
      });
      await expect(running.server.ready()).rejects.toThrow(/does not declare its auth/);
    } finally {
      await running.close();
    }
  });

  it("a vendor route that declares its auth is served, and protected", async () => {
    const running = await createEngine({
      registry: { use: { counter } },
      storage: { driver: "memory" },
      gateway: { host: "127.0.0.1", port: 0 },
      auth: { adminToken: ADMIN_TOKEN },
      log: { level: "silent" },
      env: {},
    });
    try {
      running.server.get("/vendor/open", { config: { auth: "none" } }, async () => ({ open: true }));
      running.server.get("/vendor/admin", { config: { auth: "admin" } }, async () => ({ admin: true }));
      const { url } = await running.listen();
      expect(await (await fetch(`${url}/vendor/open`)).json()).toEqual({ open: true });
      await expectError(await fetch(`${url}/vendor/admin`), Errors.unauthenticated);
      const ok = await fetch(`${url}/vendor/admin`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(await ok.json()).toEqual({ admin: true });
    } finally {
      await running.close();
    }
  });
});
