import { describe, expect, it } from "vitest";
import { KernelError } from "./errno.js";
import { MemoryMount } from "./inode.js";
import { Kernel } from "./kernel.js";
import { createSoftwareMount } from "./software-mount.js";
import type { Executor, FileHandle, HostProgram, KernelProcess, Program } from "./types.js";

const enc = new TextEncoder();
// The project's TypeScript lib has WebAssembly types but not the runtime constructors.
const { Module } = (
  globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => WebAssembly.Module } }
).WebAssembly;
const dec = new TextDecoder();

async function drain(handle: FileHandle): Promise<string> {
  const buf = new Uint8Array(4096);
  let out = "";
  for (;;) {
    const n = await handle.read(buf);
    if (n === 0) return out;
    out += dec.decode(buf.subarray(0, n));
  }
}

/** Host programs of the test: real TypeScript functions using the process's fds. */
const programs: Record<string, HostProgram> = {
  echo: async (proc) => {
    await proc.fds.get(1).write(enc.encode(proc.argv.slice(1).join(" ") + "\n"));
    return 0;
  },
  upper: async (proc) => {
    const text = await drain(proc.fds.get(0));
    await proc.fds.get(1).write(enc.encode(text.toUpperCase()));
    return 0;
  },
  args: async (proc) => {
    await proc.fds.get(1).write(enc.encode(JSON.stringify(proc.argv)));
    return 3;
  },
  sleep: (proc) =>
    new Promise((resolve) => proc.signal.addEventListener("abort", () => resolve(0), { once: true })),
  stubborn: () => new Promise(() => {}),
  spawner: async (proc) => {
    const child = proc.spawn({
      argv: ["echo", "from", "child"],
      env: proc.env,
      cwd: proc.cwd,
      stdio: [proc.fds.get(0), proc.fds.get(1), proc.fds.get(2)],
    });
    return (await child.wait()).exitCode + 10;
  },
};

function boot(options: { maxProcesses?: number; wasm?: Executor; killGraceMs?: number } = {}) {
  const software = createSoftwareMount([
    { path: "bin/echo", data: enc.encode("#!enclave-host echo\n") },
    { path: "bin/upper", data: enc.encode("#!enclave-host upper\n") },
    { path: "bin/args", data: enc.encode("#!enclave-host args\n") },
    { path: "bin/sleep", data: enc.encode("#!enclave-host sleep\n") },
    { path: "bin/stubborn", data: enc.encode("#!enclave-host stubborn\n") },
    { path: "bin/spawner", data: enc.encode("#!enclave-host spawner\n") },
    { path: "bin/prog.wasm", data: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]) },
    { path: "bin/prog", linkTo: "bin/prog.wasm" },
  ]);
  return new Kernel({
    mounts: [
      { path: "/usr", mount: software },
      { path: "/home/user", mount: new MemoryMount() },
    ],
    limits: { maxProcesses: options.maxProcesses },
    executors: options.wasm ? { wasm: options.wasm } : {},
    hostPrograms: programs,
    killGraceMs: options.killGraceMs,
  });
}

const env = { PATH: "/usr/bin" };

function run(kernel: Kernel, argv: string[], stdin?: string) {
  const [inR, inW] = kernel.createPipe();
  const [outR, outW] = kernel.createPipe();
  if (stdin !== undefined) inW.write(enc.encode(stdin));
  inW.close();
  const proc = kernel.spawn({ argv, env, cwd: "/home/user", stdio: [inR, outW, kernel.nullHandle()] });
  inR.close();
  outW.close();
  return { proc, output: drain(outR) };
}

describe("kernel processes", () => {
  it("runs host programs resolved through PATH with pids from 1", async () => {
    const kernel = boot();
    const { proc, output } = run(kernel, ["echo", "hi", "there"]);
    expect(proc.pid).toBe(1);
    expect(await proc.wait()).toEqual({ exitCode: 0 });
    expect(await output).toBe("hi there\n");
    expect(kernel.processes()[0]).toMatchObject({
      pid: 1,
      status: "exited",
      exitCode: 0,
      argv: ["echo", "hi", "there"],
    });
  });

  it("joins processes with kernel pipes", async () => {
    const kernel = boot();
    const [r, w] = kernel.createPipe();
    const [outR, outW] = kernel.createPipe();
    const a = kernel.spawn({ argv: ["echo", "hello"], env, cwd: "/", stdio: [kernel.nullHandle(), w, w] });
    const b = kernel.spawn({ argv: ["upper"], env, cwd: "/", stdio: [r, outW, outW] });
    r.close();
    w.close();
    outW.close();
    expect(await drain(outR)).toBe("HELLO\n");
    expect((await a.wait()).exitCode).toBe(0);
    expect((await b.wait()).exitCode).toBe(0);
  });

  it("runs #! scripts with the interpreter and the script path", async () => {
    const kernel = boot();
    kernel.vfs.writeFile("/home/user/script", "#!/usr/bin/args -x\necho hi\n", { mode: 0o755 });
    const { proc, output } = run(kernel, ["./script", "a", "b"]);
    expect((await proc.wait()).exitCode).toBe(3);
    expect(JSON.parse(await output)).toEqual(["/usr/bin/args", "-x", "/home/user/script", "a", "b"]);
  });

  it("lets a process spawn children with itself as parent", async () => {
    const kernel = boot();
    const { proc, output } = run(kernel, ["spawner"]);
    expect((await proc.wait()).exitCode).toBe(10);
    expect(await output).toBe("from child\n");
    const child = kernel.processes().find((p) => p.argv[0] === "echo");
    expect(child?.ppid).toBe(proc.pid);
  });

  it("reports resolution errors", () => {
    const kernel = boot();
    const attempt = (argv: string[]) => {
      try {
        kernel.spawn({
          argv,
          env,
          cwd: "/home/user",
          stdio: [kernel.nullHandle(), kernel.nullHandle(), kernel.nullHandle()],
        });
      } catch (err) {
        return (err as KernelError).code;
      }
      return "ok";
    };
    expect(attempt(["nope"])).toBe("ENOENT");
    kernel.vfs.writeFile("/home/user/data", "plain", { mode: 0o755 });
    expect(attempt(["./data"])).toBe("ENOEXEC");
    kernel.vfs.writeFile("/home/user/noexec", "#!/usr/bin/echo\n", { mode: 0o644 });
    expect(attempt(["./noexec"])).toBe("EACCES");
    expect(attempt(["/home/user"])).toBe("EACCES");
    kernel.vfs.writeFile("/home/user/ghost", "#!enclave-host ghost\n", { mode: 0o755 });
    expect(attempt(["./ghost"])).toBe("ENOENT");
    // A wasm program with no executor configured.
    expect(attempt(["prog"])).toBe("ENOEXEC");
  });

  it("hands WASI modules to the wasm executor, one compiled module per shared buffer", async () => {
    const ran: Program[] = [];
    const wasm: Executor = {
      run(proc: KernelProcess, program: Program) {
        ran.push(program);
        proc.exit({ exitCode: 7 });
      },
    };
    let compiles = 0;
    const kernel = new Kernel({
      mounts: [
        {
          path: "/usr",
          mount: createSoftwareMount([
            { path: "bin/prog", data: new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]) },
          ]),
        },
      ],
      executors: { wasm },
      compileModule: (bytes) => {
        compiles++;
        return new Module(bytes);
      },
    });
    const stdio = [kernel.nullHandle(), kernel.nullHandle(), kernel.nullHandle()] as [
      FileHandle,
      FileHandle,
      FileHandle,
    ];
    expect((await kernel.spawn({ argv: ["prog"], env, cwd: "/", stdio }).wait()).exitCode).toBe(7);
    expect((await kernel.spawn({ argv: ["/usr/bin/prog"], env, cwd: "/", stdio }).wait()).exitCode).toBe(7);
    expect(compiles).toBe(1);
    expect(ran[0]).toMatchObject({ kind: "wasm", path: "/usr/bin/prog" });
    expect(ran[0]!.kind === "wasm" && ran[0]!.module).toBeInstanceOf(Module);
    expect(ran[1]!.kind === "wasm" && ran[1]!.module).toBe(ran[0]!.kind === "wasm" && ran[0]!.module);
  });

  it("kills with 128 + signo, ESRCH after exit, and forces out programs that ignore signals", async () => {
    const kernel = boot({ killGraceMs: 20 });
    const { proc } = run(kernel, ["sleep"]);
    expect(kernel.processes().find((p) => p.pid === proc.pid)?.status).toBe("running");
    kernel.kill(proc.pid, "SIGTERM");
    expect(await proc.wait()).toEqual({ exitCode: 143, signal: "SIGTERM" });
    expect(() => kernel.kill(proc.pid)).toThrow(/ESRCH/);
    expect(() => kernel.kill(999)).toThrow(/ESRCH/);

    const stubborn = run(kernel, ["stubborn"]).proc;
    stubborn.kill("SIGINT");
    expect(await stubborn.wait()).toEqual({ exitCode: 130, signal: "SIGINT" });

    const killed = run(kernel, ["stubborn"]).proc;
    killed.kill("SIGKILL");
    expect(await killed.wait()).toEqual({ exitCode: 137, signal: "SIGKILL" });
  });

  it("refuses spawns past maxProcesses with EAGAIN, counting running processes", async () => {
    const kernel = boot({ maxProcesses: 2 });
    const a = run(kernel, ["sleep"]).proc;
    run(kernel, ["sleep"]);
    expect(() => run(kernel, ["echo"])).toThrow(/EAGAIN/);
    a.kill("SIGKILL");
    await a.wait();
    const c = run(kernel, ["echo", "ok"]);
    expect(await c.output).toBe("ok\n");
  });

  it("shutdown kills everything and later spawns fail", async () => {
    const kernel = boot();
    const a = run(kernel, ["sleep"]).proc;
    const b = run(kernel, ["stubborn"]).proc;
    await kernel.shutdown();
    expect((await a.wait()).signal).toBe("SIGKILL");
    expect((await b.wait()).exitCode).toBe(137);
    expect(kernel.processes().every((p) => p.status === "exited")).toBe(true);
    expect(() => run(kernel, ["echo"])).toThrow(KernelError);
  });

  it("boots with /dev/null, /tmp and the mounts in place", () => {
    const kernel = boot();
    const vfs = kernel.vfs;
    expect(vfs.stat("/tmp").mode).toBe(0o1777);
    expect(vfs.stat("/dev/null").type).toBe("chardev");
    const h = vfs.open("/dev/null", { read: true, write: true });
    expect(h.write(enc.encode("gone"))).toBe(4);
    expect(h.read(new Uint8Array(4))).toBe(0);
    expect(vfs.stat("/usr/bin/echo").type).toBe("file");
    expect(vfs.stat("/home/user").type).toBe("directory");
  });
});
