import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kernel } from "../kernel/kernel.js";
import { createSoftwareMount } from "../kernel/software-mount.js";
import type { ExitStatus, FileHandle, ProcessHandle } from "../kernel/types.js";
import { WasiExecutor, type WasiExecutorOptions } from "./executor.js";
import { WorkerPool } from "./pool.js";
import { testProgram } from "./testing/test-program.js";
import { wasmApi } from "./wasm-api.js";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

let pool: WorkerPool;
let program: Uint8Array;

beforeAll(async () => {
  program = testProgram();
  pool = new WorkerPool({ idle: 2 });
  await pool.warm();
});

afterAll(() => pool.close());

/** A kernel with the test program at /opt/bin/wtest (a read-only mount, as software is). */
function boot(
  options: Partial<WasiExecutorOptions> = {},
  precompiled?: { data: Uint8Array; module: WebAssembly.Module },
): Kernel {
  const data = precompiled?.data ?? program;
  const software = createSoftwareMount([{ path: "bin/wtest", data, mode: 0o755 }]);
  // The executor needs the kernel and the kernel its executor: hand over a getter.
  const ref: { kernel?: Kernel } = {};
  const executor = new WasiExecutor({ kernel: () => ref.kernel!, pool, ...options });
  ref.kernel = new Kernel({
    executors: { wasm: executor },
    mounts: [{ path: "/opt", mount: software }],
    ...(precompiled === undefined ? {} : { compileModule: () => precompiled.module }),
  });
  ref.kernel.vfs.mkdir("/home/user", { recursive: true });
  return ref.kernel;
}

/** Collects everything written to a pipe's read end until EOF. */
async function drain(reader: FileHandle): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await reader.read(buf);
    if (n === 0) break;
    chunks.push(buf.slice(0, n));
  }
  reader.close();
  return chunks.map((c) => decoder.decode(c)).join("");
}

interface Started {
  handle: ProcessHandle;
  stdin: FileHandle;
  stdout: Promise<string>;
  stderr: Promise<string>;
}

function start(
  kernel: Kernel,
  args: string[],
  cwd = "/home/user",
  env: Record<string, string> = {},
): Started {
  const [inR, inW] = kernel.createPipe();
  const [outR, outW] = kernel.createPipe();
  const [errR, errW] = kernel.createPipe();
  const handle = kernel.spawn({
    argv: ["/opt/bin/wtest", ...args],
    env: { PATH: "/opt/bin", ...env },
    cwd,
    stdio: [inR, outW, errW],
  });
  // The process holds its own references now.
  inR.close();
  outW.close();
  errW.close();
  return { handle, stdin: inW, stdout: drain(outR), stderr: drain(errR) };
}

async function run(
  kernel: Kernel,
  args: string[],
  options: { stdin?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<ExitStatus & { stdout: string; stderr: string }> {
  const p = start(kernel, args, options.cwd, options.env);
  if (options.stdin !== undefined) {
    // Pipe writes may be short: keep going until all of it is in.
    let rest = encoder.encode(options.stdin);
    while (rest.length > 0) rest = rest.subarray(await p.stdin.write(rest));
  }
  p.stdin.close();
  const status = await p.handle.wait();
  return { ...status, stdout: await p.stdout, stderr: await p.stderr };
}

describe("WasiExecutor", () => {
  it("runs a program: argv, stdout, exit code 0", async () => {
    const kernel = boot();
    const r = await run(kernel, ["echo", "hello", "wasi world"]);
    expect(r).toMatchObject({ exitCode: 0, stdout: "hello wasi world\n", stderr: "" });
    expect(r.signal).toBeUndefined();
  });

  it("reports the program's exit code and its stderr", async () => {
    const kernel = boot();
    expect((await run(kernel, ["exit", "42"])).exitCode).toBe(42);
    const r = await run(kernel, ["stderr", "oops"]);
    expect(r).toMatchObject({ exitCode: 0, stdout: "", stderr: "oops\n" });
  });

  it("passes the environment", async () => {
    const kernel = boot();
    const r = await run(kernel, ["env", "GREETING"], { env: { GREETING: "hi there" } });
    expect(r.stdout).toBe("hi there\n");
  });

  it("reads stdin from a pipe, blocking until data or EOF arrives", async () => {
    const kernel = boot();
    const p = start(kernel, ["cat"]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await p.stdin.write(encoder.encode("first\n"));
    await new Promise((resolve) => setTimeout(resolve, 30));
    await p.stdin.write(encoder.encode("second\n"));
    p.stdin.close();
    expect(await p.handle.wait()).toEqual({ exitCode: 0 });
    expect(await p.stdout).toBe("first\nsecond\n");
  });

  it("copies more than one shared-buffer load through a pipe", async () => {
    const kernel = boot();
    const big = "0123456789abcdef".repeat(64 * 1024); // 1 MiB
    const r = await run(kernel, ["cat"], { stdin: big });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.length).toBe(big.length);
    expect(r.stdout === big).toBe(true);
  });

  it("runs in the process's cwd: pwd and relative paths", async () => {
    const kernel = boot();
    kernel.vfs.mkdir("/home/user/project");
    kernel.vfs.writeFile("/home/user/project/notes.txt", "relative ok\n");
    expect((await run(kernel, ["pwd"], { cwd: "/home/user/project" })).stdout).toBe("/home/user/project\n");
    const r = await run(kernel, ["cat", "notes.txt"], { cwd: "/home/user/project" });
    expect(r).toMatchObject({ exitCode: 0, stdout: "relative ok\n" });
    const missing = await run(kernel, ["cat", "nope.txt"], { cwd: "/home/user/project" });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("No such file or directory");
  });

  it("writes files into the live kernel filesystem", async () => {
    const kernel = boot();
    const r = await run(kernel, ["write", "/home/user/out.txt", "from wasm"]);
    expect(r.exitCode).toBe(0);
    expect(decoder.decode(kernel.vfs.readFile("/home/user/out.txt"))).toBe("from wasm");
    await run(kernel, ["write", "/home/user/out.txt", " and more", "a"]);
    expect(decoder.decode(kernel.vfs.readFile("/home/user/out.txt"))).toBe("from wasm and more");
  });

  it("a file written by one process is seen by another running one", async () => {
    const kernel = boot();
    const waiter = start(kernel, ["waitfile", "/tmp/signal"]);
    waiter.stdin.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(waiter.handle.info().status).toBe("running");
    expect((await run(kernel, ["write", "/tmp/signal", "shared live"])).exitCode).toBe(0);
    expect(await waiter.handle.wait()).toEqual({ exitCode: 0 });
    expect(await waiter.stdout).toBe("shared live");
  });

  it("keeps file offsets in the kernel (write, seek, read, tell)", async () => {
    const kernel = boot();
    const r = await run(kernel, ["seek", "/tmp/seek.txt"]);
    expect(r.stdout).toBe("tell=11\nread=11 Jello world\nend=6\n");
  });

  it("stat, lstat, readdir, mkdir, symlink, rename, unlink, rmdir", async () => {
    const kernel = boot();
    kernel.vfs.mkdir("/home/user/dir");
    kernel.vfs.writeFile("/home/user/dir/a.txt", "12345");
    kernel.vfs.mkdir("/home/user/dir/sub");
    kernel.vfs.symlink("missing-target", "/home/user/dir/dangling");
    expect((await run(kernel, ["stat", "/home/user/dir/a.txt"])).stdout).toBe("file 5\n");
    expect((await run(kernel, ["stat", "/home/user/dir/dangling", "nofollow"])).stdout).toMatch(/^link /);
    const ls = await run(kernel, ["ls", "dir"]);
    expect(ls.exitCode).toBe(0);
    expect(ls.stdout.split("\n").filter(Boolean).sort()).toEqual(["a.txt", "dangling@", "sub/"]);
    const ops = await run(kernel, ["fsops", "/home/user"]);
    expect(ops).toMatchObject({ exitCode: 0, stdout: "readlink=f\nok\n" });
    expect(kernel.vfs.exists("/home/user/d")).toBe(false);
  });

  it("renumbers an fd onto a free number (what dup2 is built on)", async () => {
    const kernel = boot();
    const r = await run(kernel, ["renumber", "/tmp/moved.txt"]);
    expect(r).toMatchObject({ exitCode: 0, stdout: "old fd Bad file descriptor\n" });
    expect(decoder.decode(kernel.vfs.readFile("/tmp/moved.txt"))).toBe("moved");
  });

  it("lists a directory larger than one shared-buffer answer", async () => {
    const kernel = boot();
    kernel.vfs.mkdir("/tmp/big");
    const names = Array.from(
      { length: 3000 },
      (_, i) => `file-with-a-long-name-${String(i).padStart(5, "0")}-${"x".repeat(80)}`,
    );
    for (const name of names) kernel.vfs.writeFile(`/tmp/big/${name}`, "");
    const r = await run(kernel, ["ls", "/tmp/big"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split("\n").filter(Boolean).sort()).toEqual(names);
  });

  it("tells terminals from pipes (isatty)", async () => {
    const kernel = boot();
    expect((await run(kernel, ["isatty"])).stdout).toBe("0 0\n");
  });

  it("sleeps without spinning and without holding the main thread", async () => {
    const kernel = boot();
    const t0 = Date.now();
    const p = start(kernel, ["sleep", "150"]);
    p.stdin.close();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    expect(await p.handle.wait()).toEqual({ exitCode: 0 });
    clearInterval(timer);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(ticks).toBeGreaterThan(5);
  });

  it("a CPU-bound loop does not stall the main thread, and SIGKILL ends it (exit 137)", async () => {
    const kernel = boot();
    const p = start(kernel, ["spin"]);
    p.stdin.close();
    const fired = await new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 50));
    expect(fired).toBe(true);
    expect(p.handle.info().status).toBe("running");
    p.handle.kill("SIGKILL");
    expect(await p.handle.wait()).toEqual({ exitCode: 137, signal: "SIGKILL" });
    // The pool replaced the killed worker: the next program runs normally.
    expect((await run(kernel, ["echo", "after"])).stdout).toBe("after\n");
  });

  it("kills a program blocked reading an empty pipe", async () => {
    const kernel = boot();
    const p = start(kernel, ["cat"]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    p.handle.kill("SIGINT");
    expect(await p.handle.wait()).toEqual({ exitCode: 130, signal: "SIGINT" });
    p.stdin.close();
    expect(await p.stdout).toBe("");
    expect((await run(kernel, ["echo", "next"])).stdout).toBe("next\n");
  });

  it("kills a program waiting for its child; the child runs on", async () => {
    const kernel = boot();
    kernel.vfs.mkdir("/bin", { recursive: true });
    kernel.vfs.symlink("/opt/bin/wtest", "/bin/wtest");
    const p = start(kernel, ["spawn", "wtest", "waitfile", "/tmp/go"]);
    p.stdin.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const child = kernel.processes().find((info) => info.argv[1] === "waitfile");
    expect(child?.status).toBe("running");
    p.handle.kill("SIGKILL");
    expect(await p.handle.wait()).toEqual({ exitCode: 137, signal: "SIGKILL" });
    kernel.vfs.writeFile("/tmp/go", "go");
    expect(await kernel.process(child!.pid)!.wait()).toEqual({ exitCode: 0 });
  });

  it("a worker that dies ends its process with 134 and the engine carries on", async () => {
    // A 1 MiB heap cannot hold the worker: it dies under the job.
    const tiny = new WorkerPool({
      idle: 1,
      resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 },
    });
    try {
      const ref: { kernel?: Kernel } = {};
      const software = createSoftwareMount([{ path: "bin/wtest", data: program, mode: 0o755 }]);
      const executor = new WasiExecutor({ kernel: () => ref.kernel!, pool: tiny });
      ref.kernel = new Kernel({ executors: { wasm: executor }, mounts: [{ path: "/opt", mount: software }] });
      const r = await run(ref.kernel, ["echo", "x".repeat(100_000)]);
      expect(r.exitCode).toBe(134);
      expect(r.stderr).toMatch(/^wasm: worker failed: /);
    } finally {
      tiny.close();
    }
    expect((await run(boot(), ["echo", "fine"])).stdout).toBe("fine\n");
  });

  it("SIGTERM ends a program at once with 143", async () => {
    const kernel = boot();
    const p = start(kernel, ["sleep", "10000"]);
    p.stdin.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const t0 = Date.now();
    p.handle.kill("SIGTERM");
    expect(await p.handle.wait()).toEqual({ exitCode: 143, signal: "SIGTERM" });
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it("kills a program over its CPU-time limit with SIGXCPU (exit 152)", async () => {
    const kernel = boot({ cpuTimeLimitMs: 100 });
    const t0 = Date.now();
    const r = await run(kernel, ["spin"]);
    expect(r).toMatchObject({ exitCode: 152, signal: "SIGXCPU" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    // Sleeping is not CPU time.
    expect((await run(kernel, ["sleep", "200"])).exitCode).toBe(0);
  });

  it("turns traps into exit 134 with a message, and the engine carries on", async () => {
    const kernel = boot();
    const trap = await run(kernel, ["trap"]);
    expect(trap.exitCode).toBe(134);
    expect(trap.stderr).toBe("wasm trap: unreachable\n");
    const oob = await run(kernel, ["oob"]);
    expect(oob.exitCode).toBe(134);
    expect(oob.stderr).toMatch(/^wasm trap: memory access out of bounds/);
    const deep = await run(kernel, ["recurse"]);
    expect(deep.exitCode).toBe(134);
    expect(deep.stderr).toMatch(/^wasm trap: /);
    expect((await run(kernel, ["echo", "still fine"])).stdout).toBe("still fine\n");
  });

  it("caps linear memory: malloc fails past maxWasmMemoryBytes", async () => {
    const capped = boot({ maxWasmMemoryBytes: 16 * 1024 * 1024 });
    const r = await run(capped, ["alloc", "64"]);
    expect(r.exitCode).toBe(3);
    const got = Number(r.stdout.trim());
    expect(got).toBeGreaterThan(4);
    expect(got).toBeLessThan(16);
    const free = boot();
    expect(await run(free, ["alloc", "64"])).toMatchObject({ exitCode: 0, stdout: "64\n" });
  });

  it("kills a precompiled program whose memory grows past the cap (exit 137)", async () => {
    // A module compiled by someone else cannot get the cap written in: the runtime checks it.
    // The kernel caches what compileModule gives per buffer: use a buffer of this test's own.
    const data = program.slice();
    const kernel = boot(
      { maxWasmMemoryBytes: 16 * 1024 * 1024 },
      { data, module: await wasmApi.compile(data) },
    );
    const r = await run(kernel, ["alloc", "64"]);
    expect(r).toMatchObject({ exitCode: 137, signal: "SIGKILL", stdout: "" });
    expect(r.stderr).toBe("wasm: memory limit exceeded\n");
  });

  it("refuses a program whose initial memory is above the cap", async () => {
    const kernel = boot({ maxWasmMemoryBytes: 64 * 1024 });
    const r = await run(kernel, ["echo", "x"]);
    expect(r.exitCode).toBe(126);
    expect(r.stderr).toContain("the limit is 65536");
  });

  it("proc_spawn runs a child with the caller's stdio and returns its exit status", async () => {
    const kernel = boot();
    kernel.vfs.mkdir("/bin", { recursive: true });
    kernel.vfs.symlink("/opt/bin/wtest", "/bin/wtest");
    const r = await run(kernel, ["spawn", "wtest", "echo", "from child"]);
    expect(r).toMatchObject({ exitCode: 0, stdout: "from child\nspawn errno=0 exit=0\n" });
    const env = await run(kernel, ["spawn", "wtest", "env", "CHILD"]);
    expect(env.stdout).toBe("1\nspawn errno=0 exit=0\n");
    const code = await run(kernel, ["spawn", "wtest", "exit", "7"]);
    expect(code.stdout).toBe("spawn errno=0 exit=7\n");
    const missing = await run(kernel, ["spawn", "no-such-command"]);
    expect(missing.stdout).toBe("spawn errno=44 exit=-1\n");
  });

  it("proc_spawn_io, fd_pipe and proc_wait give popen-style children", async () => {
    const kernel = boot();
    kernel.vfs.mkdir("/bin", { recursive: true });
    kernel.vfs.symlink("/opt/bin/wtest", "/bin/wtest");
    const r = await run(kernel, ["popen", "wtest", "echo", "through a pipe"]);
    expect(r).toMatchObject({ exitCode: 0, stdout: "child said: through a pipe\nchild exit=0\n" });
  });

  it("runs many processes at once", async () => {
    const kernel = boot();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => run(kernel, ["echo", `n${i}`])));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 12 }, (_, i) => `n${i}\n`));
  });

  it("a writer whose reader went away dies of SIGPIPE", async () => {
    const kernel = boot();
    const [outR, outW] = kernel.createPipe();
    const [errR, errW] = kernel.createPipe();
    outR.close();
    const handle = kernel.spawn({
      argv: ["/opt/bin/wtest", "echo", "nobody listens"],
      env: {},
      cwd: "/",
      stdio: [kernel.nullHandle(), outW, errW],
    });
    outW.close();
    errW.close();
    expect(await handle.wait()).toEqual({ exitCode: 141, signal: "SIGPIPE" });
    await drain(errR);
  });
});
