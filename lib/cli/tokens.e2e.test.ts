/**
 * End to end: `enclave namespace ...` and `enclave token ...` against a real engine with a
 * generated admin token (read from DATA_DIR/admin-token via --data). The management routes
 * (`/namespaces`, `/tokens`) are being built separately: these tests run once a started engine
 * answers `GET /namespaces` with anything but 404 route_not_found, and are skipped until then.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createEngine, type EnclaveEngine } from "../create-engine.js";
import { EXIT_OK } from "./io.js";
import { cli, spawnCli } from "./testing/io.js";

const dir = await mkdtemp(join(tmpdir(), "enclave-cli-tokens-"));
const data = join(dir, "data");
const running: EnclaveEngine = await createEngine({
  storage: { driver: "fileSystem", fileSystem: { path: data } },
  gateway: { host: "127.0.0.1", port: 0 },
  log: { level: "silent" },
  env: {},
  configPaths: [],
});
const { url } = await running.listen();
const adminToken = (await readFile(join(data, "admin-token"), "utf8")).trim();

async function probe(): Promise<boolean> {
  const res = await fetch(`${url}/namespaces`, { headers: { authorization: `Bearer ${adminToken}` } });
  const body = (await res.json().catch(() => ({}))) as { code?: string };
  return !(res.status === 404 && body.code === "route_not_found");
}
const routesExist = await probe();

afterAll(async () => {
  await running.close();
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

/** The CLI in this process, pointed at the engine, admin token from DATA_DIR/admin-token. */
async function enclave(...args: string[]) {
  const dash = args.indexOf("--");
  const argv =
    dash < 0
      ? [...args, "--endpoint", url, "--data", data]
      : [...args.slice(0, dash), "--endpoint", url, "--data", data, ...args.slice(dash)];
  const r = await cli(argv, {});
  expect(r.out + r.err).not.toContain(adminToken);
  return r;
}

function actorsWith(token: string): Promise<Response> {
  return fetch(`${url}/actors`, { headers: { authorization: `Bearer ${token}` } });
}

describe.skipIf(!routesExist)("namespace and token commands against a running engine", () => {
  it("namespace create and list", async () => {
    const created = await enclave("namespace", "create", "acme", "--display-name", "Acme Corp");
    expect(created.err).toBe("");
    expect(created.code).toBe(EXIT_OK);
    expect(created.out).toContain('Created namespace "acme"');

    const list = await enclave("namespace", "list");
    expect(list.code).toBe(EXIT_OK);
    expect(list.out).toMatch(/^NAME\s+DISPLAY NAME\s+CREATED$/m);
    expect(list.out).toMatch(/^default\b/m);
    expect(list.out).toMatch(/^acme\s+Acme Corp\s+\d{4}-/m);

    const json = await enclave("namespace", "list", "--json");
    const names = (JSON.parse(json.out) as { namespaces: { name: string }[] }).namespaces.map((n) => n.name);
    expect(names).toEqual(expect.arrayContaining(["default", "acme"]));
  });

  it("token create prints a working secret once; list never shows it; revoke stops it", async () => {
    const created = await enclave(
      "token",
      "create",
      "--namespace",
      "acme",
      "--kind",
      "secret",
      "--name",
      "ci",
    );
    expect(created.code).toBe(EXIT_OK);
    expect(created.out).toContain("will not be shown again");
    const secret = /Secret \(shown only this once[^\n]*\n {2}(\S+)/.exec(created.out)?.[1];
    const id = /id: {7}(\S+)/.exec(created.out)?.[1];
    expect(secret).toBeDefined();
    expect(id).toBeDefined();
    expect(created.out.split(secret!).length - 1).toBe(1);
    expect((await actorsWith(secret!)).status).toBe(200);

    const list = await enclave("token", "list", "--namespace", "acme");
    expect(list.code).toBe(EXIT_OK);
    expect(list.out).toContain(id!);
    expect(list.out).not.toContain(secret!);
    const json = await enclave("token", "list", "--namespace", "acme", "--json");
    expect(json.out).not.toContain(secret!);
    const tokens = (JSON.parse(json.out) as { tokens: { id: string; kind: string; name: string }[] }).tokens;
    expect(tokens.find((t) => t.id === id)).toMatchObject({ kind: "secret", name: "ci" });

    // Ids are random base64url: one may start with "-", so it goes after "--".
    const revoked = await enclave("token", "revoke", "--", id!);
    expect(revoked.code).toBe(EXIT_OK);
    expect([401, 403]).toContain((await actorsWith(secret!)).status);
    const after = await enclave("token", "list", "--namespace", "acme");
    const row = after.out.split("\n").find((l) => l.startsWith(id!));
    expect(row).toMatch(/\srevoked\s/);
  });

  it("a public token with an expiry (--json): listed with it, refused on management routes", async () => {
    const expiresAt = Date.now() + 3_600_000;
    const created = await enclave(
      "token",
      "create",
      "--namespace",
      "acme",
      "--kind",
      "public",
      "--expires-at",
      new Date(expiresAt).toISOString(),
      "--json",
    );
    expect(created.code).toBe(EXIT_OK);
    const body = JSON.parse(created.out) as { token: { id: string; expiresAt: number }; secret: string };
    expect(body.token.expiresAt).toBe(expiresAt);
    expect(created.err).toContain("will not be shown again");
    expect((await actorsWith(body.secret)).status).toBe(403);
    const list = await enclave("token", "list", "--namespace", "acme");
    expect(list.out).toContain(new Date(expiresAt).toISOString());
  });

  it("the bin as a child process reads the admin token from --data", async () => {
    const c = spawnCli(["namespace", "list", "--json", "--endpoint", url, "--data", data]);
    const exit = await c.exited;
    expect(c.output().stderr).toBe("");
    expect(exit.code).toBe(EXIT_OK);
    expect(c.output().stdout).toContain('"default"');
    expect(c.output().stdout).not.toContain(adminToken);
  });
});

describe.runIf(!routesExist)("before the management routes exist", () => {
  it("the commands say the engine does not serve the route (exit 1)", async () => {
    const r = await enclave("namespace", "list");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/does not serve GET \/namespaces/);
  });
});
