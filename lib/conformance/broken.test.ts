/**
 * The suite must be able to fail: run against deliberately broken deployments, it fails the
 * right cases (and the CLI exits 1).
 * - a fake engine that serves everything without a credential and echoes the token it got;
 * - an engine whose process made an outbound attempt (refused by its enforcement: no packet);
 * - an engine that keeps nothing across a restart (memory store), restarted through the
 *   programmatic restart hook, for the persistence cases.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { createEngine, type EnclaveEngine } from "../create-engine.js";
import { runConformance } from "./suite.js";
import { runCli } from "./testing/cli.js";
import type { ConformanceReport } from "./types.js";
import { TEST_NET_HOST } from "./netns.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const status = (r: ConformanceReport, id: string) => r.cases.find((c) => c.id === id);

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)),
  );
}

/** Looks like an engine; checks no credential and echoes the Authorization header it got. */
async function fakeEngine(): Promise<string> {
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer((req, res) => {
    const echo = req.headers.authorization ?? "";
    const body =
      req.url === "/health" || req.url === "/health/ready"
        ? { status: "ok", version: "9.9.9" }
        : req.url === "/metadata"
          ? { name: "enclave", version: "9.9.9", apiVersion: 1, runnerProtocolVersion: 1 }
          : { ok: true, actors: [], tokens: [], namespaces: [], seen: echo };
    res.writeHead(200, { "content-type": "application/json", "x-seen-authorization": echo });
    res.end(JSON.stringify(body));
  });
  server.on("upgrade", (req, socket, head) => {
    if (req.url?.startsWith("/runners/connect")) {
      socket.end(
        'HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n\r\n{"group":"request","code":"route_not_found","message":"No such route"}',
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) =>
      ws.send(JSON.stringify({ t: "init", actorId: "x", connectionId: "y" })),
    );
  });
  const port = await listen(server);
  cleanups.push(async () => {
    for (const c of wss.clients) c.terminate();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${port}`;
}

async function memoryEngine(adminToken: string, port = 0): Promise<EnclaveEngine> {
  const running = await createEngine({
    storage: { driver: "memory" },
    gateway: { host: "127.0.0.1", port },
    auth: { adminToken },
    airgap: { enforce: true },
    log: { level: "silent" },
    shutdown: { timeoutMs: 5000 },
    env: {},
    configPaths: [],
  });
  await running.listen();
  return running;
}

describe("the suite fails against broken deployments", () => {
  it("a fake engine without auth that echoes the token: smoke and token cases fail, exit code 1", async () => {
    const base = await fakeEngine();
    const admin = randomBytes(24).toString("hex");
    const endpoint = base.replace("http://", `http://default:${admin}@`);
    const r = await runCli([
      "conformance",
      "--endpoint",
      endpoint,
      "--focus",
      "^smoke\\.|tokens\\.(missing|wrong|never-echoed)",
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/✗ smoke › a call without a credential is refused with 401/);
    expect(r.out).toMatch(/✗ tokens › no credential: 401/);
    expect(r.out).toMatch(/✗ tokens › a wrong token/);
    expect(r.out).toMatch(
      /✗ tokens › no answer of the whole run carried the admin token[^\n]*\n {4}\d+ answer\(s\) carried a secret: [^\n]*admin token in/,
    );
    expect(r.out).toMatch(/FAIL/);
    // The suite itself never prints the token it found.
    expect(r.out + r.err).not.toContain(admin);
  }, 60_000);

  it("an engine process that attempted an outbound connection: the no-outbound audit fails", async () => {
    const admin = randomBytes(24).toString("hex");
    const running = await memoryEngine(admin);
    cleanups.push(() => running.close());
    // The refusal happens in this process before a packet exists; only with enforcement confirmed.
    expect(running.egress.enforcing).toBe(true);
    await new Promise<void>((resolve) => {
      const s = net.connect({ host: TEST_NET_HOST, port: 9 });
      s.once("error", () => resolve());
      s.once("connect", () => {
        s.destroy();
        resolve();
      });
    });
    const report = await runConformance({
      endpoint: running.url!.replace("http://", `http://default:${admin}@`),
      focus: "no-outbound\\.(audit|audit-final)$",
    });
    expect(report.ok).toBe(false);
    const audit = status(report, "no-outbound.audit");
    expect(audit?.status).toBe("failed");
    expect(audit?.reason).toContain(`connect ${TEST_NET_HOST}:9 (refused)`);
    expect(JSON.stringify(report)).not.toContain(admin);
  }, 60_000);

  it("an engine that keeps nothing across a restart: graceful restart and kill -9 cases fail", async () => {
    const admin = randomBytes(24).toString("hex");
    let running = await memoryEngine(admin);
    const port = Number(new URL(running.url!).port);
    cleanups.push(() => running.close());
    const report = await runConformance({
      endpoint: running.url!.replace("http://", `http://default:${admin}@`),
      profile: "disruptive",
      focus: "persistence\\.(graceful-restart|kill-9)$",
      out: process.env.DEBUG_CONFORMANCE ? process.stderr : undefined,
      restartHook: async () => {
        await running.close();
        running = await memoryEngine(admin, port);
      },
    });
    expect(report.ok).toBe(false);
    expect(report.target.restarts).toBe("hook");
    // The first restart loses everything, the namespace token of the runner included.
    const graceful = status(report, "persistence.graceful-restart");
    expect(graceful?.status).toBe("failed");
    expect(graceful?.reason).toMatch(/lost|refused the conformance runner after the restart/);
    expect(status(report, "persistence.kill-9")?.status).toBe("failed");
  }, 60_000);
});
