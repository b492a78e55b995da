import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel.js";
import type { ExitStatus, FileHandle, ProcessHandle, SocketHandle } from "../kernel/types.js";
import { NodeWorkerPool } from "./pool.js";
import { createNodeProgram, type NodeProgramOptions } from "./program.js";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

let pool: NodeWorkerPool;

beforeAll(async () => {
  pool = new NodeWorkerPool({ idle: 2 });
  await pool.warm();
});

afterAll(() => pool.close());

function boot(options: NodeProgramOptions = {}): Kernel {
  const kernel = new Kernel({ hostPrograms: { node: createNodeProgram({ pool, ...options }) } });
  kernel.vfs.mkdir("/usr/bin", { recursive: true });
  kernel.vfs.writeFile("/usr/bin/node", "#!enclave-host node\n", { mode: 0o755 });
  kernel.vfs.mkdir("/home/user", { recursive: true });
  return kernel;
}

async function drain(reader: FileHandle): Promise<string> {
  let text = "";
  const buf = new Uint8Array(65536);
  for (;;) {
    const r = reader.read(buf);
    const n = typeof r === "number" ? r : await r;
    if (n <= 0) break;
    text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
  reader.close();
  return text;
}

interface Started {
  handle: ProcessHandle;
  stdin: FileHandle;
  stdout: Promise<string>;
  stderr: Promise<string>;
}

function start(kernel: Kernel, args: string[], env: Record<string, string> = {}): Started {
  const [inR, inW] = kernel.createPipe();
  const [outR, outW] = kernel.createPipe();
  const [errR, errW] = kernel.createPipe();
  const handle = kernel.spawn({
    argv: ["node", ...args],
    env: { PATH: "/usr/bin", HOME: "/home/user", ...env },
    cwd: "/home/user",
    stdio: [inR, outW, errW],
  });
  inR.close();
  outW.close();
  errW.close();
  return { handle, stdin: inW, stdout: drain(outR), stderr: drain(errR) };
}

async function run(
  kernel: Kernel,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ status: ExitStatus; stdout: string; stderr: string }> {
  const p = start(kernel, args, env);
  p.stdin.close();
  const [status, stdout, stderr] = await Promise.all([p.handle.wait(), p.stdout, p.stderr]);
  return { status, stdout, stderr };
}

/** Waits until a guest listens on `port`. */
async function listening(kernel: Kernel, port: number, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!kernel.net.listening().some((l) => l.port === port)) {
    if (Date.now() > until) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Reads from a host-side socket until `done(text)` says the response is complete (or EOF). */
async function readUntil(sock: SocketHandle, done: (text: string) => boolean): Promise<string> {
  let text = "";
  const buf = new Uint8Array(65536);
  while (!done(text)) {
    const r = sock.read(buf);
    const n = typeof r === "number" ? r : await r;
    if (n <= 0) break;
    text += decoder.decode(buf.subarray(0, n));
  }
  return text;
}

async function send(sock: SocketHandle, text: string): Promise<void> {
  const r = sock.write(encoder.encode(text));
  if (typeof r !== "number") await r;
}

/** A complete response: head plus Content-Length bytes, or a chunked body up to its last chunk. */
function complete(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  if (end === -1) return false;
  const head = text.slice(0, end);
  const body = text.slice(end + 4);
  const length = /content-length: (\d+)/i.exec(head);
  if (length) return encoder.encode(body).length >= Number(length[1]);
  if (/transfer-encoding: chunked/i.test(head)) return body.endsWith("0\r\n\r\n");
  return false;
}

const EXAMPLE_SERVER = `const http = require("http");
http.createServer((req, res) => { res.writeHead(200, { "Content-Type": "text/plain" });
  res.end("Hello from inside the VM"); }).listen(3000, () => console.log("listening on http://127.0.0.1:3000"));`;

describe("node: programs", () => {
  it("runs -e code and prints with console.log", async () => {
    const kernel = boot();
    const r = await run(kernel, [
      "-e",
      "console.log('sum', 1 + 2, { a: [1, 'x'] }); console.error('warn %d', 7)",
    ]);
    expect(r.status.exitCode).toBe(0);
    expect(r.stdout).toBe("sum 3 { a: [ 1, 'x' ] }\n");
    expect(r.stderr).toBe("warn 7\n");
  });

  it("passes argv and the process env (never the host's), and exits with process.exit codes", async () => {
    const kernel = boot();
    kernel.vfs.writeFile(
      "/home/user/args.js",
      "console.log(JSON.stringify({ argv: process.argv.slice(1), foo: process.env.FOO, home: process.env.HOME, " +
        "hostPath: process.env.PWD_HOST_CHECK, cwd: process.cwd() })); process.exitCode = 4;",
    );
    const r = await run(kernel, ["args.js", "a", "b c"], { FOO: "bar" });
    expect(JSON.parse(r.stdout)).toEqual({
      argv: ["/home/user/args.js", "a", "b c"],
      foo: "bar",
      home: "/home/user",
      cwd: "/home/user",
    });
    expect(r.status.exitCode).toBe(4);
    expect((await run(kernel, ["-e", "process.exit(7); console.log('never')"])).status.exitCode).toBe(7);
    expect(process.env.FOO).toBeUndefined();
  });

  it("prints uncaught exceptions with a stack and exits 1; syntax errors too", async () => {
    const kernel = boot();
    kernel.vfs.writeFile("/home/user/boom.js", "function f() {\n  throw new Error('boom');\n}\nf();\n");
    const r = await run(kernel, ["boom.js"]);
    expect(r.status.exitCode).toBe(1);
    expect(r.stderr).toContain("/home/user/boom.js:2");
    expect(r.stderr).toContain("Error: boom");
    expect(r.stderr).toMatch(/at f \(\/home\/user\/boom\.js:2/);
    kernel.vfs.writeFile("/home/user/bad.js", "const x = ;\n");
    const s = await run(kernel, ["bad.js"]);
    expect(s.status.exitCode).toBe(1);
    expect(s.stderr).toContain("SyntaxError");
    const missing = await run(kernel, ["nope.js"]);
    expect(missing.status.exitCode).toBe(1);
    expect(missing.stderr).toContain("Cannot find module '/home/user/nope.js'");
  });

  it("resolves require: relative files, index.js, node_modules with package.json main, JSON, builtins", async () => {
    const kernel = boot();
    const vfs = kernel.vfs;
    vfs.mkdir("/home/user/app/lib", { recursive: true });
    vfs.mkdir("/home/user/node_modules/left-pad", { recursive: true });
    vfs.mkdir("/home/user/node_modules/with-main/dist", { recursive: true });
    vfs.writeFile("/home/user/app/lib/index.js", "module.exports = { twice: (x) => x * 2 };");
    vfs.writeFile("/home/user/app/util.js", "exports.name = 'util:' + require('path').basename(__filename);");
    vfs.writeFile("/home/user/app/data.json", '{ "n": 5 }');
    vfs.writeFile(
      "/home/user/node_modules/left-pad/index.js",
      "module.exports = (s, n) => String(s).padStart(n, '0');",
    );
    vfs.writeFile(
      "/home/user/node_modules/with-main/package.json",
      '{ "name": "with-main", "main": "dist/main.js" }',
    );
    vfs.writeFile("/home/user/node_modules/with-main/dist/main.js", "module.exports = 'main:' + __dirname;");
    vfs.writeFile(
      "/home/user/app/main.js",
      [
        "const lib = require('./lib');",
        "const util = require('./util');",
        "const pad = require('left-pad');",
        "const wm = require('with-main');",
        "const data = require('./data.json');",
        "const same = require('./lib/index.js') === lib;",
        "console.log([lib.twice(21), util.name, pad(7, 3), wm, data.n, same, typeof require('node:events')].join(' '));",
      ].join("\n"),
    );
    const r = await run(kernel, ["app/main.js"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      "42 util:util.js 007 main:/home/user/node_modules/with-main/dist 5 true function\n",
    );
  });

  it("writes files the host sees, and reads files the host wrote", async () => {
    const kernel = boot();
    kernel.vfs.writeFile("/home/user/in.txt", "from the host");
    const r = await run(kernel, [
      "-e",
      `const fs = require('fs');
       fs.mkdirSync('/home/user/out/deep', { recursive: true });
       fs.writeFileSync('/home/user/out/deep/a.txt', fs.readFileSync('in.txt', 'utf8').toUpperCase());
       fs.appendFileSync('/home/user/out/deep/a.txt', '!');
       console.log(fs.existsSync('/home/user/out/deep/a.txt'), fs.statSync('/home/user/out/deep/a.txt').size,
         fs.readdirSync('/home/user/out'));
       try { fs.readFileSync('/nope') } catch (e) { console.log(e.code, e.syscall) }`,
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("true 14 [ 'deep' ]\nENOENT open\n");
    expect(decoder.decode(kernel.vfs.readFile("/home/user/out/deep/a.txt"))).toBe("FROM THE HOST!");
  });

  it("reads stdin as data/end events", async () => {
    const kernel = boot();
    const p = start(kernel, [
      "-e",
      "let s = ''; process.stdin.on('data', (d) => (s += d)); process.stdin.on('end', () => console.log(s.length, s.trim().toUpperCase()))",
    ]);
    await send(p.stdin as SocketHandle, "hello ");
    await send(p.stdin as SocketHandle, "world\n");
    p.stdin.close();
    expect(await p.stdout).toBe("12 HELLO WORLD\n");
    expect((await p.handle.wait()).exitCode).toBe(0);
  });

  it("runs timers in order and exits when the event loop is empty", async () => {
    const kernel = boot();
    const r = await run(kernel, [
      "-e",
      `const out = [];
       setTimeout(() => out.push('t20'), 20);
       setTimeout(() => out.push('t5'), 5);
       const i = setInterval(() => { out.push('i'); if (out.filter((x) => x === 'i').length === 3) clearInterval(i); }, 2);
       setImmediate(() => out.push('imm'));
       process.nextTick(() => out.push('tick'));
       Promise.resolve().then(() => out.push('promise'));
       setTimeout(() => {}, 100000).unref();
       process.on('exit', (code) => console.log(out.slice(0, 3).join(','), out.includes('t20'), code));`,
    ]);
    expect(r.stdout).toBe("tick,promise,imm true 0\n");
    expect(r.status.exitCode).toBe(0);
  });

  it("hashes with crypto.createHash and handles Buffer encodings", async () => {
    const kernel = boot();
    const r = await run(kernel, [
      "-e",
      `const c = require('crypto');
       console.log(c.createHash('sha256').update('abc').digest('hex'));
       console.log(c.createHash('sha1').update(Buffer.from('abc')).digest('base64'));
       console.log(c.createHash('md5').update('a').update('bc').digest('hex'));
       console.log(c.createHmac('sha256', 'key').update('msg').digest('hex').length);
       const b = Buffer.from('héllo wörld');
       console.log(b.length, b.toString('hex').slice(0, 6), Buffer.from(b.toString('base64'), 'base64').equals(b),
         Buffer.concat([b.subarray(0, 3), Buffer.alloc(2, 'z')]).toString('utf8'), Buffer.byteLength('€'));`,
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n")).toEqual([
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=",
      "900150983cd24fb0d6963f7d28e17f72",
      "64",
      "13 68c3a9 true h\u00e9zz 3",
      "",
    ]);
  });
});

describe("node: limits and signals", () => {
  it("kills an infinite loop at the CPU limit (SIGXCPU, 152) while the main thread keeps running", async () => {
    const kernel = boot({ cpuTimeLimitMs: 300 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = Date.now();
    const r = await run(kernel, ["-e", "for (;;) {}"]);
    clearInterval(timer);
    expect(r.status).toEqual({ exitCode: 152, signal: "SIGXCPU" });
    expect(r.stderr).toContain("CPU time limit");
    expect(Date.now() - started).toBeLessThan(3000);
    // The main thread was free the whole time: its timer fired about every 10 ms.
    expect(ticks).toBeGreaterThan(10);
  });

  it("ends a memory hog with an error at the Wasm memory cap, not an engine crash", async () => {
    const capped = new NodeWorkerPool({ idle: 0, maxWasmMemoryBytes: 48 * 1024 * 1024 });
    try {
      const kernel = boot({ pool: capped });
      const r = await run(kernel, ["-e", "const a = []; for (;;) a.push('x'.repeat(1e6))"]);
      expect([1, 134]).toContain(r.status.exitCode);
      expect(r.stderr).toMatch(/out of memory/i);
      // The engine is fine: the next process runs.
      const ok = await run(boot(), ["-e", "console.log('still alive')"]);
      expect(ok.stdout).toBe("still alive\n");
    } finally {
      capped.close();
    }
  });

  it("SIGKILL ends a busy process at once", async () => {
    const kernel = boot();
    const p = start(kernel, ["-e", "for (;;) {}"]);
    await new Promise((r) => setTimeout(r, 50));
    const killedAt = Date.now();
    p.handle.kill("SIGKILL");
    const status = await p.handle.wait();
    expect(status).toEqual({ exitCode: 137, signal: "SIGKILL" });
    expect(Date.now() - killedAt).toBeLessThan(500);
    p.stdin.close();
  });

  it("SIGTERM runs a guest handler, and ends a guest without one", async () => {
    const kernel = boot();
    const p = start(kernel, [
      "-e",
      "process.on('SIGTERM', () => { console.log('bye'); process.exit(0); }); setInterval(() => {}, 1000); " +
        "console.log('ready'); require('fs').writeFileSync('/tmp/ready', '')",
    ]);
    const reader = p.stdout;
    while (!kernel.vfs.exists("/tmp/ready")) await new Promise((r) => setTimeout(r, 5));
    p.handle.kill("SIGTERM");
    expect((await p.handle.wait()).signal).toBe("SIGTERM");
    expect(await reader).toBe("ready\nbye\n");
    p.stdin.close();
  });
});

describe("node: http servers through the kernel's sockets", () => {
  it("serves the example server to connectFromHost with raw HTTP/1.1", async () => {
    const kernel = boot();
    kernel.vfs.writeFile("/home/user/server.js", EXAMPLE_SERVER);
    const p = start(kernel, ["/home/user/server.js"]);
    await listening(kernel, 3000);
    const sock = kernel.net.connectFromHost(3000);
    await send(sock, "GET / HTTP/1.1\r\nHost: localhost:3000\r\nConnection: close\r\n\r\n");
    const response = await readUntil(sock, () => false);
    sock.close();
    expect(response).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(response).toMatch(/\r\nContent-Type: text\/plain\r\n/);
    expect(response).toMatch(/\r\nContent-Length: 24\r\n/);
    expect(response).toMatch(/\r\nConnection: close\r\n/);
    expect(response.endsWith("\r\n\r\nHello from inside the VM")).toBe(true);
    p.handle.kill("SIGKILL");
    await p.handle.wait();
    expect(await p.stdout).toBe("listening on http://127.0.0.1:3000\n");
    expect(kernel.net.listening()).toEqual([]);
  });

  it("echoes POST bodies (Content-Length and chunked), streams chunked responses, keeps connections alive", async () => {
    const kernel = boot();
    kernel.vfs.writeFile(
      "/home/user/echo.js",
      `const http = require('http');
       http.createServer((req, res) => {
         if (req.url === '/stream') {
           res.setHeader('Content-Type', 'text/plain');
           res.write('one,');
           setTimeout(() => { res.write('two,'); res.end('three'); }, 5);
           return;
         }
         const chunks = [];
         req.on('data', (c) => chunks.push(c));
         req.on('end', () => {
           const body = Buffer.concat(chunks).toString();
           res.writeHead(201, { 'X-Method': req.method, 'X-Url': req.url, 'X-Len': String(body.length) });
           res.end('echo:' + body);
         });
       }).listen(8080);`,
    );
    const p = start(kernel, ["/home/user/echo.js"]);
    await listening(kernel, 8080);
    const sock = kernel.net.connectFromHost(8080);

    await send(sock, "POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world");
    const first = await readUntil(sock, complete);
    expect(first).toMatch(/^HTTP\/1\.1 201 Created\r\n/);
    expect(first).toContain("X-Method: POST\r\n");
    expect(first).toContain("X-Url: /a?b=1\r\n");
    expect(first).toContain("Connection: keep-alive\r\n");
    expect(first.endsWith("\r\n\r\necho:hello world")).toBe(true);

    // Same connection: a chunked request body.
    await send(
      sock,
      "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n3\r\nfgh\r\n0\r\n\r\n",
    );
    const second = await readUntil(sock, complete);
    expect(second).toMatch(/^HTTP\/1\.1 201 Created\r\n/);
    expect(second).toContain("X-Len: 8\r\n");
    expect(second.endsWith("echo:abcdefgh")).toBe(true);

    // Same connection again: a chunked response.
    await send(sock, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    const third = await readUntil(sock, complete);
    expect(third).toContain("Transfer-Encoding: chunked\r\n");
    const body = third.slice(third.indexOf("\r\n\r\n") + 4);
    expect(body).toBe("4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n");
    sock.close();

    // Two pipelined requests in one write are answered in order.
    const sock2 = kernel.net.connectFromHost(8080);
    await send(
      sock2,
      "POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nAPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nB",
    );
    const both = await readUntil(sock2, () => false);
    sock2.close();
    expect(both.indexOf("echo:A")).toBeGreaterThan(0);
    expect(both.indexOf("echo:B")).toBeGreaterThan(both.indexOf("echo:A"));

    p.handle.kill("SIGKILL");
    await p.handle.wait();
  });

  it("answers malformed requests with 400 and keeps serving others", async () => {
    const kernel = boot();
    kernel.vfs.writeFile("/home/user/server.js", EXAMPLE_SERVER);
    const p = start(kernel, ["/home/user/server.js"]);
    await listening(kernel, 3000);
    const bad = kernel.net.connectFromHost(3000);
    await send(bad, "NOT HTTP AT ALL\r\n\r\n");
    expect(await readUntil(bad, () => false)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    bad.close();
    const good = kernel.net.connectFromHost(3000);
    await send(good, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(await readUntil(good, complete)).toMatch(/Hello from inside the VM$/);
    good.close();
    p.handle.kill("SIGKILL");
    await p.handle.wait();
  });

  it("http.request reaches a server in the same process, and net sockets echo", async () => {
    const kernel = boot();
    const r = await run(kernel, [
      "-e",
      `const http = require('http'); const net = require('net');
       const server = http.createServer((req, res) => {
         let body = ''; req.setEncoding('utf8'); req.on('data', (d) => body += d);
         req.on('end', () => res.end(JSON.stringify({ method: req.method, body, host: req.headers.host })));
       }).listen(4000, () => {
         const req = http.request({ port: 4000, method: 'POST', path: '/x', headers: { 'Content-Type': 'text/plain' } }, (res) => {
           let text = ''; res.on('data', (d) => text += d);
           res.on('end', () => {
             console.log(res.statusCode, text);
             server.close();
             const echo = net.createServer((s) => s.pipe(s)).listen(4001, () => {
               const c = net.connect(4001, '127.0.0.1', () => c.end('ping'));
               let got = ''; c.on('data', (d) => got += d); c.on('close', () => { console.log('net', got); echo.close(); });
             });
           });
         });
         req.write('abc'); req.end('def');
       });`,
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe('200 {"method":"POST","body":"abcdef","host":"localhost:4000"}\nnet ping\n');
    expect(r.status.exitCode).toBe(0);
  });
});
