/**
 * Backup and restore: `GET /admin/backup` (lib/gateway/routes/admin.ts), `enclave backup` of a running engine under write load and of a
 * stopped one, `enclave restore` (verification, the lock, --force, atomic replacement), and the
 * stream decoder against truncated or altered streams.
 */
import { createServer, type Server } from "node:http";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import { createEngine, type EnclaveEngine } from "../create-engine.js";
import { BACKUP_CONTENT_TYPE } from "../gateway/routes/admin.js";
import { LevelStore } from "../store/index.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./io.js";
import { BackupStreamError, decodeBackupStream, digestStore, type BackupManifest } from "./snapshot.js";
import { cli } from "./testing/io.js";

const ADMIN = "b".repeat(40);

/** A parsed JSON body: its shape is what the tests check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const counter = actor({
  state: { count: 0 },
  actions: {
    increment: (c, n: number) => (c.state.count += n),
    get: (c) => c.state.count,
    /** Appends log entry `i` (KV key `log:000000i`). */
    append: async (c, i: number) => {
      await c.kv.put(`log:${String(i).padStart(8, "0")}`, `entry ${i}`);
      return i;
    },
    logCount: async (c) => (await c.kv.list("log:")).length,
    logKeys: async (c) => (await c.kv.list("log:")).map((e) => new TextDecoder().decode(e.key)),
    /** Bulk data, so a backup takes long enough for writes to land during it. */
    fill: async (c, n: number, size: number) => {
      const value = "x".repeat(size);
      for (let i = 0; i < n; i += 100) {
        const batch: [string, string][] = [];
        for (let j = i; j < Math.min(n, i + 100); j++) batch.push([`fill:${j}`, value]);
        await c.kv.putMany(batch);
      }
      return n;
    },
  },
});

let dir: string;
const engines: EnclaveEngine[] = [];
const servers: Server[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "enclave-cli-backup-"));
});
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  for (const e of engines.splice(0)) await e.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

/** An engine with the counter type, on `data` (GET /admin/backup is part of the gateway). */
async function startEngine(data: string): Promise<{ running: EnclaveEngine; url: string }> {
  const running = await createEngine({
    registry: { use: { counter } },
    storage: { driver: "fileSystem", fileSystem: { path: data } },
    gateway: { host: "127.0.0.1", port: 0 },
    auth: { adminToken: ADMIN },
    log: { level: "silent" },
    env: {},
    configPaths: [],
  });
  engines.push(running);
  expect(running.server.hasRoute({ method: "GET", url: "/admin/backup" })).toBe(true);
  const { url } = await running.listen();
  return { running, url };
}

async function api(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function actorId(url: string, key: string): Promise<string> {
  const r = await api(url, "PUT", "/actors", { name: "counter", key: [key] });
  expect(r.status).toBe(200);
  return r.body.actor.actorId as string;
}

async function action(url: string, id: string, name: string, ...args: unknown[]): Promise<Json> {
  const r = await api(url, "POST", `/gateway/${id}/action/${name}`, { args });
  if (r.status !== 200) throw new Error(`${name}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.output;
}

const env = { ENCLAVE_ADMIN_TOKEN: ADMIN };

async function readManifest(backup: string): Promise<BackupManifest> {
  return JSON.parse(await readFile(join(backup, "manifest.json"), "utf8")) as BackupManifest;
}

/** Siblings of `path` left behind by a backup or restore (hidden temp directories). */
async function leftovers(parent: string): Promise<string[]> {
  return (await readdir(parent)).filter((n) => /\.(partial|restore|replaced)-/.test(n));
}

describe("backup of a running engine under write load, then restore", () => {
  it("keeps every write acknowledged before the backup started; the backup is internally consistent", async () => {
    const data = join(dir, "data");
    const { url } = await startEngine(data);

    // Bulk data first, so the snapshot stream takes a while.
    const bulk = await Promise.all(Array.from({ length: 6 }, (_, i) => actorId(url, `bulk-${i}`)));
    await Promise.all(bulk.map((id) => action(url, id, "fill", 400, 2048)));

    // Writers: counters incremented one at a time, and one append-only log, each recording
    // the last value the engine acknowledged.
    const counters = await Promise.all(Array.from({ length: 6 }, (_, i) => actorId(url, `w-${i}`)));
    const acked = new Map<string, number>(counters.map((id) => [id, 0]));
    const logId = await actorId(url, "log");
    let logAcked = -1;
    const created: string[] = [];
    let stop = false;
    let errors = 0;
    let writes = 0;
    const loops = [
      ...counters.map(async (id) => {
        while (!stop) {
          try {
            acked.set(id, (await action(url, id, "increment", 1)) as number);
            writes++;
          } catch {
            errors++;
          }
        }
      }),
      (async () => {
        for (let i = 0; !stop; i++) {
          logAcked = (await action(url, logId, "append", i)) as number;
          writes++;
        }
      })(),
      (async () => {
        for (let i = 0; !stop; i++) {
          created.push(await actorId(url, `new-${i}`));
          writes++;
        }
      })(),
    ];
    while (Math.min(...acked.values()) < 10 || logAcked < 10 || created.length < 5) {
      await new Promise((r) => setTimeout(r, 10));
    }

    // The moment the backup starts: everything acknowledged so far must be in it.
    const before = new Map(acked);
    const logBefore = logAcked;
    const createdBefore = [...created];
    const writesBefore = writes;
    const backupDir = join(dir, "backups", "b1");
    const b = await cli(["backup", backupDir, "--endpoint", url], env);
    const writesDuring = writes - writesBefore;
    stop = true;
    await Promise.all(loops);
    const after = new Map(acked);
    const logAfter = logAcked;
    expect(b.err).toBe("");
    expect(b.code).toBe(EXIT_OK);
    expect(errors).toBe(0);
    expect(writesDuring).toBeGreaterThan(0); // the backup really ran while writes went on

    const manifest = await readManifest(backupDir);
    expect(manifest).toMatchObject({ format: "enclave-backup", formatVersion: 1, source: "engine" });
    expect(manifest.entries).toBeGreaterThan(6 * 400);
    expect(manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(b.out).toContain(`Backup written to ${backupDir}`);
    expect(b.out).toContain(`entries:  ${manifest.entries}`);
    expect(b.out + b.err).not.toContain(ADMIN);
    expect(await leftovers(join(dir, "backups"))).toEqual([]);

    // The backup directory is a store of its own whose content matches its manifest.
    const opened = await LevelStore.open(backupDir);
    expect(await digestStore(opened)).toEqual({ entries: manifest.entries, sha256: manifest.sha256 });
    await opened.close();

    // Restore into a new data directory (offline) and look.
    for (const e of engines.splice(0)) await e.close();
    const restored = join(dir, "restored");
    const r = await cli(["restore", backupDir, "--data", restored], {});
    expect(r.err).toBe("");
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toContain(`Restored ${manifest.entries} entries into ${restored}`);
    const check = await LevelStore.open(restored);
    expect(await digestStore(check)).toEqual({ entries: manifest.entries, sha256: manifest.sha256 });
    await check.close();

    const { url: url2 } = await startEngine(restored);
    for (const id of counters) {
      const value = (await action(url2, id, "get")) as number;
      expect(value).toBeGreaterThanOrEqual(before.get(id)!);
      expect(value).toBeLessThanOrEqual(after.get(id)!);
    }
    // The log is a prefix: entries 0..n with no gap, n at least what was acknowledged before.
    const keys = (await action(url2, logId, "logKeys")) as string[];
    expect(keys.length).toBeGreaterThanOrEqual(logBefore + 1);
    expect(keys.length).toBeLessThanOrEqual(logAfter + 1);
    expect(keys).toEqual(keys.map((_, i) => `log:${String(i).padStart(8, "0")}`));
    for (const id of createdBefore) expect((await api(url2, "GET", `/actors/${id}`)).status).toBe(200);
    for (const id of bulk) expect(await action(url2, id, "get")).toBe(0);
  });
});

describe("GET /admin/backup", () => {
  it("needs the admin token and streams the documented format", async () => {
    const { url } = await startEngine(join(dir, "data"));
    expect((await fetch(`${url}/admin/backup`)).status).toBe(401);
    const res = await fetch(`${url}/admin/backup`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(BACKUP_CONTENT_TYPE);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(0, 17).toString("latin1")).toBe("ENCLAVE-BACKUP/1\n");
    expect(bytes.readUInt32BE(bytes.length - 44)).toBe(0xffffffff);
    let header: unknown;
    const entries = [];
    for await (const e of decodeBackupStream([bytes], (h) => (header = h))) entries.push(e);
    expect(header).toMatchObject({
      format: 1,
      engineVersion: expect.any(String),
      createdAt: expect.any(Number),
    });
    expect(entries.length).toBeGreaterThan(0); // the default namespace at least
    expect(Number(bytes.readBigUInt64BE(bytes.length - 40))).toBe(entries.length);
  });
});

describe("the backup stream decoder", () => {
  async function realStream(): Promise<Buffer> {
    const { url } = await startEngine(join(dir, "data"));
    const id = await actorId(url, "s");
    await action(url, id, "fill", 50, 100);
    const res = await fetch(`${url}/admin/backup`, { headers: { authorization: `Bearer ${ADMIN}` } });
    return Buffer.from(await res.arrayBuffer());
  }

  async function decode(chunks: Uint8Array[]): Promise<number> {
    let n = 0;
    for await (const _ of decodeBackupStream(chunks, () => undefined)) n++;
    return n;
  }

  it("accepts the stream in chunks of any size, and rejects truncation, alteration and extra bytes", async () => {
    const bytes = await realStream();
    const whole = await decode([bytes]);
    expect(whole).toBeGreaterThan(50);
    // Split into 1-byte and 7-byte chunks: same result.
    expect(await decode([...bytes].map((b) => Uint8Array.of(b)))).toBe(whole);
    const sevens: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 7) sevens.push(bytes.subarray(i, i + 7));
    expect(await decode(sevens)).toBe(whole);

    for (const cut of [0, 5, 17, 30, Math.floor(bytes.length / 2), bytes.length - 44, bytes.length - 1]) {
      await expect(decode([bytes.subarray(0, cut)])).rejects.toThrow(/ended in the middle/);
    }
    const flipped = Buffer.from(bytes);
    const middle = Math.floor(bytes.length / 2);
    flipped[middle] = flipped[middle]! ^ 0x01;
    await expect(decode([flipped])).rejects.toThrow(BackupStreamError);
    const recount = Buffer.from(bytes);
    recount.writeBigUInt64BE(BigInt(whole + 1), bytes.length - 40);
    await expect(decode([recount])).rejects.toThrow(/the trailer counts/);
    await expect(decode([bytes, Uint8Array.of(0)])).rejects.toThrow(/bytes after the trailer/);
    const magic = Buffer.from(bytes);
    magic[0] = 0x58;
    await expect(decode([magic])).rejects.toThrow(/does not start with ENCLAVE-BACKUP/);
  });

  it("`enclave backup` of a stream that breaks off: exit 1 and no backup directory", async () => {
    const bytes = await realStream();
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": BACKUP_CONTENT_TYPE });
      res.end(bytes.subarray(0, bytes.length - 100));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as AddressInfo).port;
    const target = join(dir, "out", "broken");
    const r = await cli(["backup", target, "--endpoint", `http://127.0.0.1:${port}`], env);
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toMatch(/the backup stream is not valid: it ended in the middle/);
    await expect(stat(target)).rejects.toThrow();
    expect(await leftovers(join(dir, "out"))).toEqual([]);
  });
});

describe("enclave backup: targets and offline mode", () => {
  it("refuses a non-empty directory (exit 2, untouched); an empty one is fine", async () => {
    const { url } = await startEngine(join(dir, "data"));
    const full = join(dir, "full");
    await mkdir(full);
    await writeFile(join(full, "keep.txt"), "mine");
    const r = await cli(["backup", full, "--endpoint", url], env);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain(`the backup directory ${full} is not empty`);
    expect(await readdir(full)).toEqual(["keep.txt"]);

    const empty = join(dir, "empty");
    await mkdir(empty);
    const ok = await cli(["backup", empty, "--endpoint", url, "--json"], env);
    expect(ok.code).toBe(EXIT_OK);
    expect(JSON.parse(ok.out)).toMatchObject({
      directory: empty,
      format: "enclave-backup",
      source: "engine",
    });
    expect(await readdir(empty)).toContain("manifest.json");
  });

  it("--data reads a stopped engine's store; a running one's is refused (exit 1)", async () => {
    const data = join(dir, "data");
    const { running, url } = await startEngine(data);
    const id = await actorId(url, "offline");
    await action(url, id, "increment", 41);

    const locked = await cli(["backup", join(dir, "b-locked"), "--data", data], {});
    expect(locked.code).toBe(EXIT_FAILURE);
    expect(locked.err).toContain(`the data directory ${data} is in use by a running engine`);
    await expect(stat(join(dir, "b-locked"))).rejects.toThrow();

    await running.close();
    const b = await cli(["backup", join(dir, "b-offline"), "--data", data], {});
    expect(b.code).toBe(EXIT_OK);
    const manifest = await readManifest(join(dir, "b-offline"));
    expect(manifest.source).toBe("data-directory");
    const store = await LevelStore.open(data);
    expect(await digestStore(store)).toEqual({ entries: manifest.entries, sha256: manifest.sha256 });
    await store.close();

    const both = await cli(["backup", join(dir, "b2"), "--data", data, "--endpoint", url], {});
    expect(both.code).toBe(EXIT_USAGE);
    expect(both.err).toMatch(/not both/);
    const none = await cli(["backup", join(dir, "b3"), "--data", join(dir, "nothing")], {});
    expect(none.code).toBe(EXIT_USAGE);
    expect(none.err).toMatch(/there is no store in/);
  });
});

describe("enclave restore", () => {
  /** A backup with one counter at 7, and a data dir of another engine with a counter at 100. */
  async function setup(): Promise<{ backup: string; data: string; id: string; otherId: string }> {
    const source = join(dir, "source");
    const { running, url } = await startEngine(source);
    const id = await actorId(url, "restored");
    await action(url, id, "increment", 7);
    const backup = join(dir, "backup");
    expect((await cli(["backup", backup, "--endpoint", url], env)).code).toBe(EXIT_OK);
    await running.close();

    const data = join(dir, "data");
    const other = await startEngine(data);
    const otherId = await actorId(other.url, "other");
    await action(other.url, otherId, "increment", 100);
    await other.running.close();
    return { backup, data, id, otherId };
  }

  it("refuses a data directory in use by a running engine (exit 1), changing nothing", async () => {
    const { backup, data } = await setup();
    const { url } = await startEngine(data);
    const before = (await readdir(data)).sort();
    const r = await cli(["restore", backup, "--data", data, "--force"], {});
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toContain(`the data directory ${data} is in use by a running engine; stop it first`);
    expect((await readdir(data)).sort()).toEqual(before);
    expect((await api(url, "GET", "/health")).status).toBe(200);
    expect(await leftovers(dir)).toEqual([]);
  });

  it("refuses a non-empty store without --force (exit 2); with --force replaces it and keeps admin-token", async () => {
    const { backup, data, id, otherId } = await setup();
    const tokenFile = join(data, "admin-token");
    await writeFile(tokenFile, "operator-token-kept-as-is-0123456789\n", { mode: 0o600 });
    const tokenBefore = await stat(tokenFile);

    const refused = await cli(["restore", backup, "--data", data], {});
    expect(refused.code).toBe(EXIT_USAGE);
    expect(refused.err).toContain("already holds a store with data; pass --force to replace it");

    const r = await cli(["restore", backup, "--data", data, "--force"], {});
    expect(r.err).toBe("");
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toContain("the previous store was replaced (--force)");
    expect(await leftovers(dir)).toEqual([]);

    const tokenAfter = await stat(tokenFile);
    expect(tokenAfter.ino).toBe(tokenBefore.ino);
    expect(tokenAfter.mode).toBe(tokenBefore.mode);
    expect(tokenAfter.mtimeMs).toBe(tokenBefore.mtimeMs);
    expect(await readFile(tokenFile, "utf8")).toBe("operator-token-kept-as-is-0123456789\n");

    const { url } = await startEngine(data);
    expect(await action(url, id, "get")).toBe(7);
    expect((await api(url, "GET", `/actors/${otherId}`)).status).toBe(404);
  });

  it("restores into a directory that does not exist, or holds only admin-token, without --force", async () => {
    const { backup, id } = await setup();
    const fresh = join(dir, "deep", "fresh");
    const r = await cli(["restore", backup, "--data", fresh, "--json"], {});
    expect(r.code).toBe(EXIT_OK);
    expect(JSON.parse(r.out)).toMatchObject({ dataDirectory: fresh, replaced: false });

    const tokenOnly = join(dir, "token-only");
    await mkdir(tokenOnly);
    await writeFile(join(tokenOnly, "admin-token"), `${ADMIN}\n`, { mode: 0o600 });
    const t = await cli(["restore", backup, "--data", tokenOnly], {});
    expect(t.code).toBe(EXIT_OK);
    expect(await readFile(join(tokenOnly, "admin-token"), "utf8")).toBe(`${ADMIN}\n`);
    const { url } = await startEngine(tokenOnly);
    expect(await action(url, id, "get")).toBe(7);
  });

  it("a damaged backup is refused before anything is replaced (exit 1)", async () => {
    const { backup, data, otherId } = await setup();
    const manifest = await readManifest(backup);
    await writeFile(
      join(backup, "manifest.json"),
      JSON.stringify({ ...manifest, sha256: manifest.sha256.replace(/^./, (c) => (c === "0" ? "1" : "0")) }),
    );
    const before = (await readdir(data)).sort();
    const r = await cli(["restore", backup, "--data", data, "--force"], {});
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.err).toMatch(/is damaged: .* Nothing was changed\./);
    expect((await readdir(data)).sort()).toEqual(before);
    expect(await leftovers(dir)).toEqual([]);
    const { url } = await startEngine(data);
    expect(await action(url, otherId, "get")).toBe(100);

    await writeFile(
      join(backup, "manifest.json"),
      JSON.stringify({ ...manifest, entries: manifest.entries + 1 }),
    );
    const count = await cli(["restore", backup, "--data", join(dir, "x")], {});
    expect(count.code).toBe(EXIT_FAILURE);
    expect(count.err).toMatch(/is damaged/);

    await rm(join(backup, "manifest.json"));
    const missing = await cli(["restore", backup, "--data", join(dir, "y")], {});
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.err).toMatch(/not a complete enclave backup: it has no manifest\.json/);
    await expect(stat(join(dir, "y"))).rejects.toThrow();
  });

  it("refuses a backup directory that does not exist, and the data directory as its own backup", async () => {
    const r = await cli(["restore", join(dir, "nope"), "--data", join(dir, "data")], {});
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toMatch(/does not exist/);
    const same = await cli(["restore", dir, "--data", dir], {});
    expect(same.code).toBe(EXIT_USAGE);
    expect(same.err).toMatch(/must be separate/);
  });
});
