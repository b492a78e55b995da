import net from "node:net";
import { describe, expect, it } from "vitest";
import { installEgressAudit } from "../../telemetry/egress.js";
import { Kernel } from "./kernel.js";
import { SocketTable, socketPair } from "./net.js";
import type { NetworkAttempt, SocketHandle } from "./types.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function readAll(s: SocketHandle): Promise<string> {
  const buf = new Uint8Array(1024);
  let out = "";
  for (;;) {
    const n = await s.read(buf);
    if (n === 0) return out;
    out += decoder.decode(buf.subarray(0, n));
  }
}

/** A real echo server on the host's loopback (uppercases what it gets, then ends). */
async function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    const chunks: Buffer[] = [];
    sock.on("data", (c: Buffer) => chunks.push(c));
    sock.on("end", () => sock.end(Buffer.concat(chunks).toString().toUpperCase()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("socket pairs", () => {
  it("carry bytes both ways; shutdown(write) gives the peer end of file; close gives EPIPE", async () => {
    const [a, b] = socketPair({ port: 40000, address: "127.0.0.1" }, { port: 80, address: "127.0.0.1" });
    expect([a.localPort, a.remotePort, b.localPort, b.remotePort]).toEqual([40000, 80, 80, 40000]);
    expect(a.write(encoder.encode("ping"))).toBe(4);
    const buf = new Uint8Array(16);
    expect(b.read(buf)).toBe(4);
    const pending = a.read(buf);
    expect(pending).toBeInstanceOf(Promise);
    b.write(encoder.encode("pong"));
    expect(await pending).toBe(4);
    b.shutdown("write");
    expect(a.readReady()).toBe(true);
    expect(a.read(buf)).toBe(0);
    // Half-closed: b still reads what a sends.
    a.write(encoder.encode("more"));
    expect(b.read(buf)).toBe(4);
    expect(() => b.write(encoder.encode("x"))).toThrow(expect.objectContaining({ code: "EPIPE" }));
    b.close();
    expect(() => a.write(encoder.encode("x"))).toThrow(expect.objectContaining({ code: "EPIPE" }));
    expect(b.stat().type).toBe("socket");
  });

  it("an aborted read leaves the queue, so the next reader gets the bytes", async () => {
    const [a, b] = socketPair({ port: 1, address: "x" }, { port: 2, address: "y" });
    const ac = new AbortController();
    const dead = b.read(new Uint8Array(8), undefined, ac.signal);
    ac.abort();
    await expect(dead).rejects.toMatchObject({ code: "EINTR" });
    const live = new Uint8Array(8);
    const next = b.read(live);
    a.write(encoder.encode("data"));
    expect(await next).toBe(4);
    expect(decoder.decode(live.subarray(0, 4))).toBe("data");
  });
});

describe("SocketTable listeners", () => {
  it("accepts queued and awaited connections; EADDRINUSE; close refuses later connects", async () => {
    const table = new SocketTable();
    const listener = table.listen(3000, { pid: 7 });
    expect(table.listening()).toEqual([{ port: 3000, pid: 7 }]);
    expect(() => table.listen(3000)).toThrow(expect.objectContaining({ code: "EADDRINUSE" }));
    expect(listener.acceptReady()).toBe(false);
    const waiting = listener.accept();
    expect(waiting).toBeInstanceOf(Promise);
    const client = await table.connect("127.0.0.1", 3000);
    const server = await waiting;
    client.write(encoder.encode("hi"));
    client.shutdown("write");
    expect(await readAll(server)).toBe("hi");

    const fromHost = table.connectFromHost(3000);
    expect(listener.acceptReady()).toBe(true);
    const queued = listener.accept() as SocketHandle;
    queued.write(encoder.encode("welcome"));
    queued.close();
    expect(await readAll(fromHost)).toBe("welcome");

    const blocked = listener.accept();
    listener.close();
    await expect(blocked).rejects.toMatchObject({ code: "EBADF" });
    expect(table.listening()).toEqual([]);
    expect(() => table.connectFromHost(3000)).toThrow(expect.objectContaining({ code: "ECONNREFUSED" }));
    await expect(table.connect("localhost", 3000)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("keeps the port while any reference is open, and frees it with the last", () => {
    const table = new SocketTable();
    const listener = table.listen(4000);
    const dup = listener.ref();
    listener.close();
    expect(table.listening()).toHaveLength(1);
    dup.close();
    expect(table.listening()).toEqual([]);
    table.listen(4000).close();
  });

  it("refuses connections past the backlog; closing drops the unaccepted ones", async () => {
    const table = new SocketTable();
    const listener = table.listen(5000, { backlog: 2 });
    const a = table.connectFromHost(5000);
    table.connectFromHost(5000);
    expect(() => table.connectFromHost(5000)).toThrow(expect.objectContaining({ code: "ECONNREFUSED" }));
    listener.close();
    expect(await readAll(a)).toBe("");
    expect(() => a.write(encoder.encode("x"))).toThrow(expect.objectContaining({ code: "EPIPE" }));
  });

  it("an aborted accept does not take the next connection", async () => {
    const table = new SocketTable();
    const listener = table.listen(5100);
    const ac = new AbortController();
    const dead = listener.accept(ac.signal);
    ac.abort();
    await expect(dead).rejects.toMatchObject({ code: "EINTR" });
    const client = table.connectFromHost(5100);
    const server = listener.accept() as SocketHandle;
    expect(server.kind).toBe("socket");
    server.write(encoder.encode("ok"));
    server.close();
    expect(await readAll(client)).toBe("ok");
  });

  it("port 0 picks a free port inside the listen range", () => {
    const table = new SocketTable({ listen: { portMin: 8000, portMax: 8001 } });
    const first = table.listen(0);
    const second = table.listen(0);
    expect(new Set([first.port, second.port])).toEqual(new Set([8000, 8001]));
    expect(() => table.listen(0)).toThrow(expect.objectContaining({ code: "EADDRINUSE" }));
    const wide = new SocketTable();
    const port = wide.listen(0).port;
    expect(port).toBeGreaterThanOrEqual(32768);
    expect(port).toBeLessThanOrEqual(60999);
  });

  it("enforces the listen policy and validates it at construction", () => {
    const table = new SocketTable({ listen: { portMin: 3000, portMax: 4000 } });
    expect(() => table.listen(2999)).toThrow(expect.objectContaining({ code: "EACCES" }));
    expect(() => table.listen(4001)).toThrow(/outside the workspace's listen range 3000-4000/);
    expect(() => table.listen(70000)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => new SocketTable().listen(443)).toThrow(/privileged/);
    expect(new SocketTable({ listen: { allowPrivileged: true } }).listen(443).port).toBe(443);
    expect(() => new SocketTable({ listen: { portMin: 0 } })).toThrow(
      /portMin must be an integer port 1-65535/,
    );
    expect(() => new SocketTable({ listen: { portMin: 5000, portMax: 4000 } })).toThrow(
      /above listen.portMax/,
    );
    expect(() => new SocketTable({ loopbackExemptPorts: [0] })).toThrow(/loopbackExemptPorts/);
    const denied = new SocketTable({
      network: { rules: [{ mode: "deny", operations: ["listen"], patterns: ["*:22"] }] },
      listen: { allowPrivileged: true },
    });
    expect(() => denied.listen(22)).toThrow(expect.objectContaining({ code: "EACCES" }));
    expect(denied.listen(23).port).toBe(23);
  });

  it("releases the listeners of an exited pid", () => {
    const table = new SocketTable();
    table.listen(6000, { pid: 1 });
    table.listen(6001, { pid: 2 });
    table.releasePid(1);
    expect(table.listening()).toEqual([{ port: 6001, pid: 2 }]);
  });
});

describe("SocketTable outbound", () => {
  it("never resolves a name the policy refuses", async () => {
    const looked: string[] = [];
    const attempts: NetworkAttempt[] = [];
    const table = new SocketTable({
      network: { rules: [{ mode: "allow", operations: ["connect"], patterns: ["api.example.com"] }] },
      lookup: async (host) => (looked.push(host), ["93.184.216.34"]),
      onAttempt: (a) => attempts.push(a),
    });
    await expect(table.connect("evil.example.com", 443)).rejects.toMatchObject({ code: "EACCES" });
    // connect is allowed, dns is not (the rule names only "connect").
    await expect(table.connect("api.example.com", 443)).rejects.toMatchObject({ code: "EACCES" });
    expect(looked).toEqual([]);
    expect(attempts.map((a) => a.reason)).toEqual([
      "policy: connect evil.example.com:443 denied by the default (deny)",
      "policy: dns api.example.com denied by the default (deny)",
    ]);
  });

  it("checks what a permitted name resolves to (DNS rebinding to internal or host loopback)", async () => {
    const answers: Record<string, string[]> = {
      "internal.test": ["10.1.2.3"],
      "rebind.test": ["127.0.0.1"],
      "mapped.test": ["::ffff:169.254.169.254"],
    };
    const attempts: NetworkAttempt[] = [];
    const table = new SocketTable({
      network: { default: "allow" },
      lookup: async (host) => answers[host] ?? [],
      onAttempt: (a) => attempts.push(a),
    });
    for (const host of Object.keys(answers)) {
      await expect(table.connect(host, 80)).rejects.toMatchObject({ code: "EACCES" });
    }
    expect(attempts.map((a) => [a.host, a.outcome, a.reason!.split(":")[0]])).toEqual([
      ["internal.test", "refused", "ssrf"],
      ["rebind.test", "refused", "ssrf"],
      ["mapped.test", "refused", "ssrf"],
    ]);
  });

  it("bridges an allowed connect to a real host socket (a name resolved to an exempt loopback port)", async () => {
    const echo = await echoServer();
    try {
      const table = new SocketTable({
        network: { rules: [{ mode: "allow", patterns: ["echo.test"] }] },
        loopbackExemptPorts: [echo.port],
        lookup: async () => ["127.0.0.1"],
      });
      const sock = await table.connect("echo.test", echo.port);
      expect(sock.kind).toBe("socket");
      await sock.write(encoder.encode("shout this"));
      sock.shutdown("write");
      expect(await readAll(sock)).toBe("SHOUT THIS");
      sock.close();
    } finally {
      await echo.close();
    }
  });

  it("opens the host's loopback only through loopbackExemptPorts, never through a rule", async () => {
    let connections = 0;
    const server = net.createServer((sock) => {
      connections++;
      sock.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const table = new SocketTable({
        network: { default: "allow", rules: [{ mode: "allow", patterns: ["127.0.0.0/8", "localhost"] }] },
      });
      await expect(table.connect("127.0.0.1", port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
      await expect(table.connect("::ffff:127.0.0.1", port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
      await expect(table.connect("localhost", port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
      expect(connections).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("SocketTable and the engine's egress audit", () => {
  it("an air-gapped engine refuses what the workspace policy allows: EACCES, reported as airgap", async () => {
    const audit = installEgressAudit({ enforce: true, allow: [] });
    try {
      const attempts: NetworkAttempt[] = [];
      // The default lookup goes through node:dns, where the audit refuses before any query is sent.
      const table = new SocketTable({ network: { default: "allow" }, onAttempt: (a) => attempts.push(a) });
      await expect(table.connect("db.corp.test", 5432)).rejects.toMatchObject({ code: "EACCES" });
      expect(attempts).toEqual([
        expect.objectContaining({
          host: "db.corp.test",
          outcome: "refused",
          reason: expect.stringMatching(/^airgap: /),
        }),
      ]);
      expect(audit.attempts()).toEqual([
        expect.objectContaining({ kind: "dns", host: "db.corp.test", allowed: false }),
      ]);
    } finally {
      audit.uninstall();
    }
  });
});

describe("Kernel networking", () => {
  it("exposes the socket table, frees a process's listeners when it exits, and closes all on shutdown", async () => {
    const kernel = new Kernel({ hostPrograms: { serve: async () => 0 } });
    const [r, w] = kernel.createPipe();
    kernel.vfs.writeFile("/serve", "#!enclave-host serve\n", { mode: 0o755 });
    const proc = kernel.spawn({ argv: ["/serve"], env: {}, cwd: "/", stdio: [r, w, w] });
    kernel.net.listen(7000, { pid: proc.pid });
    kernel.net.listen(7001);
    await proc.wait();
    expect(kernel.net.listening()).toEqual([{ port: 7001, pid: undefined }]);
    await kernel.shutdown();
    expect(kernel.net.listening()).toEqual([]);
  });

  it("validates the policies when the kernel is built", () => {
    expect(() => new Kernel({ listen: { portMin: 10, portMax: 5 } })).toThrow(RangeError);
    expect(() => new Kernel({ network: { rules: [{ mode: "allow", patterns: ["bad host!"] }] } })).toThrow(
      /network pattern "bad host!"/,
    );
    expect(() => new Kernel({ filesystem: { default: "maybe" as "allow" } })).toThrow(TypeError);
  });
});
