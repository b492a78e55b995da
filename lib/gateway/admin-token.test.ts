/**
 * Where the admin token comes from when none is configured: generated once into
 * DATA_DIR/admin-token (mode 0600, one line), reused unchanged on restart, never logged and never
 * sent back. `dev: true` uses the well-known development token with a loud warning.
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import { DEV_ADMIN_TOKEN } from "../config/index.js";
import { createEngine, type CreateEngineOptions, type EnclaveEngine } from "../create-engine.js";
import { Errors } from "../errors.js";
import { expectError, removeDir, tempDir } from "./testing/harness.js";

const counter = actor({ state: { count: 0 }, actions: { get: (c) => c.state.count } });

/** A pino logger (no redaction of its own) writing every line, at every level, into memory. */
function memoryLogger(): { logger: Logger; text: () => string; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString("utf8"));
      done();
    },
  });
  const logger = pino({ level: "trace" }, sink);
  const text = () => chunks.join("");
  return {
    logger,
    text,
    lines: () =>
      text()
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(
  dataDir: string,
  logger: Logger,
  extra: Partial<CreateEngineOptions> = {},
): Promise<EnclaveEngine> {
  const running = await createEngine({
    registry: { use: { counter } },
    storage: { driver: "fileSystem", fileSystem: { path: dataDir } },
    gateway: { host: "127.0.0.1", port: 0 },
    env: {},
    logger,
    ...extra,
  });
  await running.listen();
  return running;
}

/** Everything a caller could see: status, headers and body of a few responses. */
async function exchange(url: string, token: string): Promise<{ statuses: number[]; seen: string }> {
  const statuses: number[] = [];
  let seen = "";
  const requests: [string, RequestInit][] = [
    ["/health", {}],
    ["/metadata", {}],
    ["/actors", { headers: { authorization: `Bearer ${token}` } }],
    [
      "/actors",
      {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "counter", key: ["t"] }),
      },
    ],
    ["/actors", { headers: { authorization: `Bearer ${token}x` } }],
    ["/actors?namespace=nope", { headers: { authorization: `Bearer ${token}` } }],
    ["/nope", { headers: { authorization: `Bearer ${token}` } }],
  ];
  for (const [path, init] of requests) {
    const res = await fetch(url + path, init);
    statuses.push(res.status);
    seen += [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n") + (await res.text());
  }
  return { statuses, seen };
}

describe("generated admin token", () => {
  it("is written once to DATA_DIR/admin-token (0600, one line), works, and is never logged or echoed", async () => {
    const dir = await tempDir();
    cleanups.push(() => removeDir(dir));
    const log = memoryLogger();
    const running = await start(dir, log.logger);
    cleanups.push(() => running.close());

    const path = join(dir, "admin-token");
    expect(running.adminTokenPath).toBe(path);
    const content = await readFile(path, "utf8");
    expect(content).toMatch(/^[A-Za-z0-9_-]{32,}\n$/); // one line, strong
    const token = content.trim();
    const info = await stat(path);
    expect(info.mode & 0o777).toBe(0o600);

    const { statuses, seen } = await exchange(running.url as string, token);
    expect(statuses).toEqual([200, 200, 200, 200, 401, 404, 404]);
    expect(seen).not.toContain(token);

    // The log names the file, never the token.
    const lines = log.lines();
    expect(lines.some((l) => JSON.stringify(l).includes(path))).toBe(true);
    expect(log.text()).not.toContain(token);
    expect(JSON.stringify(running.config)).not.toContain(token);
  });

  it("a restart reuses the file unchanged (never rewritten), and the same token works", async () => {
    const dir = await tempDir();
    cleanups.push(() => removeDir(dir));
    const first = await start(dir, memoryLogger().logger);
    const path = join(dir, "admin-token");
    const content = await readFile(path, "utf8");
    const before = await stat(path);
    await first.close();

    const log = memoryLogger();
    const second = await start(dir, log.logger);
    cleanups.push(() => second.close());
    expect(second.adminTokenPath).toBe(path);
    expect(await readFile(path, "utf8")).toBe(content);
    const after = await stat(path);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.mode & 0o777).toBe(0o600);

    const token = content.trim();
    const res = await fetch(`${second.url}/actors`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(log.text()).not.toContain(token);
  });

  it("a damaged token file stops the start with an error naming it, and is left alone", async () => {
    const dir = await tempDir();
    cleanups.push(() => removeDir(dir));
    const path = join(dir, "admin-token");
    await writeFile(path, "short\n", { mode: 0o600 });
    await expect(start(dir, memoryLogger().logger)).rejects.toThrow(path);
    expect(await readFile(path, "utf8")).toBe("short\n");
  });

  it("a configured token wins: no file is written, and only that token works", async () => {
    const dir = await tempDir();
    cleanups.push(() => removeDir(dir));
    const configured = "c".repeat(40);
    const log = memoryLogger();
    const running = await start(dir, log.logger, { auth: { adminToken: configured } });
    cleanups.push(() => running.close());
    expect(running.adminTokenPath).toBeUndefined();
    await expect(stat(join(dir, "admin-token"))).rejects.toMatchObject({ code: "ENOENT" });
    const { statuses, seen } = await exchange(running.url as string, configured);
    expect(statuses).toEqual([200, 200, 200, 200, 401, 404, 404]);
    expect(seen).not.toContain(configured);
    expect(log.text()).not.toContain(configured);
    expect(JSON.stringify(running.config)).not.toContain(configured);
  });
});

describe("dev mode", () => {
  it("uses DEV_ADMIN_TOKEN with a loud warning, and writes no token file", async () => {
    const dir = await tempDir();
    cleanups.push(() => removeDir(dir));
    const log = memoryLogger();
    const running = await start(dir, log.logger, { dev: true });
    cleanups.push(() => running.close());

    const ok = await fetch(`${running.url}/actors`, {
      headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` },
    });
    expect(ok.status).toBe(200);
    await expectError(
      await fetch(`${running.url}/actors`, {
        headers: { authorization: "Bearer some-other-token-entirely" },
      }),
      Errors.unauthenticated,
    );
    await expect(stat(join(dir, "admin-token"))).rejects.toMatchObject({ code: "ENOENT" });

    const warnings = log.lines().filter((l) => (l.level as number) >= 40);
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.map((w) => String(w.msg)).join("\n")).toMatch(/DEVELOPMENT MODE/);
    expect(warnings.map((w) => String(w.msg)).join("\n")).toMatch(/never use/i);
  });
});
