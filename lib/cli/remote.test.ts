/**
 * `enclave token ...` and `enclave namespace ...` against a fake engine (node:http) that
 * answers per DESIGN.md's wire table and records every request: argument handling, where the
 * admin token comes from, request shapes, output formats, and how errors become exit codes.
 */
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./io.js";
import { cli } from "./testing/io.js";

const ADMIN = "admin-token-0123456789abcdefghij";
const SECRET = "ens_secret_value_that_must_appear_once_only";

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

let server: Server;
let base: string;
let dir: string;
const seen: Seen[] = [];
/** Overrides the next answer: [status, body]. */
let next: [number, unknown] | undefined;

async function readBody(req: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of req) text += (chunk as Buffer).toString("utf8");
  return text === "" ? undefined : JSON.parse(text);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "enclave-cli-remote-"));
  server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        authorization: req.headers.authorization,
        body,
      });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(payload === undefined ? "" : JSON.stringify(payload));
      };
      if (next) {
        const [status, payload] = next;
        next = undefined;
        return send(status, payload);
      }
      if (req.headers.authorization !== `Bearer ${ADMIN}`) {
        return send(401, {
          group: "auth",
          code: "unauthenticated",
          message: "A valid credential is required",
        });
      }
      const url = new URL(req.url ?? "/", "http://x");
      const b = body as Record<string, unknown> | undefined;
      if (req.method === "POST" && url.pathname === "/tokens") {
        return send(200, {
          token: {
            id: "tok_1",
            namespace: b?.namespace,
            kind: b?.kind,
            name: b?.name ?? null,
            createdAt: Date.UTC(2030, 0, 2),
            expiresAt: b?.expiresAt ?? null,
          },
          secret: SECRET,
        });
      }
      if (req.method === "GET" && url.pathname === "/tokens") {
        return send(200, {
          tokens: [
            {
              id: "tok_1",
              namespace: "acme",
              kind: "secret",
              name: "ci",
              createdAt: Date.UTC(2030, 0, 2),
              expiresAt: null,
              revokedAt: null,
            },
            {
              id: "tok_2",
              namespace: "acme",
              kind: "public",
              name: null,
              createdAt: Date.UTC(2030, 0, 3),
              expiresAt: Date.UTC(2031, 0, 1),
              revokedAt: null,
              secret: "must-never-be-printed",
            },
            {
              id: "tok_3",
              namespace: "acme",
              kind: "secret",
              name: "old",
              createdAt: 1,
              expiresAt: 2,
              revokedAt: null,
            },
            {
              id: "tok_4",
              namespace: "acme",
              kind: "secret",
              name: "gone",
              createdAt: 1,
              expiresAt: null,
              revokedAt: 5,
            },
          ],
        });
      }
      if (req.method === "DELETE" && url.pathname.startsWith("/tokens/")) {
        res.writeHead(204).end();
        return;
      }
      if (req.method === "POST" && url.pathname === "/namespaces") {
        return send(200, {
          namespace: { name: b?.name, displayName: b?.displayName ?? null, createdAt: Date.UTC(2030, 0, 1) },
        });
      }
      if (req.method === "GET" && url.pathname === "/namespaces") {
        return send(200, {
          namespaces: [
            { name: "default", displayName: "Default", createdAt: Date.UTC(2030, 0, 1) },
            { name: "acme", displayName: null, createdAt: Date.UTC(2030, 0, 4) },
          ],
        });
      }
      return send(404, { group: "request", code: "route_not_found", message: "No such route" });
    })();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seen.length = 0;
  next = undefined;
});

const env = () => ({ ENCLAVE_ENDPOINT: base, ENCLAVE_ADMIN_TOKEN: ADMIN });

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe("token create", () => {
  it("sends { namespace, kind, name, expiresAt } and prints the secret exactly once, with a warning", async () => {
    const r = await cli(
      [
        "token",
        "create",
        "--namespace",
        "acme",
        "--kind",
        "secret",
        "--name",
        "ci",
        "--expires-at",
        "2031-01-01T00:00:00Z",
      ],
      env(),
    );
    expect(r.code).toBe(EXIT_OK);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: "POST",
      url: "/tokens",
      authorization: `Bearer ${ADMIN}`,
      body: { namespace: "acme", kind: "secret", name: "ci", expiresAt: Date.UTC(2031, 0, 1) },
    });
    expect(count(r.out + r.err, SECRET)).toBe(1);
    expect(r.out).toContain("will not be shown again");
    expect(r.out).toContain('Created a secret token in namespace "acme".');
    expect(r.out).toContain("id:       tok_1");
    expect(r.out).toContain("expires:  2031-01-01T00:00:00.000Z");
    expect(r.out + r.err).not.toContain(ADMIN);
  });

  it("--json prints { token, secret } on stdout (the secret once) and the warning on stderr", async () => {
    const r = await cli(["token", "create", "--namespace", "acme", "--kind", "public", "--json"], env());
    expect(r.code).toBe(EXIT_OK);
    const body = JSON.parse(r.out) as {
      token: { id: string; kind: string; expiresAt: null };
      secret: string;
    };
    expect(body.secret).toBe(SECRET);
    expect(body.token).toMatchObject({ id: "tok_1", kind: "public", expiresAt: null });
    expect(seen[0]?.body).toEqual({ namespace: "acme", kind: "public" });
    expect(count(r.out + r.err, SECRET)).toBe(1);
    expect(r.err).toContain("will not be shown again");
  });

  it("--expires-at takes epoch milliseconds too", async () => {
    const at = Date.now() + 86_400_000;
    const r = await cli(
      ["token", "create", "--namespace", "acme", "--kind", "secret", "--expires-at", String(at)],
      env(),
    );
    expect(r.code).toBe(EXIT_OK);
    expect((seen[0]?.body as { expiresAt: number }).expiresAt).toBe(at);
  });

  it("the namespace may come from the endpoint URL; given twice with different values it is an error", async () => {
    const url = new URL(base);
    url.username = "acme";
    url.password = ADMIN;
    const fromUrl = await cli(["token", "create", "--kind", "secret"], { ENCLAVE_ENDPOINT: url.href });
    expect(fromUrl.code).toBe(EXIT_OK);
    expect(seen[0]?.authorization).toBe(`Bearer ${ADMIN}`);
    expect((seen[0]?.body as { namespace: string }).namespace).toBe("acme");
    expect(fromUrl.out + fromUrl.err).not.toContain(ADMIN);

    const same = await cli(["token", "create", "--kind", "secret", "--namespace", "acme"], {
      ENCLAVE_ENDPOINT: url.href,
    });
    expect(same.code).toBe(EXIT_OK);

    seen.length = 0;
    const twice = await cli(["token", "create", "--kind", "secret", "--namespace", "other"], {
      ENCLAVE_ENDPOINT: url.href,
    });
    expect(twice.code).toBe(EXIT_USAGE);
    expect(twice.err).toMatch(/namespace is given twice/);
    expect(twice.err).not.toContain(ADMIN);
    expect(seen).toHaveLength(0);

    const none = await cli(["token", "create", "--kind", "secret"], env());
    expect(none.code).toBe(EXIT_USAGE);
    expect(none.err).toMatch(/--namespace is required/);
  });

  it("an answer without a secret is a failure, not a silent success", async () => {
    next = [200, { token: { id: "x" } }];
    const r = await cli(["token", "create", "--namespace", "acme", "--kind", "secret"], env());
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toMatch(/without a token and its secret/);
  });
});

describe("token list and revoke", () => {
  it("list: a table without secrets, --namespace as the query", async () => {
    const r = await cli(["token", "list", "--namespace", "acme"], env());
    expect(r.code).toBe(EXIT_OK);
    expect(seen[0]).toMatchObject({ method: "GET", url: "/tokens?namespace=acme" });
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAMESPACE\s+KIND\s+NAME\s+STATUS\s+CREATED\s+EXPIRES$/);
    expect(lines[1]).toMatch(/^tok_1\s+acme\s+secret\s+ci\s+active\s+2030-01-02T00:00:00\.000Z\s+never$/);
    expect(lines[2]).toMatch(
      /^tok_2\s+acme\s+public\s+-\s+active\s+2030-01-03T00:00:00\.000Z\s+2031-01-01T00:00:00\.000Z$/,
    );
    expect(lines[3]).toMatch(/^tok_3\s+acme\s+secret\s+old\s+expired\s/);
    expect(lines[4]).toMatch(/^tok_4\s+acme\s+secret\s+gone\s+revoked\s/);
    // Columns line up: every row starts its CREATED column at the same offset.
    const at = lines[0]!.indexOf("CREATED");
    for (const l of lines.slice(1)) expect(l.slice(at)).toMatch(/^\d{4}-/);
    expect(r.out).not.toContain("must-never-be-printed");
  });

  it("list --json: { tokens }, never a secret field even if the engine sent one", async () => {
    const r = await cli(["token", "list", "--json"], env());
    expect(r.code).toBe(EXIT_OK);
    expect(seen[0]?.url).toBe("/tokens");
    const body = JSON.parse(r.out) as { tokens: { id: string }[] };
    expect(body.tokens.map((t) => t.id)).toEqual(["tok_1", "tok_2", "tok_3", "tok_4"]);
    expect(r.out).not.toContain("must-never-be-printed");
  });

  it("revoke: DELETE /tokens/{id} (encoded), text and --json", async () => {
    const r = await cli(["token", "revoke", "tok/1"], env());
    expect(r.code).toBe(EXIT_OK);
    expect(seen[0]).toMatchObject({ method: "DELETE", url: "/tokens/tok%2F1" });
    expect(r.out).toBe("Revoked token tok/1.\n");
    const j = await cli(["token", "revoke", "tok_2", "--json"], env());
    expect(JSON.parse(j.out)).toEqual({ id: "tok_2", revoked: true });
    // An id that starts with "-" goes after "--"; without it, it is an unknown option (exit 2).
    const dash = await cli(["token", "revoke", "--", "-x1"], env());
    expect(dash.code).toBe(EXIT_OK);
    expect(seen.at(-1)).toMatchObject({ method: "DELETE", url: "/tokens/-x1" });
    expect((await cli(["token", "revoke", "-x1"], env())).code).toBe(EXIT_USAGE);
  });

  it("revoking a token that does not exist: exit 1 with the engine's message", async () => {
    next = [404, { group: "token", code: "not_found", message: "No such token" }];
    const r = await cli(["token", "revoke", "tok_9"], env());
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toBe("enclave: No such token (HTTP 404 token.not_found)\n");
  });
});

describe("namespace create and list", () => {
  it("create: POST /namespaces { name, displayName }", async () => {
    const r = await cli(["namespace", "create", "acme", "--display-name", "Acme Corp"], env());
    expect(r.code).toBe(EXIT_OK);
    expect(seen[0]).toMatchObject({
      method: "POST",
      url: "/namespaces",
      body: { name: "acme", displayName: "Acme Corp" },
    });
    expect(r.out).toBe('Created namespace "acme" (display name "Acme Corp").\n');
    const j = await cli(["namespace", "create", "beta", "--json"], env());
    expect(seen[1]?.body).toEqual({ name: "beta" });
    expect(JSON.parse(j.out)).toMatchObject({ namespace: { name: "beta" } });
  });

  it("list: a table, or { namespaces } with --json", async () => {
    const r = await cli(["namespace", "list"], env());
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toMatch(
      /^NAME\s+DISPLAY NAME\s+CREATED\ndefault\s+Default\s+2030-01-01T00:00:00\.000Z\nacme\s+-\s+2030-01-04T00:00:00\.000Z\n$/,
    );
    const j = await cli(["namespace", "list", "--json"], env());
    expect((JSON.parse(j.out) as { namespaces: unknown[] }).namespaces).toHaveLength(2);
  });

  it("a namespace that exists already: exit 1; a name the engine rejects: exit 2", async () => {
    next = [
      409,
      { group: "namespace", code: "already_exists", message: "A namespace with this name already exists" },
    ];
    const exists = await cli(["namespace", "create", "acme"], env());
    expect(exists.code).toBe(EXIT_FAILURE);
    expect(exists.err).toContain("already exists (HTTP 409 namespace.already_exists)");
    next = [400, { group: "request", code: "invalid", message: "body/name must match pattern" }];
    const bad = await cli(["namespace", "create", "Not Valid"], env());
    expect(bad.code).toBe(EXIT_USAGE);
    expect(bad.err).toContain("the engine rejected the request: body/name must match pattern");
  });
});

describe("where the endpoint and the admin token come from", () => {
  it("--admin-token-file, and DATA_DIR/admin-token with --data", async () => {
    const file = join(dir, "token");
    await writeFile(file, `${ADMIN}\n`);
    const r = await cli(["namespace", "list", "--endpoint", base, "--admin-token-file", file], {});
    expect(r.code).toBe(EXIT_OK);
    expect(seen[0]?.authorization).toBe(`Bearer ${ADMIN}`);

    const data = join(dir, "data");
    await mkdir(data, { recursive: true });
    await writeFile(join(data, "admin-token"), `${ADMIN}\n`, { mode: 0o600 });
    const d = await cli(["namespace", "list", "--endpoint", base, "--data", data], {});
    expect(d.code).toBe(EXIT_OK);
    expect(seen[1]?.authorization).toBe(`Bearer ${ADMIN}`);
  });

  it("--endpoint wins over ENCLAVE_ENDPOINT", async () => {
    const r = await cli(["namespace", "list", "--endpoint", base], {
      ENCLAVE_ENDPOINT: "http://127.0.0.1:1",
      ENCLAVE_ADMIN_TOKEN: ADMIN,
    });
    expect(r.code).toBe(EXIT_OK);
  });

  it("the admin token given twice is a usage error that names the sources, never the token", async () => {
    const file = join(dir, "token2");
    await writeFile(file, `${ADMIN}\n`);
    const url = new URL(base);
    url.username = "default";
    url.password = ADMIN;
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ["--admin-token-file", file],
        { ENCLAVE_ADMIN_TOKEN: ADMIN },
        /--admin-token-file, ENCLAVE_ADMIN_TOKEN/,
      ],
      [
        [],
        { ENCLAVE_ENDPOINT: url.href, ENCLAVE_ADMIN_TOKEN: ADMIN },
        /ENCLAVE_ENDPOINT URL, ENCLAVE_ADMIN_TOKEN/,
      ],
      [["--endpoint", url.href, "--admin-token-file", file], {}, /--endpoint URL, --admin-token-file/],
    ];
    for (const [args, e, message] of cases) {
      const r = await cli(["namespace", "list", ...args], { ENCLAVE_ENDPOINT: base, ...e });
      expect(r.code).toBe(EXIT_USAGE);
      expect(r.err).toMatch(/the admin token is given more than once/);
      expect(r.err).toMatch(message);
      expect(r.err).not.toContain(ADMIN);
    }
    expect(seen).toHaveLength(0);
  });

  it("no admin token, a missing or empty token file, a bad endpoint: usage errors", async () => {
    const none = await cli(["namespace", "list"], { ENCLAVE_ENDPOINT: base });
    expect(none.code).toBe(EXIT_USAGE);
    expect(none.err).toMatch(/no admin token: pass --admin-token-file/);

    const missing = await cli(["namespace", "list", "--admin-token-file", join(dir, "nope")], {
      ENCLAVE_ENDPOINT: base,
    });
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.err).toContain(`cannot read admin token file ${join(dir, "nope")}: no such file`);

    await writeFile(join(dir, "empty"), "\n");
    const empty = await cli(["namespace", "list", "--admin-token-file", join(dir, "empty")], {
      ENCLAVE_ENDPOINT: base,
    });
    expect(empty.code).toBe(EXIT_USAGE);
    expect(empty.err).toMatch(/is empty/);

    const noData = await cli(["namespace", "list", "--data", join(dir, "nodata")], {
      ENCLAVE_ENDPOINT: base,
    });
    expect(noData.code).toBe(EXIT_USAGE);
    expect(noData.err).toContain(join(dir, "nodata", "admin-token"));

    const bad = await cli(["namespace", "list", "--endpoint", "ftp://x:secretpw@host"], {
      ENCLAVE_ADMIN_TOKEN: ADMIN,
    });
    expect(bad.code).toBe(EXIT_USAGE);
    expect(bad.err).toMatch(/--endpoint: invalid endpoint/);
    expect(bad.err).not.toContain("secretpw");
    expect(seen).toHaveLength(0);
  });
});

describe("engine and transport errors", () => {
  it("a wrong admin token: exit 1 and a hint, never the token", async () => {
    const r = await cli(["namespace", "list"], {
      ENCLAVE_ENDPOINT: base,
      ENCLAVE_ADMIN_TOKEN: "wrong-token-value-123456",
    });
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toMatch(/the engine refused the admin token \(HTTP 401 auth\.unauthenticated\)/);
    expect(r.err).not.toContain("wrong-token-value-123456");
  });

  it("a namespace token instead of the admin token: exit 1, says it needs the admin token", async () => {
    next = [403, { group: "auth", code: "forbidden", message: "This credential may not do that" }];
    const r = await cli(["token", "list"], env());
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toMatch(/needs the admin token/);
  });

  it("an engine without the route: exit 1, says so", async () => {
    next = [404, { group: "request", code: "route_not_found", message: "No such route" }];
    const r = await cli(["namespace", "list"], env());
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toMatch(/does not serve GET \/namespaces/);
  });

  it("nothing listening: exit 1, names the endpoint without credentials", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const r = await cli(["namespace", "list", "--endpoint", `http://default:${ADMIN}@127.0.0.1:${port}`], {});
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toBe(
      `enclave: cannot reach the engine at http://127.0.0.1:${port}: connection refused (is the engine running, and is this its host and port?)\n`,
    );
  });

  it("a 500 with the wire error: exit 1 with its message", async () => {
    next = [500, { group: "actor", code: "internal_error", message: "Internal error (correlation id abc)" }];
    const r = await cli(["namespace", "list"], env());
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toContain("Internal error (correlation id abc) (HTTP 500 actor.internal_error)");
  });
});
