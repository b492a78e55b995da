/**
 * tokens: the credential matrix over HTTP, the actor WebSocket and the runner WebSocket
 * (missing, malformed, wrong, other namespace, public vs secret vs admin, revoked, expired);
 * secrets are never echoed; for a local engine, never on disk in the clear nor in its log.
 * Constant-time comparison is checked statistically, as a warning only.
 */
import { randomBytes } from "node:crypto";
import { cases } from "../case.js";
import {
  createPreview,
  expectPreviewServes,
  openPreview,
  workspaceWithServer,
  ws,
  type Preview,
} from "./workspace.js";
import { check, expectError, expectStatus, fail, notApplicable, sleep, waitFor } from "../check.js";
import type { SuiteContext } from "../context.js";
import type { Answer, SocketOutcome } from "../http.js";

/** An actor id nobody has: auth is checked before the actor is looked up. */
const NO_SUCH_ACTOR = "AAAAAAAAAAAAAAAAAAAAAA";

function expectRefused(o: SocketOutcome, status: number | readonly number[], what: string): void {
  const list = typeof status === "number" ? [status] : status;
  if (o.kind === "open") {
    void o.socket.close();
    fail(`${what}: the WebSocket was accepted, expected HTTP ${list.join(" or ")} before the upgrade`);
  }
  if (o.kind === "error") fail(`${what}: ${o.message}`);
  check(
    list.includes(o.status),
    `${what}: expected HTTP ${list.join(" or ")} before the upgrade, got ${o.status}`,
    o.text,
  );
}

/**
 * No access to an actor over its WebSocket: refused before the upgrade (403/404), or upgraded
 * and then closed as "no such actor" (4004) or "rejected" (4003) without an init message; an
 * action sent at once (queued before init) must not run.
 */
async function expectNoActorAccess(o: SocketOutcome, what: string): Promise<void> {
  if (o.kind === "error") fail(`${what}: ${o.message}`);
  if (o.kind === "refused") {
    check([403, 404].includes(o.status), `${what}: expected HTTP 403 or 404, got ${o.status}`, o.text);
    return;
  }
  const s = o.socket;
  s.send({ t: "action", id: 1, name: "increment", args: [100] });
  const closed = await Promise.race([s.closed, sleep(10_000).then(() => undefined)]);
  if (!closed) {
    await s.close();
    fail(`${what}: the WebSocket was accepted and stayed open`);
  }
  check(
    [4003, 4004].includes(closed.code),
    `${what}: the WebSocket closed with ${closed.code}, expected 4004 (or 4003)`,
  );
  check(!s.messages.some((m) => m?.t === "init" || m?.t === "result"), `${what}: the WebSocket was served`);
}

async function expectOpen(o: SocketOutcome, what: string): Promise<void> {
  if (o.kind !== "open") {
    fail(`${what}: the WebSocket was refused (${o.kind === "refused" ? `HTTP ${o.status}` : o.message})`);
  }
  await o.socket.close();
}

/** Every way one credential can be presented, all expected to be refused with `status`. */
async function refusedEverywhere(
  ctx: SuiteContext,
  headers: Record<string, string>,
  status: number,
  what: string,
  actorId = NO_SUCH_ACTOR,
): Promise<Answer[]> {
  const code = status === 401 ? "unauthenticated" : "forbidden";
  const answers: Answer[] = [];
  const http: [string, string, unknown?][] = [
    ["GET", "/actors"],
    ["PUT", "/actors", { name: "enclaveConformance", key: [`conformance-${ctx.runId}`, "auth"] }],
    ["POST", `/gateway/${actorId}/action/snapshot`, { args: [] }],
    ["GET", "/tokens"],
    ["POST", `/actors/${actorId}/sleep`],
    ["GET", "/admin/egress"],
  ];
  for (const [method, path, body] of http) {
    const a = await ctx.api.call(method, path, { headers, ...(body !== undefined ? { body } : {}) });
    expectError(a, status, "auth", code, `${method} ${path} with ${what}`);
    answers.push(a);
  }
  expectRefused(
    await ctx.api.socket(`/gateway/${actorId}/connect`, { headers }),
    status,
    `actor WebSocket with ${what}`,
  );
  expectRefused(await ctx.api.socket("/runners/connect", { headers }), status, `runner connect with ${what}`);
  return answers;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A token of the documented shape that was never issued. */
function forgedToken(kind: "sk" | "pk"): string {
  const id = randomBytes(12)
    .toString("base64url")
    .replace(/[^A-Za-z0-9]/g, "a")
    .slice(0, 16)
    .padEnd(16, "a");
  return `enclave_${kind}_${id}_${randomBytes(32).toString("base64url").slice(0, 43)}`;
}

function flipLast(token: string): string {
  const last = token.at(-1);
  return token.slice(0, -1) + (last === "a" ? "b" : "a");
}

function flipFirst(token: string): string {
  return (token[0] === "a" ? "b" : "a") + token.slice(1);
}

export const tokenCases = cases("tokens", [
  {
    id: "tokens.missing",
    name: "no credential: 401 on every route level, the actor WebSocket and runner connect",
    profile: "core",
    async run(ctx) {
      await refusedEverywhere(ctx, {}, 401, "no credential");
    },
  },
  {
    id: "tokens.malformed",
    name: "a malformed Authorization header: 401 everywhere",
    profile: "core",
    async run(ctx) {
      for (const value of [
        "Bearer",
        "Bearer ",
        "Basic Zm9vOmJhcg==",
        "Token abcdefghijklmnop",
        "Bearer a b",
      ]) {
        await refusedEverywhere(ctx, { authorization: value }, 401, `Authorization "${value}"`);
      }
    },
  },
  {
    id: "tokens.wrong",
    name: "a wrong token (forged, altered, admin token plus a character): 401 everywhere, one answer for all",
    profile: "core",
    async run(ctx) {
      const candidates: [string, string][] = [
        ["a forged secret token", forgedToken("sk")],
        ["a forged public token", forgedToken("pk")],
      ];
      if (ctx.hasAdmin) {
        const admin = ctx.adminToken();
        candidates.push(["the admin token with its last character changed", flipLast(admin)]);
        // If the engine echoed what it was given, this would put the admin token in the answer.
        candidates.push(["the admin token plus one character", `${admin}x`]);
      }
      if (ctx.hasAdmin || ctx.endpointTokenKind === "namespace") {
        candidates.push([
          "a real secret token with its last character changed",
          flipLast(await ctx.secretToken()),
        ]);
      }
      const bodies = new Set<string>();
      for (const [what, token] of candidates) {
        for (const a of await refusedEverywhere(ctx, bearer(token), 401, what)) bodies.add(a.text);
      }
      check(
        bodies.size === 1,
        `401 answers differ with what was wrong (${bodies.size} different bodies): they must not tell a guesser anything`,
        [...bodies].slice(0, 4).join("\n"),
      );
    },
  },
  {
    id: "tokens.other-namespace",
    name: "another namespace's tokens: 403 naming this namespace, no effect on its actors",
    profile: "core",
    async run(ctx) {
      ctx.requireActors();
      const other = await ctx.otherNamespace();
      const { actorId } = await ctx.createActor("other-ns");
      await ctx.act(actorId, "increment", 1);
      for (const [what, token] of [
        ["a secret token of another namespace", other.secret],
        ["a public token of another namespace", other.public],
      ] as const) {
        const q = ctx.nsQuery();
        expectError(
          await ctx.api.call("GET", "/actors", { token, query: q }),
          403,
          "auth",
          "forbidden",
          `GET /actors?namespace=${ctx.namespace} with ${what}`,
        );
        expectError(
          await ctx.api.call("POST", `/gateway/${actorId}/action/increment`, {
            token,
            query: q,
            body: { args: [100] },
          }),
          403,
          "auth",
          "forbidden",
          `an action with ?namespace=${ctx.namespace} and ${what}`,
        );
        // Without naming the namespace, the token implies its own: the actor is not there.
        const implied = await ctx.api.call("POST", `/gateway/${actorId}/action/increment`, {
          token,
          body: { args: [100] },
        });
        expectStatus(implied, [403, 404], `an action on this namespace's actor with ${what}`);
        expectRefused(
          await ctx.api.socket(`/gateway/${actorId}/connect`, { token, query: q }),
          403,
          `the actor WebSocket with ?namespace=${ctx.namespace} and ${what}`,
        );
        await expectNoActorAccess(
          await ctx.api.socket(`/gateway/${actorId}/connect`, { token }),
          `the actor WebSocket with ${what}`,
        );
        expectRefused(
          await ctx.api.socket("/runners/connect", { token, query: q }),
          403,
          `runner connect to ${ctx.namespace} with ${what}`,
        );
      }
      const s = await ctx.snapshot(actorId);
      check(
        s.count === 1,
        `another namespace's token changed this namespace's actor (count ${s.count}, expected 1)`,
      );
    },
  },
  {
    id: "tokens.kinds",
    name: "public < secret < admin: each kind opens exactly its routes",
    profile: "core",
    async run(ctx) {
      ctx.requireActors();
      const { actorId } = await ctx.createActor("kinds");
      const pub = await ctx.publicToken();
      const secret = await ctx.secretToken();
      const admin = ctx.adminToken();
      const forbidden = (a: Answer, what: string) => expectError(a, 403, "auth", "forbidden", what);
      const call = (
        token: string,
        method: string,
        path: string,
        body?: unknown,
        query?: Record<string, string>,
      ) =>
        ctx.api.call(method, path, {
          token,
          ...(body !== undefined ? { body } : {}),
          ...(query ? { query } : {}),
        });
      const action = `/gateway/${actorId}/action/snapshot`;

      // public: public routes only
      expectStatus(await call(pub, "POST", action, { args: [] }), 200, "an action with a public token");
      await expectOpen(
        await ctx.api.socket(`/gateway/${actorId}/connect`, { token: pub }),
        "the actor WebSocket with a public token",
      );
      forbidden(await call(pub, "GET", "/actors"), "GET /actors with a public token");
      forbidden(
        await call(pub, "PUT", "/actors", { name: "enclaveConformance", key: ["x"] }),
        "PUT /actors with a public token",
      );
      forbidden(await call(pub, "GET", `/actors/${actorId}`), "GET /actors/{id} with a public token");
      forbidden(await call(pub, "DELETE", `/actors/${actorId}`), "DELETE /actors/{id} with a public token");
      forbidden(await call(pub, "GET", "/tokens"), "GET /tokens with a public token");
      forbidden(await call(pub, "POST", `/actors/${actorId}/sleep`), "forced sleep with a public token");
      forbidden(await call(pub, "GET", "/admin/egress"), "GET /admin/egress with a public token");
      expectRefused(
        await ctx.api.socket("/runners/connect", { token: pub }),
        403,
        "runner connect with a public token",
      );

      // secret: secret and public routes of its namespace, never management
      expectStatus(await call(secret, "POST", action, { args: [] }), 200, "an action with a secret token");
      expectStatus(await call(secret, "GET", "/actors"), 200, "GET /actors with a secret token");
      expectStatus(
        await call(secret, "GET", `/actors/${actorId}`),
        200,
        "GET /actors/{id} with a secret token",
      );
      forbidden(await call(secret, "GET", "/tokens"), "GET /tokens with a secret token");
      forbidden(
        await call(secret, "POST", "/tokens", { namespace: ctx.namespace, kind: "secret" }),
        "POST /tokens with a secret token",
      );
      forbidden(await call(secret, "GET", "/namespaces"), "GET /namespaces with a secret token");
      forbidden(await call(secret, "POST", `/actors/${actorId}/sleep`), "forced sleep with a secret token");
      forbidden(await call(secret, "GET", "/admin/egress"), "GET /admin/egress with a secret token");
      forbidden(await call(secret, "GET", "/admin/backup"), "GET /admin/backup with a secret token");
      await expectOpen(
        await ctx.api.socket("/runners/connect", { token: secret }),
        "runner connect with a secret token",
      );

      // admin: everything, in any namespace it names
      const q = ctx.nsQuery();
      expectStatus(await call(admin, "POST", action, { args: [] }, q), 200, "an action with the admin token");
      expectStatus(
        await call(admin, "GET", "/actors", undefined, q),
        200,
        "GET /actors with the admin token",
      );
      expectStatus(await call(admin, "GET", "/tokens"), 200, "GET /tokens with the admin token");
      expectStatus(await call(admin, "GET", "/admin/egress"), 200, "GET /admin/egress with the admin token");
      await expectOpen(
        await ctx.api.socket(`/gateway/${actorId}/connect`, { token: admin, query: q }),
        "the actor WebSocket with the admin token",
      );
      await expectOpen(
        await ctx.api.socket("/runners/connect", { token: admin, query: q }),
        "runner connect with the admin token",
      );
    },
  },
  {
    id: "tokens.revoked",
    name: "a revoked token: 403 at once everywhere, its open WebSocket closed (4003)",
    profile: "core",
    async run(ctx) {
      ctx.requireActors();
      const { actorId } = await ctx.createActor("revoked");
      const t = await ctx.createToken("secret");
      expectStatus(
        await ctx.api.call("GET", "/actors", { token: t.secret }),
        200,
        "GET /actors with a fresh secret token",
      );
      const open = await ctx.api.socket(`/gateway/${actorId}/connect`, { token: t.secret });
      check(open.kind === "open", "the actor WebSocket with a fresh secret token was refused");
      try {
        await open.socket.next("the init message", (m) => m?.t === "init");
        await ctx.revokeToken(t.id);
        await refusedEverywhere(ctx, bearer(t.secret), 403, "a revoked token", actorId);
        const closed = await Promise.race([open.socket.closed, sleep(10_000).then(() => undefined)]);
        check(
          closed !== undefined,
          "the WebSocket opened with the token stayed open after the token was revoked",
        );
        check(
          closed.code === 4003,
          `the WebSocket of a revoked token closed with ${closed.code}, expected 4003`,
        );
      } finally {
        await open.socket.close();
      }
    },
  },
  {
    id: "tokens.expired",
    name: "an expired token: 403 everywhere once its time has passed",
    profile: "core",
    async run(ctx) {
      ctx.requireActors();
      const { actorId } = await ctx.createActor("expired");
      const t = await ctx.createToken("secret", { expiresAt: Date.now() + 4000 });
      expectStatus(
        await ctx.api.call("GET", "/actors", { token: t.secret }),
        200,
        "GET /actors before the token expires",
      );
      await waitFor(
        "the token to expire",
        async () => (await ctx.api.call("GET", "/actors", { token: t.secret })).status === 403,
        20_000,
        250,
      );
      await refusedEverywhere(ctx, bearer(t.secret), 403, "an expired token", actorId);
    },
  },
  {
    id: "tokens.auth-before-body",
    name: "credentials are checked before the body is validated",
    profile: "core",
    async run(ctx) {
      expectError(
        await ctx.api.call("POST", "/tokens", { rawBody: "{not json" }),
        401,
        "auth",
        "unauthenticated",
        "POST /tokens with a broken body and no token",
      );
      expectError(
        await ctx.api.call("PUT", "/actors", { body: { bogus: true } }),
        401,
        "auth",
        "unauthenticated",
        "PUT /actors with an invalid body and no token",
      );
      if (ctx.hasAdmin) {
        const pub = await ctx.publicToken();
        expectError(
          await ctx.api.call("PUT", "/actors", { token: pub, body: { bogus: true } }),
          403,
          "auth",
          "forbidden",
          "PUT /actors with an invalid body and a public token",
        );
        expectError(
          await ctx.api.call("POST", "/tokens", { token: pub, rawBody: "{not json" }),
          403,
          "auth",
          "forbidden",
          "POST /tokens with a broken body and a public token",
        );
      }
    },
  },
  {
    id: "tokens.shown-once",
    name: "a secret is shown once: token lists carry no secret or digest",
    profile: "core",
    async run(ctx) {
      const t = await ctx.createToken("public");
      const list = await ctx.admin("GET", "/tokens");
      expectStatus(list, 200, "GET /tokens");
      check(!list.text.includes(t.secret), "GET /tokens shows a secret");
      check(!list.text.includes(t.secret.slice(-43)), "GET /tokens shows the secret part of a token");
      for (const entry of list.json?.tokens ?? []) {
        for (const field of ["secret", "digest", "hash", "token"]) {
          check(!(field in entry), `GET /tokens lists a "${field}" field`);
        }
      }
    },
  },
  {
    id: "tokens.subprotocol-not-echoed",
    name: "a token offered as a WebSocket subprotocol is not echoed back",
    profile: "core",
    async run(ctx) {
      const admin = ctx.adminToken();
      ctx.requireActors();
      const { actorId } = await ctx.createActor("subprotocol");
      const o = await ctx.api.socket(`/gateway/${actorId}/connect`, {
        protocols: [`enclave.token.${admin}`, "enclave.v1"],
        query: ctx.nsQuery(),
      });
      check(o.kind === "open", "the actor WebSocket with the admin token as a subprotocol was refused");
      try {
        check(
          o.socket.protocol === "enclave.v1",
          `the server selected "${o.socket.protocol.slice(0, 20)}...", not enclave.v1`,
        );
        const offered = Object.values(o.socket.handshakeHeaders).some((v) => v.includes(admin));
        check(!offered, "the upgrade answer carries the admin token");
      } finally {
        await o.socket.close();
      }
    },
  },
  {
    id: "tokens.preview",
    name: "preview tokens: format, expiry, revocation, no wake on a bad token",
    profile: "core",
    async run(ctx) {
      ctx.adminToken();
      const w = await workspaceWithServer(ctx, "tokens-preview");
      const id = w.actorId;
      const before = Date.now();
      const p = await createPreview(ctx, id, 120);
      check(/^[a-z0-9]{32}$/.test(p.token), `a preview token is not 32 characters of [a-z0-9]: ${p.token}`);
      check(p.path === `/gateway/${id}/preview/${p.token}/`, `unexpected preview path ${p.path}`);
      // Generous bounds: a remote engine's clock may differ from the suite's by a little.
      check(
        Math.abs(p.expiresAt - (before + 120_000)) < 60_000,
        `expiresAt ${p.expiresAt} is not about 120 s from now (${before})`,
      );
      const d = await createPreview(ctx, id);
      check(
        Math.abs(d.expiresAt - (before + 3_600_000)) < 60_000,
        "without ttlSeconds a token does not last 3600 s",
      );
      const tooLong = await ctx.callAction(id, "createSignedPreviewUrl", [3000, 86_401]);
      expectStatus(tooLong, 400, "createSignedPreviewUrl with ttlSeconds 86401");

      // The token is the only credential needed, it reaches the guest, and no Authorization goes in.
      await expectPreviewServes(ctx, p, "with no credential");
      const withAuth = await openPreview(ctx, `${p.path}a`, await ctx.secretToken());
      check(withAuth.text.endsWith("auth=no"), "the caller's Authorization header reached the guest server");
      // It is not an Enclave credential anywhere else.
      const asBearer = await ctx.api.call("GET", "/actors", {
        token: p.token,
        query: { name: "x", key: "y" },
      });
      expectStatus(asBearer, 401, "GET /actors with a preview token as the bearer");

      // Bad tokens: 404, and nothing is woken.
      await ctx.forceSleep(id);
      await ctx.waitStatus(id, "sleeping");
      const t = p.token;
      for (const bad of [
        "a".repeat(32),
        t.slice(0, 31),
        `${t}0`,
        t.toUpperCase(),
        `${t.slice(0, 31)}%00`,
        "..",
      ]) {
        const a = await openPreview(ctx, `/gateway/${id}/preview/${bad}/`);
        check(a.status === 404, `preview token ${JSON.stringify(bad)}: expected 404, got ${a.status}`);
      }
      check((await ctx.actorStatus(id)) === "sleeping", "a bad preview token woke the workspace");

      // A valid one wakes it (its startup process serves again), revocation and expiry end it.
      await expectPreviewServes(ctx, p, "after the workspace slept");
      check(
        (await ws(ctx, id, "expireSignedPreviewUrl", p.token)) === true,
        "expireSignedPreviewUrl returned false",
      );
      const revoked = await openPreview(ctx, p.path);
      expectError(revoked, 404, "workspace", "preview_not_found", "a revoked preview URL");
      const short = await createPreview(ctx, id, 1);
      await expectPreviewServes(ctx, short, "before it expired");
      await sleep(1500);
      const expired = await openPreview(ctx, short.path);
      check(expired.status === 404, `an expired preview URL answered ${expired.status}`);
      const live = (await ws(ctx, id, "listSignedPreviewUrls")) as unknown as Preview[];
      check(!live.some((l) => l.token === short.token), "an expired token is still listed");
    },
  },
  {
    id: "tokens.constant-time",
    name: "token comparison shows no timing difference (statistical; a warning, never a failure)",
    profile: "core",
    timeoutMs: 60_000,
    async run(ctx, t) {
      const admin = ctx.adminToken();
      const near = flipLast(admin);
      const far = flipFirst(admin);
      const samples: Record<"near" | "far", number[]> = { near: [], far: [] };
      const once = async (which: "near" | "far") => {
        const started = performance.now();
        const a = await ctx.api.call("GET", "/tokens", { token: which === "near" ? near : far });
        samples[which].push(performance.now() - started);
        expectStatus(a, 401, "GET /tokens with a wrong admin token");
      };
      for (let i = 0; i < 20; i++) await once(i % 2 ? "near" : "far"); // warm up
      samples.near = [];
      samples.far = [];
      for (let i = 0; i < 300; i++) await once(i % 2 ? "near" : "far");
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const mNear = median(samples.near);
      const mFar = median(samples.far);
      const diff = mNear - mFar;
      if (Math.abs(diff) > 0.25 && Math.abs(diff) / Math.min(mNear, mFar) > 0.15) {
        t.warn(
          `a wrong admin token differing in its last character answers in ${mNear.toFixed(3)} ms (median), ` +
            `one differing in its first in ${mFar.toFixed(3)} ms: check that tokens are compared in constant time`,
        );
      }
    },
  },
]);

/** Run last: everything the run saw, the data directory and the log, searched for secrets. */
export const tokenFinalCases = cases("tokens", [
  {
    id: "tokens.never-echoed",
    name: "no answer of the whole run carried the admin token (or a secret after its creation)",
    profile: "smoke",
    async run(ctx) {
      check(ctx.scanner.scanned > 0, "no answer was scanned");
      if (!ctx.hasAdmin && ctx.anyToken() === undefined)
        notApplicable("no credential given, so none could leak");
      const leaks = ctx.scanner.leaks;
      if (leaks.length > 0) {
        fail(
          `${leaks.length} answer(s) carried a secret: ${leaks
            .slice(0, 5)
            .map((l) => `${l.secret} in ${l.where}`)
            .join("; ")}`,
          leaks.map((l) => `${l.secret} in ${l.where}`).join("\n"),
        );
      }
    },
  },
  {
    id: "tokens.not-on-disk",
    name: "no secret is in the data directory in the clear (byte search of every file)",
    profile: "core",
    async run(ctx) {
      if (!ctx.local) notApplicable("remote deployment: its data directory is not readable from here");
      const files = await ctx.local.dataFiles();
      check(files.length > 0, "the data directory is empty");
      const found: string[] = [];
      for (const { value, label } of ctx.scanner.values()) {
        const needles = [value];
        // A namespace token's secret part (after its id) must not be stored either.
        const m = /^enclave_(?:sk|pk)_[A-Za-z0-9-]{16}_([A-Za-z0-9_-]{43})$/.exec(value);
        if (m) needles.push(m[1]!);
        for (const { file, bytes } of files) {
          if (needles.some((n) => bytes.includes(Buffer.from(n, "utf8")))) found.push(`${label} in ${file}`);
        }
      }
      check(found.length === 0, `secrets found in the data directory: ${found.join(", ")}`);
    },
  },
  {
    id: "tokens.not-in-log",
    name: "no secret is in the engine's log (or the conformance runner's)",
    profile: "core",
    async run(ctx) {
      if (!ctx.local) notApplicable("remote deployment: the engine's log is not readable from here");
      const engineLog = ctx.local.output();
      const runnerLog = ctx.runnerLog.join("");
      check(engineLog.length > 0, "the engine wrote no log at all");
      const found: string[] = [];
      for (const { value, label } of ctx.scanner.values()) {
        if (engineLog.includes(value)) found.push(`${label} in the engine's log`);
        if (runnerLog.includes(value)) found.push(`${label} in the conformance runner's log`);
      }
      check(found.length === 0, `secrets found in logs: ${found.join(", ")}`);
    },
  },
]);
