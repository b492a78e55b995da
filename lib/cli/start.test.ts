/**
 * `enclave start` as a real process: listening line, admin token file (path only), graceful
 * SIGTERM (exit 0, store closed so the next start works), the data directory lock, the
 * shutdown deadline and a second signal (exit 1 at once), and an invalid configuration (exit 2).
 */
import { connect, type Socket } from "node:net";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEV_ADMIN_TOKEN } from "../config/index.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./io.js";
import { cli, spawnCli, type Child } from "./testing/io.js";

let dir: string;
const children: Child[] = [];
const sockets: Socket[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "enclave-cli-start-"));
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of children.splice(0)) await c.kill();
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

const LISTENING = /enclave listening on (http:\/\/\S+)/;

function start(args: string[], env: Record<string, string> = {}): Child {
  const c = spawnCli(["start", "--port", "0", "--host", "127.0.0.1", ...args], env);
  children.push(c);
  return c;
}

/**
 * Holds a request in flight: headers with a valid token, then half of a declared body. The
 * server cannot finish draining until the body arrives (it never does).
 */
async function holdRequestOpen(url: string, token: string, length = 1000): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  socket.on("error", () => undefined);
  socket.write(
    `PUT /actors HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{`,
  );
  await new Promise((r) => setTimeout(r, 200));
  return socket;
}

describe("enclave start (a child process)", () => {
  it("serves, prints the token file's path (never the token), and stops cleanly on SIGTERM", async () => {
    const data = join(dir, "data");
    const first = start(["--data", data]);
    const url = await first.waitFor(LISTENING);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const tokenFile = join(data, "admin-token");
    const token = (await readFile(tokenFile, "utf8")).trim();
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    expect(first.output().stderr).toContain(`admin token file: ${tokenFile}`);

    const health = await fetch(`${url}/health`);
    expect(await health.json()).toMatchObject({ status: "ok" });
    const authed = await fetch(`${url}/actors`, { headers: { authorization: `Bearer ${token}` } });
    expect(authed.status).toBe(200);

    // A second engine on the same data directory: refused clearly, exit 1.
    const second = await cli(["start", "--data", data, "--port", "0", "--host", "127.0.0.1"], {});
    expect(second.code).toBe(EXIT_FAILURE);
    expect(second.err).toContain(`the data directory ${data} is in use by another process`);

    const t0 = Date.now();
    first.child.kill("SIGTERM");
    expect(await first.exited).toEqual({ code: EXIT_OK, signal: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(first.output().stderr).toMatch(/SIGTERM: shutting down/);
    expect(first.output().stderr).toMatch(/enclave: stopped/);
    await expect(fetch(`${url}/health`)).rejects.toThrow();

    // The store was closed: the next start on the same directory works, with the same token.
    const again = start(["--data", data]);
    const url2 = await again.waitFor(LISTENING);
    const res = await fetch(`${url2}/actors`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    again.child.kill("SIGINT");
    expect(await again.exited).toEqual({ code: EXIT_OK, signal: null });

    for (const c of [first, again]) {
      const { stdout, stderr } = c.output();
      expect(stdout + stderr).not.toContain(token);
    }
  });

  it("SIGTERM drains a request in flight on a keep-alive connection, answers it, and exits 0", async () => {
    const c = start(["--data", join(dir, "data"), "--dev"], { ENCLAVE__SHUTDOWN__TIMEOUT_MS: "20000" });
    const url = await c.waitFor(LISTENING);
    const body = '{"name":"nothing","key":["k"]}';
    const socket = await holdRequestOpen(url, DEV_ADMIN_TOKEN, body.length);
    let answer = "";
    socket.on("data", (d: Buffer) => (answer += d.toString("utf8")));
    const t0 = Date.now();
    c.child.kill("SIGTERM");
    await c.waitFor(/SIGTERM: shutting down/);
    await new Promise((r) => setTimeout(r, 200));
    expect(c.child.exitCode).toBeNull(); // still draining
    socket.write(body.slice(1)); // the rest of the body: the request can finish now
    expect(await c.exited).toEqual({ code: EXIT_OK, signal: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(answer).toMatch(/^HTTP\/1\.1 \d{3} /);
  });

  it("the shutdown deadline exits at once with code 1 while a request is still in flight", async () => {
    const c = start(["--data", join(dir, "data"), "--dev"], { ENCLAVE__SHUTDOWN__TIMEOUT_MS: "700" });
    const url = await c.waitFor(LISTENING);
    expect(c.output().stderr).toMatch(/DEVELOPMENT token/);
    await holdRequestOpen(url, DEV_ADMIN_TOKEN);
    const t0 = Date.now();
    c.child.kill("SIGTERM");
    const exit = await c.exited;
    const took = Date.now() - t0;
    expect(exit).toEqual({ code: EXIT_FAILURE, signal: null });
    expect(took).toBeGreaterThanOrEqual(600);
    expect(took).toBeLessThan(5_000);
    expect(c.output().stderr).toMatch(/shutdown deadline \(shutdown\.timeoutMs = 700 ms\) passed/);
    expect(c.output().stdout + c.output().stderr).not.toContain(DEV_ADMIN_TOKEN);

    // Even after a hard exit the directory is usable (the OS released the lock).
    const next = start(["--data", join(dir, "data"), "--dev"]);
    await next.waitFor(LISTENING);
    next.child.kill("SIGTERM");
    expect((await next.exited).code).toBe(EXIT_OK);
  });

  it("a second signal exits at once with code 1", async () => {
    const c = start(["--data", join(dir, "data"), "--dev"], { ENCLAVE__SHUTDOWN__TIMEOUT_MS: "60000" });
    const url = await c.waitFor(LISTENING);
    await holdRequestOpen(url, DEV_ADMIN_TOKEN);
    c.child.kill("SIGTERM");
    await c.waitFor(/SIGTERM: shutting down/);
    const t0 = Date.now();
    c.child.kill("SIGTERM");
    expect(await c.exited).toEqual({ code: EXIT_FAILURE, signal: null });
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(c.output().stderr).toMatch(/second signal: exiting now/);
  });

  it("an invalid configuration: every problem with its path, exit 2, nothing written", async () => {
    const file = join(dir, "bad.yaml");
    await writeFile(file, "gateway:\n  port: 99999\nstorage:\n  fileSystem:\n    pth: /x\n");
    const data = join(dir, "never");
    const c = start(["--config", file, "--data", data], { ENCLAVE__ACTORS__SLEEP_TIMEOUT_MS: "soon" });
    expect((await c.exited).code).toBe(EXIT_USAGE);
    const { stderr } = c.output();
    expect(stderr).toContain("invalid configuration (3 problems)");
    expect(stderr).toContain(`config file ${file}: /gateway/port must be <= 65535`);
    expect(stderr).toContain(`config file ${file}: unknown key "pth" at /storage/fileSystem`);
    expect(stderr).toContain("environment variable ENCLAVE__ACTORS__SLEEP_TIMEOUT_MS: expected a number");
    await expect(stat(data)).rejects.toThrow();
  });
});

describe("enclave start (in-process, a fake signal source)", () => {
  it("flags win over the environment; SIGTERM stops it with exit 0", async () => {
    const { captureIo } = await import("./testing/io.js");
    const { run } = await import("./run.js");
    const io = captureIo({ ENCLAVE__GATEWAY__PORT: "1", ENCLAVE__LOG__LEVEL: "silent" });
    const running = run(["start", "--data", join(dir, "data"), "--port", "0", "--host", "127.0.0.1"], io);
    const deadline = Date.now() + 20_000;
    while (!LISTENING.test(io.err()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const url = LISTENING.exec(io.err())?.[1];
    expect(url).toBeDefined();
    expect((await fetch(`${url}/health`)).status).toBe(200);
    io.signals.emit("SIGTERM", "SIGTERM");
    expect(await running).toBe(EXIT_OK);
    expect(io.signals.listenerCount("SIGTERM")).toBe(0);
    expect(io.signals.listenerCount("SIGINT")).toBe(0);
  });
});
