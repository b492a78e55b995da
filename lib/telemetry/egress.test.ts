/**
 * The egress audit with real attempts. Nothing here may leave the machine: every attempt either
 * stays on loopback (or a Unix socket) or is refused by enforcement before a socket handle
 * exists. Non-loopback destinations are TEST-NET-1 (192.0.2.0/24, RFC 5737) and `.invalid`
 * names, and each such attempt first checks that the refusing hook is in place.
 */
import dc from "node:diagnostics_channel";
import dns, { lookup as namedLookup } from "node:dns";
import * as dnsNamespace from "node:dns";
import dnsPromises from "node:dns/promises";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  EGRESS_DENIED_CODE,
  EgressDeniedError,
  allowPatternForUrl,
  installEgressAudit,
  isAllowed,
  isLoopbackHost,
  parseAllowPattern,
  type EgressAttempt,
  type EgressAudit,
  type EgressAuditOptions,
} from "./egress.js";

const ORIGINAL = {
  connect: net.Socket.prototype.connect,
  lookup: dns.lookup,
  lookupService: dns.lookupService,
  resolve: dns.resolve,
  resolve4: dns.resolve4,
  reverse: dns.reverse,
  resolverResolve4: dns.Resolver.prototype.resolve4,
  promisesLookup: dnsPromises.lookup,
  promisesResolve4: dnsPromises.resolve4,
  promisesResolverResolve4: dnsPromises.Resolver.prototype.resolve4,
  namespaceLookup: dnsNamespace.lookup,
};

/** A TEST-NET-1 address: never routed, and never reached here because enforcement refuses it. */
const OUTSIDE = "192.0.2.1";

let audits: EgressAudit[] = [];
function install(options: EgressAuditOptions): EgressAudit {
  const a = installEgressAudit(options);
  audits.push(a);
  return a;
}
afterEach(() => {
  for (const a of audits) a.uninstall();
  audits = [];
});

/** Fails the test (before any attempt) unless a non-loopback attempt is going to be refused. */
function assertRefusing(audit: EgressAudit): void {
  expect(audit.enforcing).toBe(true);
  expect(net.Socket.prototype.connect).not.toBe(ORIGINAL.connect);
  expect(dns.lookup).not.toBe(ORIGINAL.lookup);
}

function memoryLog(): { lines: { obj: object; msg: string }[]; warn(obj: object, msg: string): void } {
  const lines: { obj: object; msg: string }[] = [];
  return { lines, warn: (obj, msg) => lines.push({ obj, msg }) };
}

function errorOf(emitter: NodeJS.EventEmitter): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve) => emitter.once("error", resolve));
}

/** A `lookup` that answers every name with 127.0.0.1: a "remote" name that stays on this host. */
const toLoopback: net.LookupFunction = (_host, options, callback) => {
  if (options.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
  else callback(null, "127.0.0.1", 4);
};

let server: net.Server;
let port: number;
let unixDir: string;
let unixPath: string;
let unixServer: net.Server;
let httpServer: http.Server;
let httpPort: number;

beforeAll(async () => {
  server = net.createServer((s) => s.end("hi"));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = (server.address() as net.AddressInfo).port;

  unixDir = mkdtempSync(join(tmpdir(), "enclave-egress-"));
  unixPath = join(unixDir, "s.sock");
  unixServer = net.createServer((s) => s.end("hi"));
  unixServer.listen(unixPath);
  await once(unixServer, "listening");

  // No keep-alive: every request is a new connection, so each one is a connect to record.
  httpServer = http.createServer((_req, res) => res.setHeader("connection", "close").end("ok"));
  httpServer.listen(0, "127.0.0.1");
  await once(httpServer, "listening");
  httpPort = (httpServer.address() as net.AddressInfo).port;
});

afterAll(async () => {
  httpServer.closeAllConnections();
  await new Promise((r) => httpServer.close(r));
  await new Promise((r) => server.close(r));
  await new Promise((r) => unixServer.close(r));
  rmSync(unixDir, { recursive: true, force: true });
});

async function roundTrip(socket: net.Socket): Promise<string> {
  let data = "";
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => (data += d));
  await once(socket, "close");
  return data;
}

// ---- patterns --------------------------------------------------------------------------------

describe("allow patterns", () => {
  const allows = (patterns: string[], host: string, p: number | null) =>
    isAllowed(patterns.map(parseAllowPattern), host, p);

  it("matches an exact host and port, case- and trailing-dot-insensitively", () => {
    expect(allows(["db.corp.example:5432"], "db.corp.example", 5432)).toBe(true);
    expect(allows(["DB.Corp.Example:5432"], "db.corp.example.", 5432)).toBe(true);
    expect(allows(["db.corp.example:5432"], "db.corp.example", 5433)).toBe(false);
    expect(allows(["db.corp.example:5432"], "corp.example", 5432)).toBe(false);
  });

  it("takes * as exactly one host label, the whole host, or the port", () => {
    expect(allows(["*.corp.example:443"], "api.corp.example", 443)).toBe(true);
    expect(allows(["*.corp.example:443"], "a.b.corp.example", 443)).toBe(false);
    expect(allows(["*.corp.example:443"], "corp.example", 443)).toBe(false);
    expect(allows(["api.*.example:443"], "api.eu.example", 443)).toBe(true);
    expect(allows(["*:443"], "anything.at.all", 443)).toBe(true);
    expect(allows(["*:443"], "2001:db8::1", 443)).toBe(true);
    expect(allows(["*:443"], "anything", 80)).toBe(false);
    expect(allows(["otel.corp:*"], "otel.corp", 4318)).toBe(true);
    expect(allows(["*:*"], "x", 1)).toBe(true);
  });

  it("matches IPv4 octets and bracketed IPv6 (canonical form)", () => {
    expect(allows(["10.0.*.*:5432"], "10.0.3.4", 5432)).toBe(true);
    expect(allows(["10.0.*.*:5432"], "10.1.3.4", 5432)).toBe(false);
    expect(allows(["[FD00:0:0::1]:4318"], "fd00::1", 4318)).toBe(true);
    expect(allows(["[fd00::1]:4318"], "[fd00:0::0001]", 4318)).toBe(true);
    expect(allows(["[fd00::1]:4318"], "fd00::2", 4318)).toBe(false);
    expect(allows(["fd00.example:4318"], "fd00::1", 4318)).toBe(false);
  });

  it("lets a DNS query (no port) through when some pattern's host matches", () => {
    expect(allows(["otel.corp:4318"], "otel.corp", null)).toBe(true);
    expect(allows(["otel.corp:4318"], "other.corp", null)).toBe(false);
  });

  it("rejects malformed patterns with the reason", () => {
    expect(() => parseAllowPattern("db.corp")).toThrow(/expected host:port/);
    expect(() => parseAllowPattern("fd00::1:443")).toThrow(/brackets/);
    expect(() => parseAllowPattern("[fd00::1]")).toThrow(/host:port/);
    expect(() => parseAllowPattern("[nope]:1")).toThrow(/IPv6/);
    expect(() => parseAllowPattern("db:http")).toThrow(/port/);
    expect(() => parseAllowPattern("db:0")).toThrow(/1-65535/);
    expect(() => parseAllowPattern("db:70000")).toThrow(/1-65535/);
    expect(() => parseAllowPattern("db-*.corp:1")).toThrow(/whole label/);
    expect(() => parseAllowPattern("a..b:1")).toThrow(/label/);
    expect(() => parseAllowPattern(":1")).toThrow(/empty host/);
  });

  it("refuses to install with an invalid pattern, and hooks nothing", () => {
    expect(() => installEgressAudit({ enforce: true, allow: ["nope"] })).toThrow(TypeError);
    expect(net.Socket.prototype.connect).toBe(ORIGINAL.connect);
  });

  it("derives a pattern from a URL", () => {
    expect(allowPatternForUrl("http://otel.corp:4318/v1/traces")).toBe("otel.corp:4318");
    expect(allowPatternForUrl("https://user:pw@otel.corp/x?y=1")).toBe("otel.corp:443");
    expect(allowPatternForUrl("http://[fd00::1]/")).toBe("[fd00::1]:80");
  });

  it("knows loopback", () => {
    for (const h of ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"]) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ["localhost", "LOCALHOST.", "0.0.0.0", "::", ""]) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    // api.localhost goes through getaddrinfo, which may ask DNS: egress like any other name.
    for (const h of [
      "192.0.2.1",
      "10.0.0.1",
      "::ffff:192.0.2.1",
      "2001:db8::1",
      "localhost.example",
      "api.localhost",
    ]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });
});

// ---- enforcement ----------------------------------------------------------------------------

describe("enforcement on", () => {
  it("refuses net.connect to a non-loopback address before a socket handle exists", async () => {
    const log = memoryLog();
    const audit = install({ enforce: true, allow: ["otel.corp:4318"], log });
    assertRefusing(audit);

    let socket: net.Socket | undefined;
    expect(() => (socket = net.connect(443, OUTSIDE))).not.toThrow();
    const s = socket as net.Socket;
    // No TCP handle was ever created, so no SYN can have been sent.
    expect((s as unknown as { _handle: unknown })._handle).toBeFalsy();
    s.write("queued, never sent");
    const closed = new Promise((r) => s.once("close", r)); // events.once would reject on 'error'

    const e = await errorOf(s);
    expect(e).toBeInstanceOf(EgressDeniedError);
    expect(e.code).toBe(EGRESS_DENIED_CODE);
    expect(e.syscall).toBe("connect");
    expect(e.message).toContain(`${OUTSIDE}:443`);
    await closed;

    expect(audit.attempts()).toEqual([
      { at: expect.any(Number), kind: "connect", host: OUTSIDE, port: 443, allowed: false },
    ]);
    expect(audit.stats()).toEqual({ recorded: 1, denied: 1, dropped: 0 });
    expect(log.lines).toEqual([
      {
        obj: { egress: { kind: "connect", host: OUTSIDE, port: 443 } },
        msg: expect.stringContaining("denied"),
      },
    ]);
  });

  it("refuses the error asynchronously even for socket.connect on a bare Socket", async () => {
    const audit = install({ enforce: true });
    assertRefusing(audit);
    const s = new net.Socket();
    let sync = true;
    const failed = new Promise<NodeJS.ErrnoException>((resolve) =>
      s.once("error", (e) => {
        expect(sync).toBe(false);
        resolve(e);
      }),
    );
    s.connect({ host: OUTSIDE, port: 9 });
    sync = false;
    expect((await failed).code).toBe(EGRESS_DENIED_CODE);
  });

  it("refuses http.request and logs host and port only, never userinfo or query", async () => {
    const log = memoryLog();
    const audit = install({ enforce: true, log });
    assertRefusing(audit);
    const req = http.request(`http://user:s3cret@${OUTSIDE}:8080/path?token=abc`);
    req.end();
    const e = await errorOf(req);
    expect(e.code).toBe(EGRESS_DENIED_CODE);
    expect(audit.attempts()).toMatchObject([{ kind: "connect", host: OUTSIDE, port: 8080, allowed: false }]);
    const logged = JSON.stringify(log.lines);
    expect(logged).not.toMatch(/s3cret|user|token|path/);
    expect(logged).toContain(OUTSIDE);
  });

  it("refuses https.get and tls.connect (name-based, before any lookup)", async () => {
    const audit = install({ enforce: true });
    assertRefusing(audit);
    const req = https.get("https://collector.example.invalid/");
    expect((await errorOf(req)).code).toBe(EGRESS_DENIED_CODE);
    const t = tls.connect({ host: OUTSIDE, port: 443, servername: "x.example" });
    expect((await errorOf(t)).code).toBe(EGRESS_DENIED_CODE);
    // The https name was refused at connect, so it was never looked up.
    expect(audit.attempts().map((a) => `${a.kind} ${a.host}:${a.port}`)).toEqual([
      "connect collector.example.invalid:443",
      `connect ${OUTSIDE}:443`,
    ]);
  });

  it("refuses fetch() (undici) to a denied host", async () => {
    const audit = install({ enforce: true });
    assertRefusing(audit);
    const failure = await fetch(`http://${OUTSIDE}:8080/v1/traces?x=1`).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TypeError);
    expect((failure as { cause?: { code?: string } }).cause?.code).toBe(EGRESS_DENIED_CODE);
    expect(audit.attempts()).toMatchObject([{ kind: "connect", host: OUTSIDE, port: 8080, allowed: false }]);
  });

  it("refuses DNS queries for names not allowed, in every API, before any query is sent", async () => {
    const audit = install({ enforce: true, allow: ["allowed.invalid:443"] });
    assertRefusing(audit);

    const viaCallback = await new Promise<NodeJS.ErrnoException | null>((r) =>
      dns.lookup("example.invalid", r),
    );
    expect(viaCallback?.code).toBe(EGRESS_DENIED_CODE);
    expect(viaCallback?.syscall).toBe("getaddrinfo");
    const viaNamed = await new Promise<NodeJS.ErrnoException | null>((r) => namedLookup("named.invalid", r));
    expect(viaNamed?.code).toBe(EGRESS_DENIED_CODE);
    await expect(dnsPromises.lookup("promise.invalid")).rejects.toMatchObject({ code: EGRESS_DENIED_CODE });
    await expect(dns.promises.lookup("promise2.invalid")).rejects.toMatchObject({ code: EGRESS_DENIED_CODE });
    const viaResolve = await new Promise<Error | null>((r) => dns.resolve4("resolve.invalid", (e) => r(e)));
    expect(viaResolve).toMatchObject({ code: EGRESS_DENIED_CODE, syscall: "resolve4" });
    const viaGeneric = await new Promise<Error | null>((r) => dns.resolve("mx.invalid", "MX", (e) => r(e)));
    expect(viaGeneric).toMatchObject({ code: EGRESS_DENIED_CODE });
    const resolver = new dns.Resolver();
    const viaResolver = await new Promise<Error | null>((r) =>
      resolver.resolveTxt("txt.invalid", (e) => r(e)),
    );
    expect(viaResolver).toMatchObject({ code: EGRESS_DENIED_CODE });
    await expect(new dnsPromises.Resolver().resolve6("aaaa.invalid")).rejects.toMatchObject({
      code: EGRESS_DENIED_CODE,
    });
    await expect(dnsPromises.reverse("192.0.2.7")).rejects.toMatchObject({ code: EGRESS_DENIED_CODE });

    expect(audit.attempts().map((a) => `${a.kind} ${a.host} ${a.allowed}`)).toEqual([
      "dns example.invalid false",
      "dns named.invalid false",
      "dns promise.invalid false",
      "dns promise2.invalid false",
      "dns resolve.invalid false",
      "dns mx.invalid false",
      "dns txt.invalid false",
      "dns aaaa.invalid false",
      "dns 192.0.2.7 false",
    ]);
  });

  it("lets localhost and IP literals resolve without a record", async () => {
    const audit = install({ enforce: true });
    const local = await dnsPromises.lookup("localhost", { family: 4 });
    expect(local.address).toBe("127.0.0.1");
    const literal = await dnsPromises.lookup(OUTSIDE); // answered locally: no query is sent
    expect(literal.address).toBe(OUTSIDE);
    expect(audit.attempts()).toEqual([]);
  });

  it("passes a destination on the allow list, by the name the caller used", async () => {
    const audit = install({ enforce: true, allow: [`collector.test:${port}`] });
    // collector.test is "resolved" by a custom lookup to 127.0.0.1, so nothing leaves the host.
    const ok = net.connect({ host: "collector.test", port, lookup: toLoopback });
    expect(await roundTrip(ok)).toBe("hi");

    const denied = net.connect({
      host: "collector.test",
      port: port === 65535 ? 1 : port + 1,
      lookup: toLoopback,
    });
    expect((await errorOf(denied)).code).toBe(EGRESS_DENIED_CODE);

    expect(audit.attempts()).toMatchObject([
      { kind: "connect", host: "collector.test", port, allowed: true },
      { kind: "connect", host: "collector.test", allowed: false },
    ]);
  });

  it("passes http.request to an allowed name", async () => {
    const audit = install({ enforce: true, allow: ["*.test:*"] });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request({
        host: "api.test",
        port: httpPort,
        path: "/",
        lookup: toLoopback,
        agent: false,
      });
      req.on("response", resolve).on("error", reject).end();
    });
    res.resume();
    expect(res.statusCode).toBe(200);
    expect(audit.attempts()).toMatchObject([
      { kind: "connect", host: "api.test", port: httpPort, allowed: true },
    ]);
  });

  it("never refuses loopback or Unix sockets", async () => {
    const audit = install({ enforce: true });
    expect(await roundTrip(net.connect(port, "127.0.0.1"))).toBe("hi");
    expect(await roundTrip(net.connect({ port, host: "localhost", family: 4 }))).toBe("hi");
    expect(await roundTrip(net.connect(unixPath))).toBe("hi");
    const body = await (await fetch(`http://127.0.0.1:${httpPort}/`)).text();
    expect(body).toBe("ok");
    expect(audit.attempts()).toEqual([]);
  });
});

// ---- recording without enforcement ------------------------------------------------------------

describe("enforcement off", () => {
  it("records without refusing (loopback with includeLoopback)", async () => {
    const seen: EgressAttempt[] = [];
    const audit = install({ includeLoopback: true, onAttempt: (a) => seen.push(a) });
    expect(audit.enforcing).toBe(false);
    expect(await roundTrip(net.connect(port, "127.0.0.1"))).toBe("hi");
    expect(await roundTrip(net.connect(unixPath))).toBe("hi");
    const res = await fetch(`http://127.0.0.1:${httpPort}/x`);
    expect(await res.text()).toBe("ok");
    const addr = await dnsPromises.lookup("localhost", { family: 4 });
    expect(addr.address).toBe("127.0.0.1");

    const expected = [
      { at: expect.any(Number), kind: "connect", host: "127.0.0.1", port, allowed: true },
      { at: expect.any(Number), kind: "connect", host: unixPath, port: null, allowed: true },
      // fetch is recorded once: by the connect hook, not again by the undici channel
      { at: expect.any(Number), kind: "connect", host: "127.0.0.1", port: httpPort, allowed: true },
      { at: expect.any(Number), kind: "dns", host: "localhost", port: null, allowed: true },
    ];
    expect(audit.attempts()).toEqual(expected);
    expect(seen).toEqual(expected);
    const ats = audit.attempts().map((a) => a.at);
    expect([...ats].sort((a, b) => a - b)).toEqual(ats);
  });

  it("records a non-loopback name that connects (locally) and does not record loopback by default", async () => {
    const audit = install({});
    expect(await roundTrip(net.connect({ host: "db.test", port, lookup: toLoopback }))).toBe("hi");
    expect(await roundTrip(net.connect(port, "127.0.0.1"))).toBe("hi");
    expect(await roundTrip(net.connect(unixPath))).toBe("hi");
    expect(audit.attempts()).toMatchObject([{ kind: "connect", host: "db.test", port, allowed: true }]);
  });

  it("records a connect that bypassed the patched method, via net.client.socket", async () => {
    // Simulate a library that kept a reference to the unpatched connect and calls it instead.
    const bypass = (message: unknown) => {
      const socket = (message as { socket: net.Socket }).socket;
      Object.defineProperty(socket, "connect", { value: ORIGINAL.connect, configurable: true });
    };
    dc.subscribe("net.client.socket", bypass);
    try {
      const log = memoryLog();
      const audit = install({ includeLoopback: true, log });
      expect(await roundTrip(net.connect(port, "127.0.0.1"))).toBe("hi");
      expect(audit.attempts()).toMatchObject([{ kind: "connect", host: "127.0.0.1", port, allowed: true }]);
    } finally {
      dc.unsubscribe("net.client.socket", bypass);
    }
  });
});

// ---- the buffer and the hooks' lifetime ------------------------------------------------------

describe("lifecycle", () => {
  it("keeps a bounded ring buffer, newest last", async () => {
    const audit = install({ enforce: true, maxEntries: 5 });
    assertRefusing(audit);
    for (let i = 0; i < 8; i++) {
      await expect(dnsPromises.lookup(`n${i}.invalid`)).rejects.toMatchObject({ code: EGRESS_DENIED_CODE });
    }
    expect(audit.attempts().map((a) => a.host)).toEqual([
      "n3.invalid",
      "n4.invalid",
      "n5.invalid",
      "n6.invalid",
      "n7.invalid",
    ]);
    expect(audit.stats()).toEqual({ recorded: 8, denied: 8, dropped: 3 });
  });

  it("defaults to 10,000 entries", () => {
    const audit = install({ enforce: true });
    assertRefusing(audit);
    // A refused lookup is recorded synchronously; its callback runs later.
    for (let i = 0; i < 10_050; i++) dns.lookup(`n${i}.invalid`, () => undefined);
    expect(audit.attempts()).toHaveLength(10_000);
    expect(audit.attempts().at(-1)?.host).toBe("n10049.invalid");
    expect(audit.stats()).toEqual({ recorded: 10_050, denied: 10_050, dropped: 50 });
  });

  it("installs the hooks once, combines handles fail-closed, and uninstall restores the originals", async () => {
    const a = install({ includeLoopback: true });
    const patched = net.Socket.prototype.connect;
    expect(patched).not.toBe(ORIGINAL.connect);
    expect(dnsNamespace.lookup).not.toBe(ORIGINAL.namespaceLookup);
    expect(a.enforcing).toBe(false);

    const b = install({ enforce: true, allow: ["otel.corp:4318"] });
    expect(net.Socket.prototype.connect).toBe(patched); // not wrapped twice
    expect(a.enforcing).toBe(true); // one enforcing handle makes the process enforce
    const denied = net.connect(443, OUTSIDE);
    expect((await errorOf(denied)).code).toBe(EGRESS_DENIED_CODE);
    expect(a.attempts()).toEqual(b.attempts()); // one process-wide record

    b.uninstall();
    b.uninstall(); // idempotent
    expect(a.enforcing).toBe(false);
    expect(net.Socket.prototype.connect).toBe(patched);

    a.uninstall();
    expect(net.Socket.prototype.connect).toBe(ORIGINAL.connect);
    expect(Object.hasOwn(tls.TLSSocket.prototype, "connect")).toBe(false);
    expect(dns.lookup).toBe(ORIGINAL.lookup);
    expect(dns.lookupService).toBe(ORIGINAL.lookupService);
    expect(dns.resolve).toBe(ORIGINAL.resolve);
    expect(dns.resolve4).toBe(ORIGINAL.resolve4);
    expect(dns.reverse).toBe(ORIGINAL.reverse);
    expect(dns.Resolver.prototype.resolve4).toBe(ORIGINAL.resolverResolve4);
    expect(dnsPromises.lookup).toBe(ORIGINAL.promisesLookup);
    expect(dnsPromises.resolve4).toBe(ORIGINAL.promisesResolve4);
    expect(dnsPromises.Resolver.prototype.resolve4).toBe(ORIGINAL.promisesResolverResolve4);
    expect(dnsNamespace.lookup).toBe(ORIGINAL.namespaceLookup);

    // After uninstall nothing is recorded (loopback is safe to try).
    expect(await roundTrip(net.connect(port, "127.0.0.1"))).toBe("hi");
    expect(a.attempts()).toHaveLength(1);
  });

  it("a fresh install after uninstall starts a fresh record", async () => {
    const first = install({ enforce: true });
    assertRefusing(first);
    await expect(dnsPromises.lookup("first.invalid")).rejects.toThrow(EGRESS_DENIED_CODE);
    first.uninstall();
    const second = install({ enforce: true });
    expect(second.attempts()).toEqual([]);
  });
});
