/**
 * Embedded start: `registry.start()` in this process, and the example app as a real child
 * process driven with fetch only (the README flow), surviving kill -9 after an acknowledged
 * write and shutting down gracefully on SIGTERM.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import { Errors } from "../errors.js";
import { setup } from "../setup.js";
import { ADMIN_TOKEN, expectError, pollUntil, removeDir, tempDir, type Json } from "./testing/harness.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("registry.start() in this process", () => {
  const counter = actor({
    state: { count: 0 },
    actions: { increment: (c, n: number) => (c.state.count += n), get: (c) => c.state.count },
  });
  const registry = setup({ use: { counter } });

  it("listens and serves; explicit options win over the environment; no signal handlers", async () => {
    const dir = await tempDir();
    cleanups.push(() => removeDir(dir));
    const sigterm = process.listenerCount("SIGTERM");
    const sigint = process.listenerCount("SIGINT");
    const running = await registry.start({
      storage: { fileSystem: { path: dir } },
      gateway: { host: "127.0.0.1", port: 0 },
      auth: { adminToken: ADMIN_TOKEN },
      log: { level: "silent" },
      env: { ENCLAVE__AUTH__ADMIN_TOKEN: "e".repeat(32), ENCLAVE__GATEWAY__PORT: "1" },
      handleSignals: false,
    });
    let closed = false;
    cleanups.push(async () => {
      if (!closed) await running.close();
    });
    expect(process.listenerCount("SIGTERM")).toBe(sigterm);
    expect(process.listenerCount("SIGINT")).toBe(sigint);

    const url = running.url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ status: "ok" });
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
    const put = await fetch(`${url}/actors`, {
      method: "PUT",
      headers: auth,
      body: JSON.stringify({ name: "counter", key: ["embedded"] }),
    });
    const { actor: a } = (await put.json()) as { actor: { actorId: string } };
    const inc = await fetch(`${url}/gateway/${a.actorId}/action/increment`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ args: [4] }),
    });
    expect(await inc.json()).toEqual({ output: 4 });
    await expectError(
      await fetch(`${url}/actors`, { headers: { authorization: `Bearer ${"e".repeat(32)}` } }),
      Errors.unauthenticated,
    );

    await running.close();
    closed = true;
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it("with an endpoint it is a runner (lib/runner): one without a token is refused clearly", async () => {
    await expect(
      registry.start({
        endpoint: "http://default@127.0.0.1:1",
        log: { level: "silent" },
        env: {},
        handleSignals: false,
      }),
    ).rejects.toThrow(/runner mode: .*has no token/);
  });
});

// ---- the example app as a child process ----------------------------------------------------------

interface App {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startApp(dataDir: string, home: string): Promise<App> {
  const child = spawn(process.execPath, ["--import", "tsx", "examples/app/main.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      ENCLAVE__GATEWAY__PORT: "0",
      ENCLAVE__GATEWAY__HOST: "127.0.0.1",
      ENCLAVE__STORAGE__FILE_SYSTEM__PATH: dataDir,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString("utf8")));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString("utf8")));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const url = await pollUntil(
    () => {
      if (gone) throw new Error(`the app exited before listening:\n${out}`);
      return /Enclave is running at (http:\/\/\S+)/.exec(out)?.[1];
    },
    { timeoutMs: 30_000, intervalMs: 50, what: "the app's 'Enclave is running at' line" },
  );
  return { child, url, output: () => out, exited };
}

describe("the example app (examples/app/main.ts) as a process", () => {
  it("README flow over fetch; kill -9 after an acknowledged write loses nothing; SIGTERM exits 0", async () => {
    const dir = await tempDir();
    cleanups.push(() => removeDir(dir));
    const dataDir = join(dir, "data");

    // First start: the admin token is generated into the data dir.
    const app1 = await startApp(dataDir, dir);
    const tokenFile = join(dataDir, "admin-token");
    const token = (await readFile(tokenFile, "utf8")).trim();
    expect(app1.output()).toContain(tokenFile);
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const call = async (url: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(url + path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      expect(text).not.toContain(token);
      return { status: res.status, body: text ? (JSON.parse(text) as Json) : undefined };
    };

    const created = await call(app1.url, "PUT", "/actors", { name: "counter", key: ["demo"] });
    expect(created.status).toBe(200);
    expect(created.body.created).toBe(true);
    const id = created.body.actor.actorId as string;
    expect((await call(app1.url, "POST", `/gateway/${id}/action/increment`, { args: [5] })).body).toEqual({
      output: 5,
    });
    expect((await call(app1.url, "POST", `/gateway/${id}/action/get`)).body).toEqual({ output: 5 });
    expect((await call(app1.url, "POST", `/actors/${id}/sleep`)).status).toBe(200);
    expect((await call(app1.url, "GET", `/actors/${id}`)).body.actor.status).toBe("sleeping");
    expect((await call(app1.url, "POST", `/gateway/${id}/action/get`)).body).toEqual({ output: 5 });
    // The example's own UserError reaches the caller as is.
    const bad = await call(app1.url, "POST", `/gateway/${id}/action/increment`, { args: ["x"] });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ group: "user", code: "invalid_amount", message: "amount must be a number" });

    // Acknowledged, then killed at once.
    const acked = await call(app1.url, "POST", `/gateway/${id}/action/increment`, { args: [7] });
    expect(acked.body).toEqual({ output: 12 });
    app1.child.kill("SIGKILL");
    expect((await app1.exited).signal).toBe("SIGKILL");

    // Second start on the same data dir: same token file, same actor, the value is there.
    const app2 = await startApp(dataDir, dir);
    expect((await readFile(tokenFile, "utf8")).trim()).toBe(token);
    const found = await call(app2.url, "GET", "/actors?name=counter&key=demo");
    expect(found.body.actors.map((a: { actorId: string }) => a.actorId)).toEqual([id]);
    expect((await call(app2.url, "POST", `/gateway/${id}/action/get`)).body).toEqual({ output: 12 });
    expect((await call(app2.url, "PUT", "/actors", { name: "counter", key: ["demo"] })).body.created).toBe(
      false,
    );
    expect((await call(app2.url, "POST", `/gateway/${id}/action/increment`, { args: [1] })).body).toEqual({
      output: 13,
    });

    // SIGTERM: graceful shutdown, exit 0, promptly.
    const t0 = Date.now();
    app2.child.kill("SIGTERM");
    const exit = await app2.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
    await expect(fetch(`${app2.url}/health`)).rejects.toThrow();

    // After the graceful stop the last write is there too.
    const app3 = await startApp(dataDir, dir);
    expect((await call(app3.url, "POST", `/gateway/${id}/action/get`)).body).toEqual({ output: 13 });
    app3.child.kill("SIGTERM");
    expect(await app3.exited).toEqual({ code: 0, signal: null });

    // Nothing the processes printed holds the token.
    for (const app of [app1, app2, app3]) expect(app.output()).not.toContain(token);
  });
});
