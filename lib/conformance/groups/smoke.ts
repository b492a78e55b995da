/** smoke: the engine answers, says what it is, and wants a credential. */
import { cases } from "../case.js";
import { check, expectError, expectStatus, notApplicable } from "../check.js";
import type { Json } from "../http.js";

export const smokeCases = cases("smoke", [
  {
    id: "smoke.health",
    name: "GET /health answers { status: ok, version }",
    profile: "smoke",
    async run(ctx) {
      const a = await ctx.api.call("GET", "/health");
      expectStatus(a, 200, "GET /health");
      const j = a.json as Json;
      check(j?.status === "ok", `GET /health: status is ${JSON.stringify(j?.status)}, expected "ok"`);
      check(typeof j?.version === "string" && j.version !== "", "GET /health: no version");
    },
  },
  {
    id: "smoke.ready",
    name: "GET /health/ready answers 200",
    profile: "smoke",
    async run(ctx) {
      expectStatus(await ctx.api.call("GET", "/health/ready"), 200, "GET /health/ready");
    },
  },
  {
    id: "smoke.metadata",
    name: "GET /metadata names the engine, its version and protocol versions",
    profile: "smoke",
    async run(ctx) {
      const a = await ctx.api.call("GET", "/metadata");
      expectStatus(a, 200, "GET /metadata");
      const j = a.json as Json;
      check(j?.name === "enclave", `GET /metadata: name is ${JSON.stringify(j?.name)}, expected "enclave"`);
      check(Number.isInteger(j?.apiVersion), "GET /metadata: apiVersion is not an integer");
      check(
        Number.isInteger(j?.runnerProtocolVersion),
        "GET /metadata: runnerProtocolVersion is not an integer",
      );
      const health = (await ctx.api.call("GET", "/health")).json as Json;
      check(
        typeof j?.version === "string" && j.version === health?.version,
        `GET /metadata version ${JSON.stringify(j?.version)} differs from GET /health's ${JSON.stringify(health?.version)}`,
      );
    },
  },
  {
    id: "smoke.authenticated",
    name: "one authenticated call succeeds (GET /actors)",
    profile: "smoke",
    async run(ctx) {
      const token = ctx.anyToken();
      if (token === undefined) {
        notApplicable("no credential given: pass the endpoint as http://NAMESPACE:TOKEN@host:port");
      }
      const a = await ctx.api.call("GET", "/actors", { token, query: { ...ctx.nsQuery(), limit: "1" } });
      expectStatus(a, 200, "GET /actors with the endpoint's token");
      check(Array.isArray((a.json as Json)?.actors), "GET /actors answered without an actors list");
    },
  },
  {
    id: "smoke.unauthenticated",
    name: "a call without a credential is refused with 401",
    profile: "smoke",
    async run(ctx) {
      const a = await ctx.api.call("GET", "/actors", { query: { limit: "1" } });
      expectError(a, 401, "auth", "unauthenticated", "GET /actors without a token");
    },
  },
]);
