/**
 * Guest servers as users reach them: vmFetch and signed preview URLs into a WASI HTTP server
 * (testdata/httpd.c, compiled for the test), through a real engine, gateway and store.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { NS, actorId, expectEnclaveError, startEngine, until } from "../engine/testing/harness.js";
import { createEngine } from "../create-engine.js";
import type { Engine } from "../engine/engine.js";
import { startRunner } from "../runner/runner.js";
import { setup } from "../setup.js";
import { createLogger } from "../telemetry/index.js";
import { installEgressAudit } from "../telemetry/egress.js";
import { closeSharedWorkerPool } from "./wasi/index.js";
import { buildTestProgram } from "./wasi/testing/test-program.js";
import {
  baseSoftware,
  definePackage,
  workspace,
  type SignedPreviewUrl,
  type VmFetchResponse,
} from "./index.js";

afterAll(() => closeSharedWorkerPool());

let httpd: Uint8Array;
beforeAll(() => {
  httpd = buildTestProgram("httpd");
});

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

function serverWorkspace() {
  const tools = definePackage("test-httpd", [{ path: "/usr/bin/httpd", data: httpd }]);
  return workspace({ software: [baseSoftware, tools], startup: [{ command: "httpd", args: ["8080"] }] });
}

async function started(dir?: string) {
  const s = await startEngine({ vm: serverWorkspace() }, dir ? { dir } : {});
  await s.running.listen();
  const id = await actorId(s.engine, "vm", ["net", String(Math.random())]);
  const call = <T = unknown>(action: string, ...args: unknown[]) =>
    s.engine.action(NS, id, action, args) as Promise<T>;
  const url = (path: string) => new URL(path, s.running.url).href;
  return { ...s, id, call, url };
}

describe("vmFetch", () => {
  it("round-trips methods, headers and bodies into a guest server, and names a port nobody listens on", async () => {
    const { call } = await started();
    await call("exists", "/");
    let r: VmFetchResponse | undefined;
    await until("vmFetch answers", async () => {
      r = await call<VmFetchResponse>("vmFetch", 8080, "/hello?x=1").catch(() => undefined);
      return r !== undefined;
    });
    expect(r!.status).toBe(200);
    expect(r!.statusText).toBe("OK");
    expect(decode(r!.body)).toContain("method=GET\npath=/hello?x=1\n");
    const posted = await call<VmFetchResponse>("vmFetch", 8080, "/api/data", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Test": "yes" },
      body: JSON.stringify({ key: "value" }),
    });
    expect(posted.status).toBe(200);
    expect(posted.headers["content-type"]).toBeDefined();
    expect(decode(posted.body)).toContain('method=POST\npath=/api/data\nx-test=yes\nbody={"key":"value"}');
    // Over the kernel's socket table only: not one host socket, not even to loopback.
    const audit = installEgressAudit({ includeLoopback: true });
    try {
      await call("vmFetch", 8080, "/audited");
      expect(audit.attempts()).toEqual([]);
    } finally {
      audit.uninstall();
    }
    await expectEnclaveError(call("vmFetch", 9999, "/"), "workspace", "port_not_listening", 502);
    await expectEnclaveError(call("vmFetch", 70000, "/"), "request", "invalid", 400);
    await expectEnclaveError(call("vmFetch", 8080, "no-slash"), "request", "invalid", 400);
  });
});

describe("signed preview URLs", () => {
  it("work from a plain HTTP client, survive a forced sleep and a restart, stop after revoke", async () => {
    const first = await started();
    const before = Date.now();
    const p = await first.call<SignedPreviewUrl>("createSignedPreviewUrl", 8080);
    expect(p.token).toMatch(/^[a-z0-9]{32}$/);
    expect(p.path).toBe(`/gateway/${first.id}/preview/${p.token}/`);
    expect(p.port).toBe(8080);
    expect(p.expiresAt).toBeGreaterThanOrEqual(before + 3600_000);
    expect(p.expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000);

    const res = await fetch(first.url(`${p.path}page?q=1`), {
      method: "POST",
      body: "hi",
      headers: { "x-test": "t" },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("method=POST\npath=/page?q=1\nx-test=t\nbody=hi");

    // Asleep: the token is still good, the request wakes the workspace, boots the VM and its server.
    await first.engine.sleep(NS, first.id);
    expect((await first.engine.getActor(NS, first.id)).actorId).toBe(first.id);
    const again = await fetch(first.url(p.path));
    expect(again.status).toBe(200);
    await first.close();

    const second = await startEngine({ vm: serverWorkspace() }, { dir: first.dir });
    await second.running.listen();
    const afterRestart = await fetch(new URL(p.path, second.running.url));
    expect(afterRestart.status).toBe(200);
    expect(await afterRestart.text()).toContain("method=GET\npath=/\n");

    expect(await second.engine.action(NS, first.id, "expireSignedPreviewUrl", [p.token])).toBe(true);
    const revoked = await fetch(new URL(p.path, second.running.url));
    expect(revoked.status).toBe(404);
    expect(await revoked.json()).toMatchObject({ group: "workspace", code: "preview_not_found" });
  });

  it("refuse expired, guessed and malformed tokens with 404 without waking the workspace", async () => {
    const s = await started();
    const short = await s.call<SignedPreviewUrl>("createSignedPreviewUrl", 8080, 1);
    expect((await fetch(s.url(short.path))).status).toBe(200);
    await s.engine.sleep(NS, s.id);
    await new Promise((r) => setTimeout(r, 1100));
    const record = await s.engine.getActor(NS, s.id);
    const isAwake = () => s.engine.status(record) === "running";
    expect(isAwake()).toBe(false);
    for (const path of [
      short.path, // expired
      `/gateway/${s.id}/preview/${"a".repeat(32)}/`, // guessed
      `/gateway/${s.id}/preview/NOT-A-TOKEN/`, // malformed
      `/gateway/${s.id}/preview/${"b".repeat(33)}/`,
      `/gateway/nosuchactor/preview/${short.token}/`,
    ]) {
      const r = await fetch(s.url(path));
      expect(r.status, path).toBe(404);
    }
    expect(isAwake()).toBe(false);
    // The expired token was purged from the store at once.
    expect(await s.call<SignedPreviewUrl[]>("listSignedPreviewUrls")).toEqual([]);
  });

  it("validate ttlSeconds: 0 means 3600, at most 86400, no fractions or negatives", async () => {
    const { call } = await started();
    const d = await call<SignedPreviewUrl>("createSignedPreviewUrl", 8080, 0);
    expect(d.expiresAt - Date.now()).toBeGreaterThan(3599_000);
    const max = await call<SignedPreviewUrl>("createSignedPreviewUrl", 8080, 86_400);
    expect(max.expiresAt - Date.now()).toBeGreaterThan(86_399_000);
    for (const bad of [86_401, -1, 1.5, "60"]) {
      await expectEnclaveError(call("createSignedPreviewUrl", 8080, bad), "request", "invalid", 400);
    }
    await expectEnclaveError(call("createSignedPreviewUrl", 0), "request", "invalid", 400);
    const listed = await call<SignedPreviewUrl[]>("listSignedPreviewUrls");
    expect(listed.map((l) => l.token).sort()).toEqual([d.token, max.token].sort());
  });

  it("a valid token for a port nobody listens on is 502 port_not_listening", async () => {
    const s = await startEngine({ vm: workspace() });
    await s.running.listen();
    const id = await actorId(s.engine, "vm", "empty");
    const p = (await s.engine.action(NS, id, "createSignedPreviewUrl", [4000])) as SignedPreviewUrl;
    const r = await fetch(new URL(p.path, s.running.url));
    expect(r.status).toBe(502);
    expect(await r.json()).toMatchObject({ group: "workspace", code: "port_not_listening" });
  });
});

describe("guest Node servers", () => {
  it("the networking reference's example works as written: writeFile, spawn node, vmFetch", async () => {
    const s = await startEngine({ vm: workspace() });
    const id = await actorId(s.engine, "vm", "node-example");
    const call = <T = unknown>(action: string, ...args: unknown[]) =>
      s.engine.action(NS, id, action, args) as Promise<T>;
    await call(
      "writeFile",
      "/home/agentos/server.js",
      `const http = require("http");
http.createServer((req, res) => {
res.writeHead(200, { "Content-Type": "text/plain" });
res.end("Hello from inside the VM");
}).listen(3000, () => console.log("listening on http://127.0.0.1:3000"));`,
    );
    const { pid } = await call<{ pid: number }>("spawn", "node", ["/home/agentos/server.js"]);
    expect(pid).toBeGreaterThan(0);
    let r: VmFetchResponse | undefined;
    await until("the guest server answers", async () => {
      r = await call<VmFetchResponse>("vmFetch", 3000, "/").catch(() => undefined);
      return r !== undefined;
    });
    expect(r!.status).toBe(200);
    expect(r!.headers["content-type"]).toBe("text/plain");
    expect(decode(r!.body)).toBe("Hello from inside the VM");
    await call("killProcess", pid, "SIGKILL");
  });

  it("echoes methods, headers and bodies, and serves a preview URL to a plain HTTP client", async () => {
    const server = `const http = require("http");
http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    res.setHeader("x-method", req.method);
    res.setHeader("x-seen", req.headers["x-custom"] || "");
    res.statusCode = req.method === "DELETE" ? 202 : 200;
    res.end(JSON.stringify({ url: req.url, body: Buffer.concat(chunks).toString() }));
  });
}).listen(4000);`;
    const s = await startEngine({
      vm: workspace({ startup: [{ command: "node", args: ["/home/user/echo.js"] }] }),
    });
    await s.running.listen();
    const id = await actorId(s.engine, "vm", "node-echo");
    const call = <T = unknown>(action: string, ...args: unknown[]) =>
      s.engine.action(NS, id, action, args) as Promise<T>;
    await call("writeFile", "/home/user/echo.js", server);
    // The startup process ran at boot, before the file existed: start it now, as a user would.
    await call("spawn", "node", ["/home/user/echo.js"]);
    await until(
      "echo server",
      async () => (await call<VmFetchResponse>("vmFetch", 4000, "/").catch(() => undefined)) !== undefined,
    );
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
      const body = method === "GET" ? undefined : `payload-${method}`;
      const r = await call<VmFetchResponse>("vmFetch", 4000, `/m/${method}?q=1`, {
        method,
        headers: { "X-Custom": `v-${method}` },
        ...(body ? { body } : {}),
      });
      expect(r.status).toBe(method === "DELETE" ? 202 : 200);
      expect(r.headers["x-method"]).toBe(method);
      expect(r.headers["x-seen"]).toBe(`v-${method}`);
      expect(JSON.parse(decode(r.body))).toEqual({ url: `/m/${method}?q=1`, body: body ?? "" });
    }
    const bin = new Uint8Array(70_000).map((_, i) => i % 251);
    const big = await call<VmFetchResponse>("vmFetch", 4000, "/bin", { method: "POST", body: bin });
    expect(JSON.parse(decode(big.body)).body.length).toBeGreaterThan(0);

    const p = await call<SignedPreviewUrl>("createSignedPreviewUrl", 4000);
    const res = await fetch(new URL(`${p.path}from/browser`, s.running.url), {
      method: "POST",
      body: "hello",
      headers: { "x-custom": "plain" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-seen")).toBe("plain");
    expect(await res.json()).toEqual({ url: "/from/browser", body: "hello" });

    // After a forced sleep the startup process serves the same file again.
    await s.engine.sleep(NS, id);
    const again = await fetch(new URL(`${p.path}again`, s.running.url));
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ url: "/again", body: "" });
  });

  it("guest attempts to reach host loopback, another workspace or the internet are refused and audited", async () => {
    const host = http.createServer((_q, r) => r.end("host")).listen(0, "127.0.0.1");
    await new Promise((r) => host.once("listening", r));
    const hostPort = (host.address() as AddressInfo).port;
    let hostHits = 0;
    host.on("request", () => hostHits++);
    const audit = installEgressAudit();
    try {
      const s = await startEngine({ vm: workspace() });
      const other = await actorId(s.engine, "vm", "other");
      await s.engine.action(NS, other, "writeFile", [
        "/home/user/s.js",
        'require("http").createServer((q, r) => r.end("other")).listen(5000);',
      ]);
      await s.engine.action(NS, other, "spawn", ["node", ["/home/user/s.js"]]);
      const id = await actorId(s.engine, "vm", "prober");
      const probe = `const net = require("net");
const targets = [["127.0.0.1", ${hostPort}], ["127.0.0.1", 5000], ["10.1.2.3", 80], ["169.254.169.254", 80], ["93.184.215.14", 443]];
let left = targets.length;
for (const [h, p] of targets) {
  const sock = net.connect(p, h);
  sock.on("connect", () => { console.log("CONNECTED " + h + ":" + p); sock.destroy(); if (--left === 0) process.exit(0); });
  sock.on("error", (e) => { console.log("REFUSED " + h + ":" + p + " " + e.code); if (--left === 0) process.exit(0); });
}`;
      await s.engine.action(NS, id, "writeFile", ["/home/user/probe.js", probe]);
      const r = (await s.engine.action(NS, id, "exec", ["node /home/user/probe.js"])) as {
        stdout: string;
        exitCode: number;
      };
      expect(r.stdout).not.toContain("CONNECTED");
      for (const t of [
        `127.0.0.1:${hostPort}`,
        "127.0.0.1:5000",
        "10.1.2.3:80",
        "169.254.169.254:80",
        "93.184.215.14:443",
      ]) {
        expect(r.stdout).toMatch(new RegExp(`REFUSED ${t.replace(/\./g, "\\.")} E[A-Z]+`));
      }
      expect(hostHits).toBe(0);
      const refused = audit.attempts().filter((a) => !a.allowed && a.source?.startsWith(`workspace ${id}`));
      expect(refused.map((a) => `${a.host}:${a.port}`).sort()).toEqual(
        [
          `127.0.0.1:${hostPort}`,
          "127.0.0.1:5000",
          "10.1.2.3:80",
          "169.254.169.254:80",
          "93.184.215.14:443",
        ].sort(),
      );
      // The other workspace's server is still only its own.
      const mine = (await s.engine.action(NS, other, "vmFetch", [5000, "/"])) as VmFetchResponse;
      expect(decode(mine.body)).toBe("other");
    } finally {
      audit.uninstall();
      host.close();
    }
  });
});

const WS_SERVER = `const http = require("http");
const crypto = require("crypto");
const server = http.createServer((q, r) => r.end("http ok"));
server.on("upgrade", (req, socket) => {
  const key = req.headers["sec-websocket-key"];
  const accept = crypto.createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  const offered = String(req.headers["sec-websocket-protocol"] || "").split(",").map((s) => s.trim());
  const proto = offered.includes("chat") ? "\\r\\nSec-WebSocket-Protocol: chat" : "";
  socket.write("HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: " + accept + proto + "\\r\\n\\r\\n");
  let buf = Buffer.alloc(0);
  socket.on("data", (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2) {
      const op = buf[0] & 15;
      let len = buf[1] & 127;
      let off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      const masked = buf[1] & 128;
      const maskAt = off;
      if (masked) off += 4;
      if (buf.length < off + len) return;
      const payload = Buffer.alloc(len);
      for (let i = 0; i < len; i++) payload[i] = buf[off + i] ^ (masked ? buf[maskAt + (i % 4)] : 0);
      buf = buf.subarray(off + len);
      if (op === 8) { socket.end(Buffer.from([0x88, 0])); return; }
      if (op === 1) {
        const out = Buffer.from(payload.toString().toUpperCase() + " via " + req.url);
        socket.write(Buffer.concat([Buffer.from([0x81, out.length]), out]));
      }
    }
  });
});
server.listen(3000);`;

/** Starts WS_SERVER in workspace `id` and opens a WebSocket to it through a new preview URL. */
async function previewSocket(
  engine: Engine,
  id: string,
  engineUrl: string,
  rest: string,
): Promise<WebSocket> {
  const call = <T = unknown>(action: string, ...args: unknown[]) =>
    engine.action(NS, id, action, args) as Promise<T>;
  await call("writeFile", "/home/user/ws.js", WS_SERVER);
  await call("spawn", "node", ["/home/user/ws.js"]);
  await until(
    "guest server",
    async () => (await call<VmFetchResponse>("vmFetch", 3000, "/").catch(() => undefined)) !== undefined,
  );
  const p = await call<SignedPreviewUrl>("createSignedPreviewUrl", 3000);
  const socket = new WebSocket(new URL(`${p.path}${rest}`, engineUrl.replace("http", "ws")).href, ["chat"]);
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  return socket;
}

describe("preview WebSockets", () => {
  it("relays a WebSocket through a preview URL to a guest server, with its subprotocol; bad tokens get 404", async () => {
    const s = await startEngine({ vm: workspace() });
    await s.running.listen();
    const id = await actorId(s.engine, "vm", "ws-preview");
    const socket = await previewSocket(s.engine, id, s.running.url!, "socket?room=1");
    expect(socket.protocol).toBe("chat");
    const replies: string[] = [];
    socket.on("message", (m) => replies.push(m.toString()));
    socket.send("hello");
    socket.send("again");
    await until("two replies", () => replies.length === 2);
    expect(replies).toEqual(["HELLO via /socket?room=1", "AGAIN via /socket?room=1"]);
    const closed = new Promise<number>((r) => socket.once("close", (code) => r(code)));
    socket.close(1000);
    expect(await closed).toBe(1000);

    const bad = new WebSocket(
      new URL(`/gateway/${id}/preview/${"z".repeat(32)}/`, s.running.url!.replace("http", "ws")).href,
    );
    const status = await new Promise<number>((resolve) => {
      bad.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      bad.once("open", () => resolve(101));
      bad.once("error", () => resolve(-1));
    });
    expect(status).toBe(404);
  });
});

describe("preview WebSockets in runner mode", () => {
  it("a workspace hosted by a runner process's engine link carries the WebSocket through a tunnel", async () => {
    const running = await createEngine({
      registry: setup({ use: {} }),
      storage: { driver: "memory" },
      gateway: { host: "127.0.0.1", port: 0 },
      auth: { adminToken: "r".repeat(32) },
      log: { level: "silent" },
      env: {},
    });
    const { url } = await running.listen();
    const runner = await startRunner({
      use: { vm: workspace() },
      endpoint: running.endpoint!,
      log: createLogger({ level: "silent" }),
      runnerName: "tunnel-test",
    });
    try {
      const { record } = await running.engine.getOrCreate(NS, "vm", ["runner-ws"], undefined, "getOrCreate");
      const socket = await previewSocket(running.engine, record.actorId, url, "r");
      expect(socket.protocol).toBe("chat");
      const replies: string[] = [];
      socket.on("message", (m) => replies.push(m.toString()));
      socket.send("over the runner");
      await until("a reply", () => replies.length === 1);
      expect(replies).toEqual(["OVER THE RUNNER via /r"]);
      const closed = new Promise<number>((r) => socket.once("close", (code) => r(code)));
      socket.close(1000);
      expect(await closed).toBe(1000);
    } finally {
      await runner.close();
      await running.close();
    }
  });
});

describe("workspace() permissions reach the kernel", () => {
  it("listen range, privileged ports, filesystem rules, network rules and loopbackExemptPorts", async () => {
    const host = http.createServer((_q, r) => r.end("host says hi")).listen(0, "127.0.0.1");
    await new Promise((r) => host.once("listening", r));
    const hostPort = (host.address() as AddressInfo).port;
    try {
      const vm = workspace({
        listen: { portMin: 3000, portMax: 3100 },
        loopbackExemptPorts: [hostPort],
        permissions: {
          filesystem: {
            rules: [{ mode: "deny", operations: ["write"], patterns: ["/home/user/locked/**"] }],
          },
          network: {
            default: "deny",
            rules: [{ mode: "allow", operations: ["connect"], patterns: ["10.9.9.9:7"] }],
          },
        },
      });
      const s = await startEngine({ vm });
      const id = await actorId(s.engine, "vm", "perm");
      const call = <T = unknown>(action: string, ...args: unknown[]) =>
        s.engine.action(NS, id, action, args) as Promise<T>;
      const listen = (port: number) =>
        call<ExecResultLike>(
          "exec",
          `node -e 'require("http").createServer().on("error", (e) => { console.log(e.code); process.exit(0); }).listen(${port}, () => { console.log("ok"); process.exit(0); })'`,
        );
      expect((await listen(80)).stdout.trim()).toBe("EACCES");
      expect((await listen(5000)).stdout.trim()).toBe("EACCES");
      expect((await listen(3050)).stdout.trim()).toBe("ok");

      // The vendor's own file actions are not limited; guest programs are.
      await call("writeFile", "/home/user/locked/a.txt", "by the vendor");
      const denied = await call<ExecResultLike>("exec", "echo guest > /home/user/locked/a.txt");
      expect(denied.exitCode).not.toBe(0);
      expect(denied.stderr).toMatch(/[Pp]ermission denied|EACCES/);
      expect(decode(await call<Uint8Array>("readFile", "/home/user/locked/a.txt"))).toBe("by the vendor");
      expect((await call<ExecResultLike>("exec", "cat /home/user/locked/a.txt")).stdout).toBe(
        "by the vendor",
      );

      const probe = (h: string, p: number) =>
        call<ExecResultLike>(
          "exec",
          `node -e 'const s = require("net").connect(${p}, "${h}"); s.on("connect", () => { console.log("CONNECTED"); process.exit(0); }); s.on("data", () => {}); s.on("error", (e) => { console.log(e.code); process.exit(0); })'`,
        );
      // Exempt host loopback port: reachable, and it is the real host server.
      expect((await probe("127.0.0.1", hostPort)).stdout.trim()).toBe("CONNECTED");
      // Not named by the rule (it allows only 10.9.9.9:7): refused before any packet. (The allowed
      // address is not dialled: tests never leave loopback.)
      expect((await probe("10.9.9.8", 7)).stdout.trim()).toBe("EACCES");
    } finally {
      host.close();
    }
  });
});

interface ExecResultLike {
  exitCode: number;
  stdout: string;
  stderr: string;
}
