/**
 * Namespaces and namespace tokens over real sockets (fetch and `ws` on 127.0.0.1) against a real
 * engine with a file-system store: the whole credential matrix over HTTP, WebSocket (header and
 * `enclave.token.` subprotocol) and the management routes; namespace isolation; the namespace
 * routes. At the end the engine is closed and the raw bytes of every file of its data directory
 * and everything it logged are searched for every token the test saw: none may be there.
 *
 * The admin token is configured explicitly (`auth.adminToken`), so the engine never generates
 * one and `DATA_DIR/admin-token` never exists: no file is excluded from the search.
 */
import { randomBytes } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import { Errors } from "../errors.js";
import { createLogger } from "../telemetry/index.js";
import { CloseCodes, TOKEN_SUBPROTOCOL_PREFIX, WS_PROTOCOL } from "../wire/protocol.js";
import { ADMIN_TOKEN_FILE } from "./admin-token.js";
import {
  removeDir,
  sleep,
  startEngine,
  tempDir,
  type Harness,
  type Json,
  type WsClient,
} from "./testing/harness.js";

/** A random admin token, so that finding it anywhere can only mean it was written there. */
const ADMIN = `adm-${randomBytes(24).toString("base64url")}`;
/** Written on purpose into actor state and into the log: proves the searches see raw bytes. */
const CANARY = `canary-${randomBytes(24).toString("hex")}`;

/** The exact bodies: no metadata, nothing that tells one failure from another. */
const UNAUTHENTICATED = {
  group: Errors.unauthenticated.group,
  code: Errors.unauthenticated.code,
  message: Errors.unauthenticated.message,
};
/** A header that is not `Bearer TOKEN` says so (about the header's form, nothing about tokens). */
const MALFORMED_HEADER = {
  group: Errors.unauthenticated.group,
  code: Errors.unauthenticated.code,
  message: "The Authorization header must be `Bearer TOKEN`",
};
const FORBIDDEN = {
  group: Errors.forbidden.group,
  code: Errors.forbidden.code,
  message: Errors.forbidden.message,
};

const counter = actor({
  state: { count: 0, note: "" },
  actions: {
    increment: (c, n: number) => (c.state.count += n),
    get: (c) => c.state.count,
    remember: (c, note: string) => {
      c.state.note = note;
      return true;
    },
    crash: (_c, why: string) => {
      throw new Error(why);
    },
  },
  onRequest: async (_c, request) => new Response(`raw ${request.method}`),
});

// ---- log capture -------------------------------------------------------------------------------

const logChunks: Buffer[] = [];
const logSink = new Writable({
  write(chunk: Buffer | string, _encoding, callback) {
    logChunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    callback();
  },
});
/** The engine's own logger (with its redaction), at the most verbose level, into a buffer. */
const logger = createLogger({ level: "trace", destination: logSink });

// ---- the engine --------------------------------------------------------------------------------

let h: Harness;
let dataDir: string;
/** Every namespace token this test was given (the full `enclave_..._..._...` string). */
const secrets: string[] = [];

interface Created {
  id: string;
  secret: string;
  info: Json;
}

beforeAll(async () => {
  dataDir = await tempDir("enclave-tokens-");
  // Storage is given here, not with `persistent`, so the harness does not remove the directory
  // at close: the search below runs on it after the engine has closed.
  h = await startEngine({
    use: { counter },
    options: {
      storage: { driver: "fileSystem", fileSystem: { path: dataDir } },
      auth: { adminToken: ADMIN },
      logger,
    },
  });
});

afterAll(async () => {
  await h?.close();
  if (dataDir) await removeDir(dataDir);
});

// ---- helpers -----------------------------------------------------------------------------------

const bearer = (token: string) => `Bearer ${token}`;

/** A request with exactly this Authorization header (none when undefined); JSON body if given. */
function send(authorization: string | undefined, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return h.fetch(path, init);
}

async function sendJson(
  authorization: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json; text: string; res: Response }> {
  const res = await send(authorization, method, path, body);
  const text = await res.text();
  let parsed: Json;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, text, res };
}

const admin = (method: string, path: string, body?: unknown) => sendJson(bearer(ADMIN), method, path, body);

/** Status and body exactly; `what` names the case in a failure. */
async function expectExactly(
  res: Response | Promise<Response>,
  status: number,
  body: object,
  what: string,
): Promise<void> {
  const r = await res;
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text: the comparison below fails and shows it
  }
  expect({ what, status: r.status, body: parsed }).toEqual({ what, status, body });
}

async function createNamespace(name: string): Promise<void> {
  const r = await admin("POST", "/namespaces", { name });
  expect(r.status, r.text).toBe(201);
}

async function createToken(
  namespace: string,
  kind: "secret" | "public",
  extra: object = {},
): Promise<Created> {
  const r = await admin("POST", "/tokens", { namespace, kind, ...extra });
  expect(r.status, r.text).toBe(201);
  secrets.push(r.body.secret as string);
  return { id: r.body.token.id as string, secret: r.body.secret as string, info: r.body.token };
}

/** The part of a token after `enclave_xk_ID_`: the secret proper. */
function secretPart(token: string): string {
  const m = /^enclave_(?:sk|pk)_[A-Za-z0-9-]{16}_([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m?.[1]) throw new Error("not a namespace token");
  return m[1];
}

interface Route {
  method: string;
  path: string;
  body?: unknown;
}

/** Admin-only routes (the management API and the admin's actor control). */
const managementRoutes = (id: string): Route[] => [
  { method: "GET", path: "/namespaces" },
  { method: "POST", path: "/namespaces", body: { name: "never-created" } },
  { method: "DELETE", path: "/namespaces/team-b" },
  { method: "GET", path: "/tokens" },
  { method: "GET", path: "/tokens?namespace=team-a" },
  { method: "POST", path: "/tokens", body: { namespace: "team-a", kind: "secret" } },
  { method: "DELETE", path: "/tokens/0123456789abcdef" },
  { method: "GET", path: "/admin/egress" },
  { method: "GET", path: "/admin/backup" },
  { method: "POST", path: `/actors/${id}/sleep` },
];

/** Secret routes: the actor directory. */
const secretRoutes = (id: string): Route[] => [
  { method: "PUT", path: "/actors", body: { name: "counter", key: ["matrix"] } },
  { method: "POST", path: "/actors", body: { name: "counter", key: ["matrix-new"] } },
  { method: "GET", path: "/actors" },
  { method: "GET", path: `/actors/${id}` },
  { method: "DELETE", path: `/actors/${id}` },
];

/** Public routes over HTTP (the WebSocket one is tried separately, as a real upgrade too). */
const publicRoutes = (id: string): Route[] => [
  { method: "POST", path: `/gateway/${id}/action/get`, body: { args: [] } },
  { method: "GET", path: `/gateway/${id}/request/x` },
  { method: "POST", path: `/gateway/${id}/request/x`, body: { raw: true } },
  { method: "GET", path: `/gateway/${id}/connect` },
];

const withQuery = (path: string, query: string) => `${path}${path.includes("?") ? "&" : "?"}${query}`;

interface WsCred {
  /** The Authorization header to send, if any. */
  header?: string;
  /** A token to offer as the `enclave.token.TOKEN` subprotocol, if any. */
  subprotocol?: string;
}

function openWs(path: string, cred: WsCred): WsClient {
  const headers: Record<string, string> = {};
  if (cred.header !== undefined) headers.authorization = cred.header;
  const protocols = [WS_PROTOCOL];
  if (cred.subprotocol !== undefined) protocols.push(`${TOKEN_SUBPROTOCOL_PREFIX}${cred.subprotocol}`);
  return h.ws(path, { headers, protocols });
}

/** Opens a WebSocket and says whether the upgrade was refused (with status and body) or opened. */
async function wsOutcome(
  path: string,
  cred: WsCred,
): Promise<{ refused: { status: number; body: unknown } } | { open: WsClient }> {
  const ws = openWs(path, cred);
  return Promise.race([
    ws.rejected.then((r) => {
      let body: unknown = r.body;
      try {
        body = JSON.parse(r.body);
      } catch {
        // keep the text
      }
      return { refused: { status: r.status, body } };
    }),
    // A refused upgrade rejects `opened`; `rejected` settles it then.
    ws.opened.then(
      () => ({ open: ws }),
      () => new Promise<never>(() => undefined),
    ),
  ]);
}

async function expectWsRefused(path: string, cred: WsCred, status: number, body: object, what: string) {
  const outcome = await wsOutcome(path, cred);
  if ("open" in outcome) {
    outcome.open.terminate();
    expect.fail(`${what}: the upgrade was accepted`);
  }
  expect({ what, ...outcome.refused }).toEqual({ what, status, body });
}

/** Opens, checks the server picked the message protocol (never echoed the token), reads init. */
async function expectWsOpen(path: string, cred: WsCred, what: string): Promise<WsClient> {
  const outcome = await wsOutcome(path, cred);
  if ("refused" in outcome) expect.fail(`${what}: refused ${JSON.stringify(outcome.refused)}`);
  const ws = outcome.open;
  expect(ws.socket.protocol, what).toBe(WS_PROTOCOL);
  expect(ws.upgradeHeaders?.["sec-websocket-protocol"], what).toBe(WS_PROTOCOL);
  expect((await ws.next()).t, what).toBe("init");
  return ws;
}

async function closeWs(ws: WsClient): Promise<void> {
  ws.close();
  await ws.closed;
}

async function recursiveFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await recursiveFiles(path)));
    else out.push(path);
  }
  return out;
}

/** `grep -r`: which needles occur in the raw bytes of which files. */
async function grepBytes(files: string[], needles: string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const file of files) {
    const bytes = await readFile(file);
    for (const n of needles) if (bytes.includes(Buffer.from(n, "utf8"))) hits.push(`${file}: ${n}`);
  }
  return hits;
}

// ---- the fixture: namespaces, tokens, actors ---------------------------------------------------

let secretA: Created;
let publicA: Created;
let secretB: Created;
let publicB: Created;
/** Actors of team-a, team-b and default. */
let idA: string;
let idB: string;
let idDefault: string;

describe("namespace routes", () => {
  it("creates a namespace (201) with its name as display name unless given one", async () => {
    const a = await admin("POST", "/namespaces", { name: "team-a" });
    expect(a.status).toBe(201);
    expect(a.body).toEqual({
      namespace: { name: "team-a", displayName: "team-a", createdAt: expect.any(Number) },
    });
    const b = await admin("POST", "/namespaces", { name: "team-b", displayName: "Team B" });
    expect(b.status).toBe(201);
    expect(b.body.namespace).toMatchObject({ name: "team-b", displayName: "Team B" });
  });

  it("a duplicate name is 409 namespace/already_exists (default too)", async () => {
    for (const name of ["team-a", "default"]) {
      const r = await admin("POST", "/namespaces", { name });
      expect({ status: r.status, group: r.body.group, code: r.body.code }).toEqual({
        status: 409,
        group: "namespace",
        code: "already_exists",
      });
    }
  });

  it("a bad name is 400 namespace/invalid_name, and nothing is created", async () => {
    const before = (await admin("GET", "/namespaces")).body.namespaces.length as number;
    for (const name of [
      "",
      "UPPER",
      "-lead",
      "a_b",
      "a.b",
      "a/b",
      "a b",
      "é",
      "x".repeat(64),
      "x".repeat(300),
    ]) {
      const r = await admin("POST", "/namespaces", { name });
      expect({ name, status: r.status, group: r.body.group, code: r.body.code }).toEqual({
        name,
        status: 400,
        group: "namespace",
        code: "invalid_name",
      });
    }
    // 63 characters is the longest allowed.
    const longest = "x".repeat(63);
    expect((await admin("POST", "/namespaces", { name: longest })).status).toBe(201);
    expect((await admin("DELETE", `/namespaces/${longest}`)).status).toBe(200);
    expect((await admin("GET", "/namespaces")).body.namespaces).toHaveLength(before);
  });

  it("lists namespaces", async () => {
    const r = await admin("GET", "/namespaces");
    expect(r.status).toBe(200);
    const names = (r.body.namespaces as { name: string }[]).map((n) => n.name).sort();
    expect(names).toEqual(["default", "team-a", "team-b"]);
  });

  it("set-up: tokens of both namespaces, and one actor in each namespace", async () => {
    secretA = await createToken("team-a", "secret", { name: "backend a" });
    publicA = await createToken("team-a", "public");
    secretB = await createToken("team-b", "secret");
    publicB = await createToken("team-b", "public");
    const a = await sendJson(bearer(secretA.secret), "PUT", "/actors", {
      name: "counter",
      key: ["shared-key"],
    });
    expect(a.status, a.text).toBe(200);
    expect(a.body.actor.namespace).toBe("team-a");
    idA = a.body.actor.actorId as string;
    // The same name and key in team-b is another actor.
    const b = await sendJson(bearer(secretB.secret), "PUT", "/actors", {
      name: "counter",
      key: ["shared-key"],
    });
    expect(b.status, b.text).toBe(200);
    expect(b.body).toMatchObject({ created: true, actor: { namespace: "team-b" } });
    idB = b.body.actor.actorId as string;
    expect(idB).not.toBe(idA);
    const d = await admin("PUT", "/actors", { name: "counter", key: ["shared-key"] });
    expect(d.body).toMatchObject({ created: true, actor: { namespace: "default" } });
    idDefault = d.body.actor.actorId as string;
    // The canary goes into actor state (so into the store) and into the log (an internal error).
    const remembered = await sendJson(bearer(secretA.secret), "POST", `/gateway/${idA}/action/remember`, {
      args: [CANARY],
    });
    expect(remembered.body).toEqual({ output: true });
    const crashed = await sendJson(bearer(secretA.secret), "POST", `/gateway/${idA}/action/crash`, {
      args: [CANARY],
    });
    expect(crashed.status).toBe(500);
    expect(crashed.text).not.toContain(CANARY);
  });

  it("deleting the default namespace is 409 namespace/protected; an unknown one 404", async () => {
    const r = await admin("DELETE", "/namespaces/default");
    expect({ status: r.status, group: r.body.group, code: r.body.code }).toEqual({
      status: 409,
      group: "namespace",
      code: "protected",
    });
    const u = await admin("DELETE", "/namespaces/no-such-namespace");
    expect({ status: u.status, group: u.body.group, code: u.body.code }).toEqual({
      status: 404,
      group: "namespace",
      code: "not_found",
    });
  });

  it("deleting a namespace with actors is 409 namespace/not_empty; its tokens keep working", async () => {
    const r = await admin("DELETE", "/namespaces/team-a");
    expect({ status: r.status, group: r.body.group, code: r.body.code }).toEqual({
      status: 409,
      group: "namespace",
      code: "not_empty",
    });
    expect((await send(bearer(secretA.secret), "GET", `/actors/${idA}`)).status).toBe(200);
    expect(
      (await send(bearer(publicA.secret), "POST", `/gateway/${idA}/action/get`, { args: [] })).status,
    ).toBe(200);
  });

  it("deleting an empty namespace removes it and refuses its tokens at once, even if the name comes back", async () => {
    await createNamespace("scratch");
    const sk = await createToken("scratch", "secret");
    const pk = await createToken("scratch", "public");
    expect((await send(bearer(sk.secret), "GET", "/actors")).status).toBe(200);
    // Valid credential, no such actor: the token got past auth.
    expect((await send(bearer(pk.secret), "POST", "/gateway/nope/action/get", { args: [] })).status).toBe(
      404,
    );

    const del = await admin("DELETE", "/namespaces/scratch");
    expect(del.status, del.text).toBe(200);
    expect(
      ((await admin("GET", "/namespaces")).body.namespaces as { name: string }[]).map((n) => n.name),
    ).not.toContain("scratch");

    const refusedEverywhere = async (when: string) => {
      await expectExactly(send(bearer(sk.secret), "GET", "/actors"), 403, FORBIDDEN, `${when}: secret`);
      await expectExactly(
        send(bearer(pk.secret), "POST", "/gateway/nope/action/get", { args: [] }),
        403,
        FORBIDDEN,
        `${when}: public`,
      );
      await expectWsRefused(
        "/gateway/nope/connect",
        { header: bearer(pk.secret) },
        403,
        FORBIDDEN,
        `${when}: ws`,
      );
      await expectWsRefused(
        "/gateway/nope/connect",
        { subprotocol: pk.secret },
        403,
        FORBIDDEN,
        `${when}: ws sp`,
      );
    };
    await refusedEverywhere("deleted");
    // The admin cannot address it any more, nor make tokens for it.
    const asAdmin = await admin("GET", "/actors?namespace=scratch");
    expect({ status: asAdmin.status, code: asAdmin.body.code }).toEqual({ status: 404, code: "not_found" });
    const newToken = await admin("POST", "/tokens", { namespace: "scratch", kind: "secret" });
    expect({ status: newToken.status, group: newToken.body.group, code: newToken.body.code }).toEqual({
      status: 404,
      group: "namespace",
      code: "not_found",
    });
    const listed = (await admin("GET", "/tokens")).body.tokens as { id: string; revokedAt: number | null }[];
    for (const t of [sk, pk])
      expect(listed.find((x) => x.id === t.id)?.revokedAt).toEqual(expect.any(Number));

    // A new namespace of the same name does not bring the old tokens back.
    await createNamespace("scratch");
    await refusedEverywhere("re-created");
    expect((await admin("DELETE", "/namespaces/scratch")).status).toBe(200);
  });
});

describe("token matrix", () => {
  it("no credential: 401 on every route, and on the WebSocket upgrade", async () => {
    for (const r of [...managementRoutes(idA), ...secretRoutes(idA), ...publicRoutes(idA)]) {
      await expectExactly(
        send(undefined, r.method, r.path, r.body),
        401,
        UNAUTHENTICATED,
        `${r.method} ${r.path}`,
      );
    }
    await expectWsRefused(`/gateway/${idA}/connect`, {}, 401, UNAUTHENTICATED, "ws without credential");
  });

  it("a malformed credential: 401 everywhere (header and subprotocol)", async () => {
    const headers = [
      "Basic dXNlcjpwYXNz",
      "Bearer",
      "Bearer ",
      `Bearer  ${secretA.secret}`,
      secretA.secret,
      `Token ${secretA.secret}`,
      `Bearer ${secretA.secret} extra`,
      `bearer${secretA.secret}`,
    ];
    for (const header of headers) {
      for (const r of [...managementRoutes(idA), ...secretRoutes(idA), ...publicRoutes(idA)]) {
        await expectExactly(
          send(header, r.method, r.path, r.body),
          401,
          MALFORMED_HEADER,
          `${header} ${r.path}`,
        );
      }
      await expectWsRefused(
        `/gateway/${idA}/connect`,
        { header },
        401,
        MALFORMED_HEADER,
        `ws header ${header}`,
      );
    }
    for (const token of ["", "enclave_sk_", "not-a-token", `${secretA.secret.slice(0, 20)}`]) {
      await expectWsRefused(
        `/gateway/${idA}/connect`,
        { subprotocol: token },
        401,
        UNAUTHENTICATED,
        `ws subprotocol "${token}"`,
      );
    }
  });

  it("a wrong or unknown token: 401, the same answer for an unknown id and for a wrong secret", async () => {
    const [, , idPart, rest] = /^(enclave_sk_)([A-Za-z0-9-]{16})_(.*)$/.exec(secretA.secret) ?? [];
    expect(idPart).toBeDefined();
    const flip = (s: string) => (s[0] === "A" ? "B" : "A") + s.slice(1);
    const wrong = {
      unknownId: `enclave_sk_${"Z".repeat(16)}_${rest}`,
      wrongSecret: `enclave_sk_${idPart}_${flip(rest as string)}`,
      randomWellFormed: `enclave_sk_${randomBytes(12).toString("base64url").replace(/_/g, "-")}_${randomBytes(32).toString("base64url")}`,
      truncated: secretA.secret.slice(0, -1),
      extended: `${secretA.secret}A`,
      otherKindOfSameNamespace: `enclave_pk_${idPart}_${flip(rest as string)}`,
      adminPrefix: ADMIN.slice(0, -1),
      adminExtended: `${ADMIN}x`,
    };
    const texts = new Set<string>();
    for (const [what, token] of Object.entries(wrong)) {
      for (const r of [...managementRoutes(idA), ...secretRoutes(idA), ...publicRoutes(idA)]) {
        const res = await send(bearer(token), r.method, r.path, r.body);
        texts.add(await res.clone().text());
        await expectExactly(res, 401, UNAUTHENTICATED, `${what} ${r.method} ${r.path}`);
      }
      await expectWsRefused(
        `/gateway/${idA}/connect`,
        { header: bearer(token) },
        401,
        UNAUTHENTICATED,
        `ws ${what}`,
      );
      await expectWsRefused(
        `/gateway/${idA}/connect`,
        { subprotocol: token },
        401,
        UNAUTHENTICATED,
        `ws sp ${what}`,
      );
    }
    // Byte for byte one answer, whatever was wrong.
    expect(texts.size).toBe(1);
  });

  it("the kind cannot be forged by editing the prefix (sk <-> pk): 401", async () => {
    const forged = {
      secretAsPublic: secretA.secret.replace(/^enclave_sk_/, "enclave_pk_"),
      publicAsSecret: publicA.secret.replace(/^enclave_pk_/, "enclave_sk_"),
    };
    expect(forged.secretAsPublic).not.toBe(secretA.secret);
    expect(forged.publicAsSecret).not.toBe(publicA.secret);
    for (const [what, token] of Object.entries(forged)) {
      for (const r of [...managementRoutes(idA), ...secretRoutes(idA), ...publicRoutes(idA)]) {
        await expectExactly(
          send(bearer(token), r.method, r.path, r.body),
          401,
          UNAUTHENTICATED,
          `${what} ${r.path}`,
        );
      }
      await expectWsRefused(
        `/gateway/${idA}/connect`,
        { header: bearer(token) },
        401,
        UNAUTHENTICATED,
        `ws ${what}`,
      );
      await expectWsRefused(
        `/gateway/${idA}/connect`,
        { subprotocol: token },
        401,
        UNAUTHENTICATED,
        `ws sp ${what}`,
      );
    }
  });

  it("a namespace token naming another namespace (?namespace=): 403, whether that namespace exists or not", async () => {
    // Repeated, the parameter must not slip past the check (it parses as a list).
    for (const other of [
      "team-b",
      "default",
      "no-such-namespace",
      "team-b&namespace=team-b",
      "team-a&namespace=team-b",
      "team-b&namespace=team-a",
    ]) {
      for (const [what, token, routes] of [
        ["secret", secretA, [...secretRoutes(idA), ...publicRoutes(idA)]],
        ["public", publicA, publicRoutes(idA)],
      ] as const) {
        for (const r of routes) {
          await expectExactly(
            send(bearer(token.secret), r.method, withQuery(r.path, `namespace=${other}`), r.body),
            403,
            FORBIDDEN,
            `${what} ?namespace=${other} ${r.method} ${r.path}`,
          );
        }
        const path = `/gateway/${idA}/connect?namespace=${other}`;
        await expectWsRefused(path, { header: bearer(token.secret) }, 403, FORBIDDEN, `ws ${what} ${other}`);
        await expectWsRefused(path, { subprotocol: token.secret }, 403, FORBIDDEN, `ws sp ${what} ${other}`);
      }
    }
    // Naming its own namespace is fine.
    expect((await send(bearer(secretA.secret), "GET", `/actors/${idA}?namespace=team-a`)).status).toBe(200);
    const ws = await expectWsOpen(
      `/gateway/${idA}/connect?namespace=team-a`,
      { subprotocol: publicA.secret },
      "public token, own namespace named",
    );
    await closeWs(ws);
  });

  it("the admin token names a namespace with ?namespace=; naming one twice is 400, never a guess", async () => {
    expect((await admin("GET", `/actors/${idA}?namespace=team-a`)).status).toBe(200);
    for (const query of [
      "namespace=team-a&namespace=team-a",
      "namespace=team-a&namespace=team-b",
      "namespace=default&namespace=default",
    ]) {
      for (const r of [
        { method: "GET", path: `/actors/${idA}` },
        { method: "GET", path: `/actors/${idDefault}` },
        { method: "DELETE", path: `/actors/${idDefault}` },
        { method: "POST", path: `/gateway/${idDefault}/action/get`, body: { args: [] } },
      ]) {
        const res = await sendJson(bearer(ADMIN), r.method, withQuery(r.path, query), r.body);
        expect({ query, route: `${r.method} ${r.path}`, status: res.status, code: res.body.code }).toEqual({
          query,
          route: `${r.method} ${r.path}`,
          status: 400,
          code: "invalid",
        });
      }
      await expectWsRefused(
        `/gateway/${idDefault}/connect?${query}`,
        { header: bearer(ADMIN) },
        400,
        { group: "request", code: "invalid", message: "Give `namespace` at most once" },
        `ws admin ${query}`,
      );
    }
    // Nothing was destroyed by the refused DELETE.
    expect((await admin("GET", `/actors/${idDefault}`)).status).toBe(200);
  });

  it("a public token on management or secret routes: 403", async () => {
    for (const r of [...managementRoutes(idA), ...secretRoutes(idA)]) {
      await expectExactly(
        send(bearer(publicA.secret), r.method, r.path, r.body),
        403,
        FORBIDDEN,
        `${r.method} ${r.path}`,
      );
    }
    // Nothing happened: no namespace, no token, no actor was made, the actor is still there.
    const names = ((await admin("GET", "/namespaces")).body.namespaces as { name: string }[]).map(
      (n) => n.name,
    );
    expect(names).not.toContain("never-created");
    expect((await admin("GET", "/actors?namespace=team-a")).body.actors).toHaveLength(1);
    expect((await admin("GET", `/actors/${idA}?namespace=team-a`)).status).toBe(200);
  });

  it("a public token on public routes of its namespace: 200 (action, raw request, connect)", async () => {
    const action = await sendJson(bearer(publicA.secret), "POST", `/gateway/${idA}/action/increment`, {
      args: [2],
    });
    expect(action.status, action.text).toBe(200);
    expect(action.body.output).toEqual(expect.any(Number));
    for (const method of ["GET", "POST"]) {
      const raw = await send(
        bearer(publicA.secret),
        method,
        `/gateway/${idA}/request/x`,
        method === "POST" ? {} : undefined,
      );
      expect({ method, status: raw.status, text: await raw.text() }).toEqual({
        method,
        status: 200,
        text: `raw ${method}`,
      });
    }
    for (const cred of [{ header: bearer(publicA.secret) }, { subprotocol: publicA.secret }]) {
      const ws = await expectWsOpen(`/gateway/${idA}/connect`, cred, `public ${Object.keys(cred)[0]}`);
      expect((await ws.call(1, "get")).msg).toEqual({ t: "result", id: 1, output: action.body.output });
      await closeWs(ws);
    }
  });

  it("a secret token on admin routes: 403", async () => {
    for (const r of managementRoutes(idA)) {
      await expectExactly(
        send(bearer(secretA.secret), r.method, r.path, r.body),
        403,
        FORBIDDEN,
        `${r.method} ${r.path}`,
      );
    }
    const names = ((await admin("GET", "/namespaces")).body.namespaces as { name: string }[]).map(
      (n) => n.name,
    );
    expect(names).toEqual(expect.arrayContaining(["team-a", "team-b"]));
    expect(names).not.toContain("never-created");
  });

  it("a secret token on secret and public routes of its namespace: OK", async () => {
    const s = bearer(secretA.secret);
    const put = await sendJson(s, "PUT", "/actors", { name: "counter", key: ["shared-key"] });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({ created: false, actor: { actorId: idA, namespace: "team-a" } });
    const post = await sendJson(s, "POST", "/actors", { name: "counter", key: ["throwaway"] });
    expect(post.status, post.text).toBe(201);
    const throwaway = post.body.actor.actorId as string;
    const list = await sendJson(s, "GET", "/actors");
    expect(list.status).toBe(200);
    expect((list.body.actors as { actorId: string }[]).map((a) => a.actorId).sort()).toEqual(
      [idA, throwaway].sort(),
    );
    expect((await send(s, "GET", `/actors/${idA}`)).status).toBe(200);
    expect((await send(s, "DELETE", `/actors/${throwaway}`)).status).toBe(200);
    expect((await send(s, "GET", `/actors/${throwaway}`)).status).toBe(404);

    expect((await send(s, "POST", `/gateway/${idA}/action/get`, { args: [] })).status).toBe(200);
    expect((await send(s, "GET", `/gateway/${idA}/request/x`)).status).toBe(200);
    for (const cred of [{ header: s }, { subprotocol: secretA.secret }]) {
      const ws = await expectWsOpen(`/gateway/${idA}/connect`, cred, `secret ${Object.keys(cred)[0]}`);
      expect((await ws.call(1, "get")).msg.t).toBe("result");
      await closeWs(ws);
    }
  });

  it("another namespace's actor is invisible: 404 (as for an actor that never existed), never 403", async () => {
    const neverExisted = randomBytes(16).toString("base64url");
    /** Status and error group/code/message (the metadata holds the id the caller gave). */
    const answer = async (res: Promise<Response>) => {
      const r = await res;
      const body = (await r.json()) as Json;
      return { status: r.status, group: body.group, code: body.code, message: body.message };
    };
    const notFound = await answer(send(bearer(secretA.secret), "GET", `/actors/${neverExisted}`));
    expect(notFound).toMatchObject({ status: 404, group: "actor", code: "not_found" });

    for (const [who, token] of [
      ["secret", secretA],
      ["public", publicA],
    ] as const) {
      const routes: Route[] =
        who === "secret"
          ? [...secretRoutes(idB).filter((r) => r.path.includes(idB)), ...publicRoutes(idB).slice(0, 3)]
          : publicRoutes(idB).slice(0, 3);
      for (const r of routes) {
        const foreign = await answer(send(bearer(token.secret), r.method, r.path, r.body));
        const missing = await answer(
          send(bearer(token.secret), r.method, r.path.replace(idB, neverExisted), r.body),
        );
        expect({ who, route: `${r.method} ${r.path}`, ...foreign }).toEqual({
          who,
          route: `${r.method} ${r.path}`,
          ...missing,
          status: 404,
        });
      }
      // The upgrade is accepted (the credential is good), then the actor is not found.
      for (const cred of [{ header: bearer(token.secret) }, { subprotocol: token.secret }]) {
        const outcome = await wsOutcome(`/gateway/${idB}/connect`, cred);
        if ("refused" in outcome) expect.fail(`ws ${who}: refused ${JSON.stringify(outcome.refused)}`);
        const ws = outcome.open;
        const msg = await ws.next();
        expect(msg).toMatchObject({ t: "error", error: { group: "actor", code: "not_found" } });
        expect((await ws.closed).code).toBe(CloseCodes.notFound);
      }
    }
    // Untouched: team-b's actor is alive and answers its own tokens.
    expect((await send(bearer(secretB.secret), "GET", `/actors/${idB}`)).status).toBe(200);
    expect(
      (await send(bearer(publicB.secret), "POST", `/gateway/${idB}/action/get`, { args: [] })).status,
    ).toBe(200);
  });

  it("actors of one namespace are not listed or found in another (namespace tokens and admin)", async () => {
    const ids = async (auth: string, path: string) =>
      ((await sendJson(auth, "GET", path)).body.actors as { actorId: string; namespace: string }[]).map(
        (a) => `${a.namespace}/${a.actorId}`,
      );
    expect(await ids(bearer(secretA.secret), "/actors")).toEqual([`team-a/${idA}`]);
    expect(await ids(bearer(secretB.secret), "/actors")).toEqual([`team-b/${idB}`]);
    expect(await ids(bearer(secretB.secret), "/actors?name=counter&key=shared-key")).toEqual([
      `team-b/${idB}`,
    ]);
    expect(await ids(bearer(ADMIN), "/actors?namespace=team-a")).toEqual([`team-a/${idA}`]);
    expect(await ids(bearer(ADMIN), "/actors?namespace=team-b")).toEqual([`team-b/${idB}`]);
    expect(await ids(bearer(ADMIN), "/actors")).toEqual([`default/${idDefault}`]);

    for (const [auth, path] of [
      [bearer(secretB.secret), `/actors/${idA}`],
      [bearer(secretA.secret), `/actors/${idDefault}`],
      [bearer(ADMIN), `/actors/${idA}?namespace=team-b`],
      [bearer(ADMIN), `/actors/${idA}`],
    ] as const) {
      const r = await sendJson(auth, "GET", path);
      expect({ path, status: r.status, code: r.body.code }).toEqual({ path, status: 404, code: "not_found" });
    }
  });

  it("revoking a token closes the WebSockets already open with it (4003), not others", async () => {
    const pk = await createToken("team-a", "public");
    const other = await createToken("team-a", "public");
    const viaHeader = await expectWsOpen(`/gateway/${idA}/connect`, { header: bearer(pk.secret) }, "header");
    const viaProtocol = await expectWsOpen(
      `/gateway/${idA}/connect`,
      { subprotocol: pk.secret },
      "subprotocol",
    );
    const bystander = await expectWsOpen(
      `/gateway/${idA}/connect`,
      { header: bearer(other.secret) },
      "other",
    );
    expect((await admin("DELETE", `/tokens/${pk.id}`)).status).toBe(200);
    expect(await viaHeader.closed).toEqual({ code: 4003, reason: "token revoked" });
    expect(await viaProtocol.closed).toEqual({ code: 4003, reason: "token revoked" });
    // The connection opened with another token stays up and keeps working.
    bystander.send({ t: "action", id: 1, name: "get", args: [] });
    expect((await bystander.next()).t).toBe("result");
    await closeWs(bystander);
  });

  it("a revoked token is refused (403) on the very next request, over HTTP and WebSocket", async () => {
    const sk = await createToken("team-a", "secret");
    const pk = await createToken("team-a", "public");
    expect((await send(bearer(sk.secret), "GET", `/actors/${idA}`)).status).toBe(200);
    expect((await send(bearer(pk.secret), "POST", `/gateway/${idA}/action/get`, { args: [] })).status).toBe(
      200,
    );

    for (const t of [sk, pk]) {
      const r = await admin("DELETE", `/tokens/${t.id}`);
      expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: { ok: true } });
    }
    await expectExactly(send(bearer(sk.secret), "GET", `/actors/${idA}`), 403, FORBIDDEN, "revoked secret");
    await expectExactly(
      send(bearer(pk.secret), "POST", `/gateway/${idA}/action/get`, { args: [] }),
      403,
      FORBIDDEN,
      "revoked public",
    );
    for (const t of [sk, pk]) {
      await expectWsRefused(
        `/gateway/${idA}/connect`,
        { header: bearer(t.secret) },
        403,
        FORBIDDEN,
        "ws revoked",
      );
      await expectWsRefused(
        `/gateway/${idA}/connect`,
        { subprotocol: t.secret },
        403,
        FORBIDDEN,
        "ws sp revoked",
      );
    }
    // Listed as revoked; revoking again is fine; an unknown id is 404 token/not_found.
    const listed = (await admin("GET", "/tokens?namespace=team-a")).body.tokens as Json[];
    expect(listed.find((t) => t.id === sk.id)?.revokedAt).toEqual(expect.any(Number));
    expect((await admin("DELETE", `/tokens/${sk.id}`)).status).toBe(200);
    const unknown = await admin("DELETE", "/tokens/ZZZZZZZZZZZZZZZZ");
    expect({ status: unknown.status, group: unknown.body.group, code: unknown.body.code }).toEqual({
      status: 404,
      group: "token",
      code: "not_found",
    });
    // Other tokens of the namespace are unaffected.
    expect((await send(bearer(secretA.secret), "GET", `/actors/${idA}`)).status).toBe(200);
  });

  it("an expired token is refused (403) once its time has passed", async () => {
    const past = await admin("POST", "/tokens", {
      namespace: "team-a",
      kind: "secret",
      expiresAt: Date.now() - 1,
    });
    expect({ status: past.status, code: past.body.code }).toEqual({ status: 400, code: "invalid" });

    const expiresAt = Date.now() + 2_000;
    const sk = await createToken("team-a", "secret", { expiresAt });
    const pk = await createToken("team-a", "public", { expiresAt });
    expect(sk.info.expiresAt).toBe(expiresAt);
    expect((await send(bearer(sk.secret), "GET", `/actors/${idA}`)).status).toBe(200);
    await closeWs(await expectWsOpen(`/gateway/${idA}/connect`, { subprotocol: pk.secret }, "before expiry"));

    await sleep(Math.max(0, expiresAt - Date.now()) + 100);
    await expectExactly(send(bearer(sk.secret), "GET", `/actors/${idA}`), 403, FORBIDDEN, "expired secret");
    await expectExactly(
      send(bearer(pk.secret), "POST", `/gateway/${idA}/action/get`, { args: [] }),
      403,
      FORBIDDEN,
      "expired public",
    );
    await expectWsRefused(
      `/gateway/${idA}/connect`,
      { header: bearer(pk.secret) },
      403,
      FORBIDDEN,
      "ws expired",
    );
    await expectWsRefused(
      `/gateway/${idA}/connect`,
      { subprotocol: pk.secret },
      403,
      FORBIDDEN,
      "ws sp expired",
    );
  });

  it("the secret is returned once, by POST /tokens (no-store), never by GET /tokens", async () => {
    const created = await admin("POST", "/tokens", { namespace: "team-b", kind: "public", name: "browser" });
    expect(created.status).toBe(201);
    expect(created.res.headers.get("cache-control")).toBe("no-store");
    const secret = created.body.secret as string;
    secrets.push(secret);
    expect(secret).toMatch(/^enclave_pk_/);
    expect(Object.keys(created.body).sort()).toEqual(["secret", "token"]);
    expect(created.body.token).toEqual({
      id: expect.any(String),
      namespace: "team-b",
      kind: "public",
      name: "browser",
      createdAt: expect.any(Number),
      expiresAt: null,
      revokedAt: null,
    });

    for (const path of ["/tokens", "/tokens?namespace=team-b", "/tokens?namespace=team-a"]) {
      const listed = await admin("GET", path);
      expect(listed.status).toBe(200);
      for (const t of listed.body.tokens as Json[]) {
        expect(Object.keys(t).sort()).toEqual([
          "createdAt",
          "expiresAt",
          "id",
          "kind",
          "name",
          "namespace",
          "revokedAt",
        ]);
      }
      for (const s of secrets) {
        expect(listed.text).not.toContain(s);
        expect(listed.text).not.toContain(secretPart(s));
      }
    }
    const inB = (await admin("GET", "/tokens?namespace=team-b")).body.tokens as Json[];
    expect(inB.every((t) => t.namespace === "team-b")).toBe(true);
    expect(inB.map((t) => t.id)).toContain(created.body.token.id);
  });
});

describe("after everything", () => {
  it("no response but its POST /tokens carried a token's secret; none carried the admin token", () => {
    expect(secrets.length).toBeGreaterThanOrEqual(10);
    h.assertNeverReceived(ADMIN);
    for (const s of secrets) {
      const carriers = h.received.filter(
        (r) => r.headers.includes(secretPart(s)) || r.body.includes(secretPart(s)),
      );
      expect(carriers.map((r) => r.what)).toEqual(["POST /tokens"]);
    }
  });

  it("no raw token in any file of the data directory or in the log", async () => {
    await h.close();
    const files = await recursiveFiles(dataDir);
    expect(files.length).toBeGreaterThan(0);
    // Configured explicitly, so the admin token was never generated and never written.
    expect(files.map((f) => f.slice(dataDir.length + 1))).not.toContain(ADMIN_TOKEN_FILE);

    const needles = [ADMIN, ...secrets, ...secrets.map(secretPart)];
    // The searches see what is really there: the canary (actor state, an internal error's log).
    expect(await grepBytes(files, [CANARY])).not.toEqual([]);
    expect(await grepBytes(files, needles)).toEqual([]);

    const log = Buffer.concat(logChunks);
    expect(log.length).toBeGreaterThan(0);
    expect(log.includes(Buffer.from(CANARY))).toBe(true);
    const inLog = needles.filter((n) => log.includes(Buffer.from(n, "utf8")));
    expect(inLog).toEqual([]);
  });
});
