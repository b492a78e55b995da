/**
 * The engine's egress audit, end to end: actor code inside a real engine makes real outbound
 * attempts, and the admin reads them at `GET /admin/egress` over a real socket.
 *
 * Nothing here may leave the machine. Every attempt either stays on loopback (an address in
 * 127.0.0.0/8, or a made-up name that a custom `lookup` maps to 127.0.0.1) or goes to a
 * TEST-NET-1 address / `.invalid` name with enforcement on, refused before a socket handle
 * exists or a query is sent. The actor checks, immediately before each non-loopback attempt,
 * that the running engine enforces and that the hooks are in place; the test checks it too.
 */
import dns from "node:dns";
import dnsPromises from "node:dns/promises";
import { once } from "node:events";
import http from "node:http";
import net from "node:net";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import type { EnclaveEngine } from "../create-engine.js";
import { Errors, UserError } from "../errors.js";
import { EGRESS_DENIED_CODE, createLogger, installEgressAudit } from "../telemetry/index.js";
import { expectError, removeDir, startEngine, tempDir, type Harness, type Json } from "./testing/harness.js";

/** Node's own functions, taken before any engine installs its hooks. */
const ORIGINAL = {
  connect: net.Socket.prototype.connect,
  lookup: dns.lookup,
  promisesLookup: dnsPromises.lookup,
};

/** TEST-NET-1 (RFC 5737): never routed; and never tried here without enforcement. */
const OUTSIDE = "192.0.2.1";

/** The engine under test (its egress handle says whether the process enforces). */
let current: EnclaveEngine | undefined;

/**
 * Throws unless a non-loopback attempt is going to be refused: the process-wide policy enforces
 * and the connect and DNS hooks are installed. Runs in the actor right before each such attempt.
 */
function assertRefusing(): void {
  const problems: string[] = [];
  if (current?.egress.enforcing !== true) problems.push("the engine does not enforce airgap");
  if (net.Socket.prototype.connect === ORIGINAL.connect) problems.push("connect is not hooked");
  if (dns.lookup === ORIGINAL.lookup) problems.push("dns.lookup is not hooked");
  if (dnsPromises.lookup === ORIGINAL.promisesLookup) problems.push("dns.promises.lookup is not hooked");
  if (problems.length > 0) throw new Error(`not attempting egress: ${problems.join("; ")}`);
}

/** A `lookup` that answers every name with 127.0.0.1: a "remote" name that stays on this host. */
const toLoopback: net.LookupFunction = (_host, options, callback) => {
  if (options.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
  else callback(null, "127.0.0.1", 4);
};

/** Everything the socket receives until the peer closes; rejects with the socket's error. */
function exchange(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (data += d));
    socket.once("error", reject);
    socket.once("close", (hadError) => {
      if (!hadError) resolve(data);
    });
  });
}

/** A refused attempt reaches the caller as a UserError carrying the Node error code. */
function asUserError(e: unknown, code: string): never {
  throw new UserError(`${code}`, {
    code,
    metadata: { errorCode: (e as NodeJS.ErrnoException).code ?? null },
  });
}

const probe = actor({
  state: { calls: 0 },
  actions: {
    /** fetch() to TEST-NET: uncaught, so the caller gets an internal error. */
    fetchOutside: async () => {
      assertRefusing();
      const res = await fetch(`http://${OUTSIDE}/`);
      return res.status;
    },
    lookupInvalid: async () => {
      assertRefusing();
      try {
        return (await dnsPromises.lookup("example.invalid")).address;
      } catch (e) {
        return asUserError(e, "lookup_failed");
      }
    },
    /** A TCP connect to a made-up name that the custom lookup maps to loopback. */
    connectNamed: async (_c, host: string, port: number) => {
      assertRefusing();
      try {
        return await exchange(net.connect({ host, port, lookup: toLoopback }));
      } catch (e) {
        return asUserError(e, "connect_failed");
      }
    },
    /** The same over http.request, with no agent (one connection, one attempt). */
    httpNamed: async (_c, host: string, port: number) => {
      assertRefusing();
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request({ host, port, path: "/", lookup: toLoopback, agent: false });
        req.on("response", resolve).on("error", reject).end();
      });
      let body = "";
      res.setEncoding("utf8");
      for await (const chunk of res) body += chunk as string;
      return { status: res.statusCode, body };
    },
    /** Loopback by address: local traffic, never refused. */
    connectLoopback: async (_c, port: number) => exchange(net.connect(port, "127.0.0.1")),
  },
});

// ---- local peers and the engine ----------------------------------------------------------------

let tcpServer: net.Server;
let tcpPort: number;
let httpServer: http.Server;
let httpPort: number;

beforeAll(async () => {
  tcpServer = net.createServer((s) => s.end("hi"));
  tcpServer.listen(0, "127.0.0.1");
  await once(tcpServer, "listening");
  tcpPort = (tcpServer.address() as net.AddressInfo).port;
  httpServer = http.createServer((_req, res) => res.setHeader("connection", "close").end("ok"));
  httpServer.listen(0, "127.0.0.1");
  await once(httpServer, "listening");
  httpPort = (httpServer.address() as net.AddressInfo).port;
});

afterAll(async () => {
  httpServer?.closeAllConnections();
  await new Promise((r) => httpServer?.close(r));
  await new Promise((r) => tcpServer?.close(r));
});

interface Started {
  h: Harness;
  dataDir: string;
  logLines: () => Json[];
}

async function start(airgap: { enforce: boolean; allow?: string[] }): Promise<Started> {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const dataDir = await tempDir("enclave-egress-");
  const h = await startEngine({
    use: { probe },
    options: {
      storage: { driver: "fileSystem", fileSystem: { path: dataDir } },
      airgap,
      logger: createLogger({ level: "trace", destination: sink }),
    },
  });
  current = h.running;
  const logLines = () =>
    chunks
      .join("")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Json);
  return { h, dataDir, logLines };
}

async function stop(s: Started | undefined): Promise<void> {
  if (!s) return;
  await s.h.close();
  current = undefined;
  await removeDir(s.dataDir);
}

async function egressLog(h: Harness): Promise<{ enforcing: boolean; attempts: Json[]; stats: Json }> {
  const r = await h.json("GET", "/admin/egress");
  expect(r.status).toBe(200);
  return r.body;
}

// ---- enforcement on ----------------------------------------------------------------------------

describe("egress with airgap.enforce", () => {
  let s: Started;
  const otherPort = () => (tcpPort === 65535 ? 1 : tcpPort + 1);

  beforeAll(async () => {
    s = await start({
      enforce: true,
      allow: [`collector.test:${tcpPort}`, `*.test:${httpPort}`],
    });
  });
  afterAll(() => stop(s));

  it("the engine enforces, and nothing has been recorded yet (loopback API calls are not egress)", async () => {
    expect(() => assertRefusing()).not.toThrow();
    const log = await egressLog(s.h);
    expect(log.enforcing).toBe(true);
    expect(log.attempts).toEqual([]);
    expect(log.stats).toMatchObject({ recorded: 0, denied: 0 });
  });

  it("fetch() to a TEST-NET address fails the action and is recorded as refused", async () => {
    expect(() => assertRefusing()).not.toThrow();
    const res = await s.h.admin(`/gateway/${await actorId(s.h)}/action/fetchOutside`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    await expectError(res, Errors.internal);

    const log = await egressLog(s.h);
    expect(log.attempts).toEqual([
      { at: expect.any(Number), kind: "connect", host: OUTSIDE, port: 80, allowed: false },
    ]);
    expect(log.stats).toMatchObject({ recorded: 1, denied: 1 });
    // The refusal is logged at warn with host and port only.
    const warned = s.logLines().filter((l) => l.msg === "egress denied: destination not on airgap.allow");
    expect(warned.map((l) => ({ level: l.level, egress: l.egress }))).toEqual([
      { level: 40, egress: { kind: "connect", host: OUTSIDE, port: 80 } },
    ]);
  });

  it("a DNS lookup of example.invalid is refused before any query and recorded", async () => {
    expect(() => assertRefusing()).not.toThrow();
    const r = await s.h.json("POST", `/gateway/${await actorId(s.h)}/action/lookupInvalid`, { args: [] });
    expect({ status: r.status, body: r.body }).toEqual({
      status: 400,
      body: {
        group: "user",
        code: "lookup_failed",
        message: "lookup_failed",
        metadata: { errorCode: EGRESS_DENIED_CODE },
      },
    });
    const log = await egressLog(s.h);
    expect(log.attempts.at(-1)).toEqual({
      at: expect.any(Number),
      kind: "dns",
      host: "example.invalid",
      port: null,
      allowed: false,
    });
  });

  it("a destination matching airgap.allow goes through (a name mapped to loopback); the same name on another port does not", async () => {
    const id = await actorId(s.h);
    const before = (await egressLog(s.h)).attempts.length;

    expect(() => assertRefusing()).not.toThrow();
    const ok = await s.h.json("POST", `/gateway/${id}/action/connectNamed`, {
      args: ["collector.test", tcpPort],
    });
    expect({ status: ok.status, body: ok.body }).toEqual({ status: 200, body: { output: "hi" } });

    expect(() => assertRefusing()).not.toThrow();
    const viaHttp = await s.h.json("POST", `/gateway/${id}/action/httpNamed`, {
      args: ["api.test", httpPort],
    });
    expect({ status: viaHttp.status, body: viaHttp.body }).toEqual({
      status: 200,
      body: { output: { status: 200, body: "ok" } },
    });

    expect(() => assertRefusing()).not.toThrow();
    const denied = await s.h.json("POST", `/gateway/${id}/action/connectNamed`, {
      args: ["collector.test", otherPort()],
    });
    expect({ status: denied.status, code: denied.body.code, metadata: denied.body.metadata }).toEqual({
      status: 400,
      code: "connect_failed",
      metadata: { errorCode: EGRESS_DENIED_CODE },
    });

    const log = await egressLog(s.h);
    expect(log.attempts.slice(before)).toEqual([
      { at: expect.any(Number), kind: "connect", host: "collector.test", port: tcpPort, allowed: true },
      { at: expect.any(Number), kind: "connect", host: "api.test", port: httpPort, allowed: true },
      { at: expect.any(Number), kind: "connect", host: "collector.test", port: otherPort(), allowed: false },
    ]);
    expect(log.stats).toMatchObject({ recorded: before + 3, denied: 3 });
  });

  it("every attempt recorded so far is one the actor made: the engine itself tried nothing", async () => {
    const log = await egressLog(s.h);
    expect(log.attempts.map((a: Json) => `${a.kind} ${a.host}`)).toEqual([
      `connect ${OUTSIDE}`,
      "dns example.invalid",
      "connect collector.test",
      "connect api.test",
      "connect collector.test",
    ]);
  });
});

// ---- enforcement off ---------------------------------------------------------------------------

describe("egress without enforcement", () => {
  let s: Started;

  beforeAll(async () => {
    s = await start({ enforce: false });
  });
  afterAll(() => stop(s));

  it("the audit is installed but does not enforce", async () => {
    expect(net.Socket.prototype.connect).not.toBe(ORIGINAL.connect);
    expect(dns.lookup).not.toBe(ORIGINAL.lookup);
    expect(() => assertRefusing()).toThrow(/does not enforce/);
    const log = await egressLog(s.h);
    expect(log.enforcing).toBe(false);
    expect(log.attempts).toEqual([]);
  });

  it("a loopback connect is not recorded (loopback is excluded), though it would be if loopback were included", async () => {
    const id = await actorId(s.h);
    const call = async () => {
      const r = await s.h.json("POST", `/gateway/${id}/action/connectLoopback`, { args: [tcpPort] });
      expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: { output: "hi" } });
    };

    await call();
    expect((await egressLog(s.h)).attempts).toEqual([]);

    // Positive control: the same call with the audit told to include loopback is recorded, so
    // the empty list above is the exclusion at work, not an audit that saw nothing.
    const withLoopback = installEgressAudit({ includeLoopback: true });
    try {
      expect(s.h.running.egress.enforcing).toBe(false);
      await call();
      expect((await egressLog(s.h)).attempts).toContainEqual({
        at: expect.any(Number),
        kind: "connect",
        host: "127.0.0.1",
        port: tcpPort,
        allowed: true,
      });
    } finally {
      withLoopback.uninstall();
    }

    const seen = (await egressLog(s.h)).attempts.length;
    await call();
    const after = (await egressLog(s.h)).attempts;
    expect(after).toHaveLength(seen);
    expect(after.every((a: Json) => a.allowed === true && a.host === "127.0.0.1")).toBe(true);
  });
});

/** The one probe actor of the running engine (created on first use). */
async function actorId(h: Harness): Promise<string> {
  const r = await h.json("PUT", "/actors", { name: "probe", key: ["egress"] });
  expect(r.status).toBe(200);
  return r.body.actor.actorId as string;
}
