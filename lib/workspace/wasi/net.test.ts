import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Kernel, type KernelOptions } from "../kernel/kernel.js";
import { createSoftwareMount } from "../kernel/software-mount.js";
import type { FileHandle, NetworkAttempt, ProcessHandle } from "../kernel/types.js";
import { WasiExecutor } from "./executor.js";
import { WorkerPool } from "./pool.js";
import { buildTestProgram, testProgram } from "./testing/test-program.js";

const decoder = new TextDecoder();
const encoder = new TextEncoder();
// wasi-libc's errno values are WASI's.
const EACCES = 2;
const EADDRINUSE = 3;
const ECONNREFUSED = 14;

let pool: WorkerPool;
let software: { path: string; data: Uint8Array; mode: number }[];

beforeAll(async () => {
  software = [
    { path: "bin/httpd", data: buildTestProgram("httpd"), mode: 0o755 },
    { path: "bin/httpget", data: buildTestProgram("httpget"), mode: 0o755 },
    { path: "bin/wtest", data: testProgram(), mode: 0o755 },
  ];
  pool = new WorkerPool({ idle: 3 });
  await pool.warm();
});

afterAll(() => pool.close());

const kernels: Kernel[] = [];
afterEach(async () => {
  await Promise.all(kernels.splice(0).map((k) => k.shutdown()));
});

function boot(options: Partial<KernelOptions> = {}): Kernel {
  const ref: { kernel?: Kernel } = {};
  const executor = new WasiExecutor({ kernel: () => ref.kernel!, pool });
  ref.kernel = new Kernel({
    executors: { wasm: executor },
    mounts: [{ path: "/opt", mount: createSoftwareMount(software) }],
    ...options,
  });
  ref.kernel.vfs.mkdir("/home/user", { recursive: true });
  kernels.push(ref.kernel);
  return ref.kernel;
}

async function drain(reader: FileHandle): Promise<string> {
  const chunks: string[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await reader.read(buf);
    if (n === 0) break;
    chunks.push(decoder.decode(buf.subarray(0, n)));
  }
  reader.close();
  return chunks.join("");
}

interface Started {
  handle: ProcessHandle;
  stdin: FileHandle;
  stdout: Promise<string>;
  stderr: Promise<string>;
}

function start(kernel: Kernel, argv: string[], stdinRead?: FileHandle): Started {
  const [inR, inW] = kernel.createPipe();
  const [outR, outW] = kernel.createPipe();
  const [errR, errW] = kernel.createPipe();
  const handle = kernel.spawn({
    argv: [`/opt/bin/${argv[0]}`, ...argv.slice(1)],
    env: { PATH: "/opt/bin" },
    cwd: "/home/user",
    stdio: [stdinRead ?? inR, outW, errW],
  });
  inR.close();
  outW.close();
  errW.close();
  return { handle, stdin: inW, stdout: drain(outR), stderr: drain(errR) };
}

async function run(
  kernel: Kernel,
  argv: string[],
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const p = start(kernel, argv);
  p.stdin.close();
  const status = await p.handle.wait();
  return { exitCode: status.exitCode, stdout: await p.stdout, stderr: await p.stderr };
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const isListening = (kernel: Kernel, port: number) => () =>
  kernel.net.listening().some((l) => l.port === port);

/** A hand-written HTTP request from the host side through the kernel's socket table. */
async function hostRequest(kernel: Kernel, port: number, request: string): Promise<string> {
  const socket = kernel.net.connectFromHost(port);
  let rest = encoder.encode(request);
  while (rest.length > 0) rest = rest.subarray(await socket.write(rest));
  return drain(socket);
}

/** A real server on the host's loopback, counting the connections it gets. */
async function hostServer(): Promise<{
  port: number;
  connections: () => number;
  close: () => Promise<void>;
}> {
  let connections = 0;
  const server = http.createServer((req, res) => {
    res.setHeader("connection", "close");
    res.end(`host says hi to ${req.url}`);
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("WASI sockets", () => {
  it("serves HTTP from a WASI program to a host-side connection; its exit frees the port", async () => {
    const kernel = boot();
    const server = start(kernel, ["httpd", "8080", "1"]);
    await until(isListening(kernel, 8080), "the server to listen");
    expect(kernel.net.listening()).toEqual([{ port: 8080, pid: server.handle.pid }]);
    const response = await hostRequest(
      kernel,
      8080,
      "POST /echo?q=1 HTTP/1.1\r\nHost: vm\r\nX-Test: from-host\r\nContent-Length: 11\r\n\r\nhello there",
    );
    expect(response).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(response).toContain("Content-Length: 61\r\n");
    expect(response.split("\r\n\r\n")[1]).toBe(
      "method=POST\npath=/echo?q=1\nx-test=from-host\nbody=hello there\n",
    );
    expect(await server.handle.wait()).toEqual({ exitCode: 0 });
    expect(await server.stdout).toBe("listening on 8080\n");
    expect(kernel.net.listening()).toEqual([]);
    expect(() => kernel.net.connectFromHost(8080)).toThrow(expect.objectContaining({ code: "ECONNREFUSED" }));
  });

  it("connects a guest client to a guest server in the same workspace", async () => {
    const kernel = boot();
    const server = start(kernel, ["httpd", "3000", "2"]);
    await until(isListening(kernel, 3000), "the server to listen");
    const get = await run(kernel, ["httpget", "127.0.0.1", "3000", "/hello"]);
    expect(get.exitCode).toBe(0);
    expect(get.stdout).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(get.stdout).toContain("method=GET\npath=/hello\nx-test=guest\nbody=\n");
    const post = await run(kernel, ["httpget", "localhost", "3000", "/p", "a body"]);
    expect(post.stdout).toContain("method=POST\npath=/p\nx-test=guest\nbody=a body\n");
    expect((await server.handle.wait()).exitCode).toBe(0);
  });

  it("refuses and reports a guest connect to a port listening on the host's loopback", async () => {
    const host = await hostServer();
    try {
      const attempts: NetworkAttempt[] = [];
      const kernel = boot({ onNetworkAttempt: (a) => attempts.push(a) });
      const r = await run(kernel, ["httpget", "127.0.0.1", String(host.port), "/"]);
      expect(r.exitCode).toBe(ECONNREFUSED);
      expect(r.stderr).toMatch(/connect 127\.0\.0\.1:\d+: Connection refused/);
      expect(host.connections()).toBe(0);
      expect(attempts).toEqual([
        expect.objectContaining({
          host: "127.0.0.1",
          port: host.port,
          operation: "connect",
          outcome: "refused",
        }),
      ]);
      expect(attempts[0]!.reason).toMatch(/^loopback: /);
      expect(attempts[0]!.pid).toBeGreaterThan(0);
    } finally {
      await host.close();
    }
  });

  it("reaches the host's loopback on a port in loopbackExemptPorts", async () => {
    const host = await hostServer();
    try {
      const attempts: NetworkAttempt[] = [];
      const kernel = boot({ loopbackExemptPorts: [host.port], onNetworkAttempt: (a) => attempts.push(a) });
      const r = await run(kernel, ["httpget", "localhost", String(host.port), "/from-guest"]);
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/^HTTP\/1\.1 200 OK/);
      expect(r.stdout).toContain("host says hi to /from-guest");
      expect(host.connections()).toBe(1);
      expect(attempts).toEqual([
        expect.objectContaining({ host: "localhost", port: host.port, outcome: "allowed" }),
      ]);
    } finally {
      await host.close();
    }
  });

  it("refuses outbound connects under the default-deny policy and reports them", async () => {
    const attempts: NetworkAttempt[] = [];
    const kernel = boot({ onNetworkAttempt: (a) => attempts.push(a) });
    const internal = await run(kernel, ["httpget", "10.0.0.1", "80", "/"]);
    expect(internal.exitCode).toBe(EACCES);
    expect(internal.stderr).toContain("Permission denied");
    const name = await run(kernel, ["httpget", "example.com", "443", "/"]);
    expect(name.exitCode).toBe(EACCES);
    expect(attempts.map((a) => [a.host, a.port, a.outcome])).toEqual([
      ["10.0.0.1", 80, "refused"],
      ["example.com", 443, "refused"],
    ]);
    expect(attempts.every((a) => a.reason!.startsWith("policy: "))).toBe(true);
  });

  it("refuses internal and metadata addresses even when a rule allows every host", async () => {
    const attempts: NetworkAttempt[] = [];
    const kernel = boot({
      network: { rules: [{ mode: "allow", patterns: ["*"] }] },
      onNetworkAttempt: (a) => attempts.push(a),
    });
    for (const host of ["10.0.0.1", "169.254.169.254", "192.168.1.1", "::ffff:10.0.0.1"]) {
      expect((await run(kernel, ["httpget", host, "80", "/"])).exitCode).toBe(EACCES);
    }
    expect(attempts.map((a) => a.reason!.split(":")[0])).toEqual(["ssrf", "ssrf", "ssrf", "ssrf"]);
  });

  it("gives EACCES for a listen outside the range or on a privileged port, EADDRINUSE when taken", async () => {
    const kernel = boot({ listen: { portMin: 3000, portMax: 4000 } });
    const outside = await run(kernel, ["httpd", "5000"]);
    expect(outside.exitCode).toBe(EACCES);
    expect(outside.stderr).toBe("httpd: listen 5000: Permission denied\n");
    const privileged = boot({ listen: { portMin: 1, portMax: 4000 } });
    expect((await run(privileged, ["httpd", "80"])).exitCode).toBe(EACCES);

    const allowed = boot({ listen: { portMin: 80, portMax: 80, allowPrivileged: true } });
    const server = start(allowed, ["httpd", "80"]);
    await until(isListening(allowed, 80), "the privileged server to listen");
    expect((await run(allowed, ["httpd", "80"])).exitCode).toBe(EADDRINUSE);
    server.handle.kill("SIGKILL");
    expect((await server.handle.wait()).exitCode).toBe(137);
    // The killed server's port is free again.
    expect(allowed.net.listening()).toEqual([]);
    const again = start(allowed, ["httpd", "80", "1"]);
    await until(isListening(allowed, 80), "a new server on the freed port");
    expect(await hostRequest(allowed, 80, "GET / HTTP/1.1\r\n\r\n")).toContain("path=/\n");
    expect((await again.handle.wait()).exitCode).toBe(0);
  });

  it("keeps each workspace's ports to itself", async () => {
    const a = boot();
    const b = boot();
    const server = start(a, ["httpd", "3000", "1"]);
    await until(isListening(a, 3000), "the server to listen");
    expect((await run(b, ["httpget", "127.0.0.1", "3000", "/"])).exitCode).toBe(ECONNREFUSED);
    expect(() => b.net.connectFromHost(3000)).toThrow(expect.objectContaining({ code: "ECONNREFUSED" }));
    expect(b.net.listening()).toEqual([]);
    // B may bind the same port number: it is a different loopback.
    const other = start(b, ["httpd", "3000", "1"]);
    await until(isListening(b, 3000), "B's server to listen");
    expect(await hostRequest(a, 3000, "GET /a HTTP/1.1\r\n\r\n")).toContain("path=/a\n");
    expect(await hostRequest(b, 3000, "GET /b HTTP/1.1\r\n\r\n")).toContain("path=/b\n");
    await Promise.all([server.handle.wait(), other.handle.wait()]);
  });

  it("a server survives a client that closes without reading the answer", async () => {
    const kernel = boot();
    const server = start(kernel, ["httpd", "3100", "2"]);
    await until(isListening(kernel, 3100), "the server to listen");
    const rude = kernel.net.connectFromHost(3100);
    await rude.write(encoder.encode("GET /gone HTTP/1.1\r\n\r\n"));
    rude.close();
    expect(await hostRequest(kernel, 3100, "GET /next HTTP/1.1\r\n\r\n")).toContain("path=/next\n");
    expect(await server.handle.wait()).toEqual({ exitCode: 0 });
  });
});

describe("killed readers", () => {
  it("a process killed while blocked reading a pipe leaves later data to the next reader", async () => {
    const kernel = boot();
    const [r, w] = kernel.createPipe();
    const first = start(kernel, ["wtest", "cat"], r);
    await new Promise((resolve) => setTimeout(resolve, 50)); // blocked in its read now
    first.handle.kill("SIGKILL");
    await first.handle.wait();
    const second = start(kernel, ["wtest", "cat"], r);
    r.close();
    await w.write(encoder.encode("for the living\n"));
    w.close();
    expect((await second.handle.wait()).exitCode).toBe(0);
    expect(await second.stdout).toBe("for the living\n");
    expect(await first.stdout).toBe("");
  });
});

describe("filesystem policy for guest programs", () => {
  it("refuses denied paths with EACCES, through symlinks too, but not the host's own file calls", async () => {
    const kernel = boot({
      filesystem: {
        rules: [
          { mode: "deny", patterns: ["/home/user/secret/**"] },
          { mode: "deny", operations: ["write"], patterns: ["/etc/**"] },
          { mode: "allow", operations: ["read"], patterns: ["/home/user/secret/public.txt"] },
        ],
      },
    });
    const vfs = kernel.vfs;
    vfs.mkdir("/home/user/secret");
    vfs.writeFile("/home/user/secret/key", "s3cret");
    vfs.writeFile("/home/user/secret/public.txt", "shareable");
    vfs.mkdir("/etc");
    vfs.writeFile("/etc/motd", "hello");
    vfs.symlink("/home/user/secret/key", "/home/user/link");

    const denied = await run(kernel, ["wtest", "cat", "/home/user/secret/key"]);
    expect(denied.exitCode).toBe(1);
    expect(denied.stderr).toContain("Permission denied");
    expect((await run(kernel, ["wtest", "cat", "/home/user/link"])).stderr).toContain("Permission denied");
    expect((await run(kernel, ["wtest", "cat", "/home/user/secret/public.txt"])).stdout).toBe("shareable");
    expect((await run(kernel, ["wtest", "write", "/home/user/secret/new", "x"])).exitCode).toBe(1);
    expect((await run(kernel, ["wtest", "cat", "/etc/motd"])).stdout).toBe("hello");
    const write = await run(kernel, ["wtest", "write", "/etc/motd", "pwned"]);
    expect(write.stderr).toContain("Permission denied");
    expect((await run(kernel, ["wtest", "write", "/home/user/ok", "fine"])).exitCode).toBe(0);
    // The workspace's own (host) file calls are not the guest's: the policy does not apply.
    expect(decoder.decode(vfs.readFile("/home/user/secret/key"))).toBe("s3cret");
    expect(decoder.decode(vfs.readFile("/etc/motd"))).toBe("hello");
    expect(decoder.decode(vfs.readFile("/home/user/ok"))).toBe("fine");
  });
});
