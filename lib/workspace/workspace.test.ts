/**
 * Workspaces as a user drives them: a real engine on the on-disk store, the real kernel, WASI
 * toybox programs on worker threads, the kernel's shell. Needs `npm run build:software`.
 */
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createClient } from "../client/index.js";
import { UserError } from "../errors.js";
import type { Registry } from "../setup.js";
import {
  NS,
  actorId,
  expectEnclaveError,
  runChild,
  startEngine,
  tempDir,
  until,
} from "../engine/testing/harness.js";
import { closeSharedWorkerPool } from "./wasi/index.js";
import { workspace, type ExecResult } from "./index.js";

afterAll(() => closeSharedWorkerPool());

const vm = workspace();
const decode = (b: unknown) => new TextDecoder().decode(b as Uint8Array);

async function started(dir?: string) {
  const s = await startEngine({ vm }, dir ? { dir } : {});
  const id = await actorId(s.engine, "vm", ["w", String(Math.random())]);
  const call = <T = unknown>(action: string, ...args: unknown[]) =>
    s.engine.action(NS, id, action, args) as Promise<T>;
  return { ...s, id, call };
}

describe("filesystem actions", () => {
  it("write, read, list, stat, move and delete, with errno codes", async () => {
    const { call } = await started();
    await call("mkdir", "/home/user/project/src", { recursive: true });
    await call("writeFile", "/home/user/project/src/a.txt", "alpha");
    await call("writeFile", "project/b.bin", new Uint8Array([0, 1, 255]));
    expect(decode(await call("readFile", "/home/user/project/src/a.txt"))).toBe("alpha");
    expect(await call("readFile", "/home/user/project/b.bin")).toEqual(new Uint8Array([0, 1, 255]));
    expect(await call("readdir", "/home/user/project")).toEqual(["b.bin", "src"]);
    expect(await call("readdirRecursive", "/home/user/project")).toEqual([
      { path: "/home/user/project/b.bin", type: "file", size: 3 },
      { path: "/home/user/project/src", type: "directory", size: expect.any(Number) },
      { path: "/home/user/project/src/a.txt", type: "file", size: 5 },
    ]);
    expect(await call("stat", "/home/user/project/src/a.txt")).toMatchObject({
      type: "file",
      size: 5,
      isFile: true,
    });
    expect(await call("exists", "/home/user/project/nope")).toBe(false);
    await call("move", "/home/user/project/src/a.txt", "/home/user/a.txt");
    expect(await call("exists", "/home/user/project/src/a.txt")).toBe(false);
    // Across mounts (/home/user is persistent, /tmp is memory): copy and delete.
    await call("move", "/home/user/a.txt", "/tmp/a.txt");
    expect(decode(await call("readFile", "/tmp/a.txt"))).toBe("alpha");
    await call("deleteFile", "/tmp/a.txt");

    await expectEnclaveError(call("readFile", "/home/user/missing"), "workspace", "ENOENT", 404);
    await expectEnclaveError(call("mkdir", "/home/user/project"), "workspace", "EEXIST", 409);
    await expectEnclaveError(call("readFile", "/home/user/project/b.bin/x"), "workspace", "ENOTDIR");
    await expectEnclaveError(call("readFile", "/home/user/project"), "workspace", "EISDIR");
    await expectEnclaveError(call("deleteFile", "/home/user/project"), "workspace", "EISDIR");
    await expectEnclaveError(call("writeFile", "/usr/bin/ls", "x"), "workspace", "EROFS");
    await expectEnclaveError(call("readFile", 42), "request", "invalid", 400);
  });

  it("refuses symlinks that leave their mount, and link loops", async () => {
    const { call } = await started();
    await call("writeFile", "/tmp/secret", "outside");
    const r = await call<ExecResult>(
      "exec",
      "ln -s /tmp/secret abs && ln -s ../../tmp/secret rel && ln -s loop2 loop1 && ln -s loop1 loop2",
    );
    expect(r.exitCode).toBe(0);
    await expectEnclaveError(call("readFile", "/home/user/abs"), "workspace", "EACCES", 403);
    await expectEnclaveError(call("readFile", "/home/user/rel"), "workspace", "EACCES", 403);
    await expectEnclaveError(call("readFile", "/home/user/loop1"), "workspace", "ELOOP");
    const cat = await call<ExecResult>("exec", "cat abs");
    expect(cat.exitCode).not.toBe(0);
    expect(cat.stdout).toBe("");
    // `..` in a plain path is ordinary POSIX inside the VM, never a way out of it.
    expect(decode(await call("readFile", "/home/user/../../../../tmp/secret"))).toBe("outside");
  });
});

describe("processes", () => {
  it("runs pipelines, redirections and shell control flow with toybox", async () => {
    const { call } = await started();
    const run = (cmd: string) => call<ExecResult>("exec", cmd);
    expect(await run("echo hello | tr a-z A-Z")).toMatchObject({
      exitCode: 0,
      stdout: "HELLO\n",
      stderr: "",
    });
    expect((await run("seq 5 | sort -r | head -2 > top.txt; cat < top.txt")).stdout).toBe("5\n4\n");
    expect((await run("echo one >> log; echo two >> log; wc -l < log")).stdout.trim()).toBe("2");
    expect((await run("ls /nope 2>&1 | grep -c nope")).stdout.trim()).toBe("1");
    expect((await run("false && echo no || echo yes")).stdout).toBe("yes\n");
    expect((await run('for x in a b c; do printf "%s-" "$x"; done')).stdout).toBe("a-b-c-");
    expect((await run('i=0; while [ $i -lt 3 ]; do i=$(expr $i + 1); done; echo "$i"')).stdout).toBe("3\n");
    expect((await run("if test -d /usr/bin; then echo dir; else echo none; fi")).stdout).toBe("dir\n");
    expect((await run("echo $(basename /a/b/c.txt .txt)")).stdout).toBe("c\n");
    expect((await run("printf 'b\\na\\n' | xargs echo got")).stdout).toBe("got b a\n");
    expect(await run("exit 3")).toMatchObject({ exitCode: 3 });
    expect(await run("no-such-command")).toMatchObject({
      exitCode: 127,
      stderr: expect.stringContaining("not found"),
    });
    expect((await run("echo data | sha256sum")).stdout).toMatch(/^[0-9a-f]{64} {2}-\n$/);
  });

  it("a file written by one exec is visible to a concurrently running spawned process", async () => {
    const { call } = await started();
    const { pid } = await call<{ pid: number }>("spawn", "sh", [
      "-c",
      "while [ ! -f /tmp/flag ]; do sleep 0.02; done; cat /tmp/flag",
    ]);
    const listed = await call<{ pid: number; status: string }[]>("listProcesses");
    expect(listed.find((p) => p.pid === pid)).toMatchObject({ status: "running" });
    await call("exec", "echo from-exec > /tmp/flag");
    expect(await call("waitProcess", pid)).toEqual({ pid, exitCode: 0 });
  });

  it("streams output and exit events, takes stdin, and reports a killed process's signal", async () => {
    const { running, id, call } = await started();
    await running.listen();
    const client = createClient(running.endpoint!);
    const conn = client.vm!.getForId(id).connect();
    const output: string[] = [];
    const exits: unknown[] = [];
    conn.on("processOutput", (e: { data: string }) => output.push(e.data));
    conn.on("processExit", (e: unknown) => exits.push(e));
    const cat = (await conn.action("spawn", "tr", ["a-z", "A-Z"])) as { pid: number };
    await conn.action("writeProcessStdin", cat.pid, "shout\n");
    await conn.action("closeProcessStdin", cat.pid);
    await until("tr exit", () => exits.length === 1);
    expect(output.join("")).toBe("SHOUT\n");
    expect(exits[0]).toEqual({ pid: cat.pid, exitCode: 0 });

    const sleeper = await call<{ pid: number }>("spawn", "sleep", ["30"]);
    await call("killProcess", sleeper.pid, "SIGKILL");
    expect(await call("waitProcess", sleeper.pid)).toEqual({
      pid: sleeper.pid,
      exitCode: 137,
      signal: "SIGKILL",
    });
    await until("kill exit event", () => exits.length === 2);
    expect(exits[1]).toEqual({ pid: sleeper.pid, exitCode: 137, signal: "SIGKILL" });
    await expectEnclaveError(call("killProcess", 99999), "workspace", "ESRCH", 404);
    await conn.dispose();
    await client.dispose();
  });

  it("a CPU-bound program does not stall other actors' actions", async () => {
    const s = await startEngine({ vm });
    const busy = await actorId(s.engine, "vm", "busy");
    const other = await actorId(s.engine, "vm", "other");
    await s.engine.action(NS, other, "writeFile", ["/tmp/x", "x"]);
    const { pid } = (await s.engine.action(NS, busy, "spawn", [
      "sh",
      ["-c", "seq 100000000 > /dev/null"],
    ])) as {
      pid: number;
    };
    await new Promise((r) => setTimeout(r, 100));
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await s.engine.action(NS, other, "exists", ["/tmp/x"]);
      latencies.push(performance.now() - t);
    }
    const procs = (await s.engine.action(NS, busy, "listProcesses", [])) as {
      argv: string[];
      status: string;
    }[];
    expect(procs.some((p) => p.argv[0] === "seq" && p.status === "running")).toBe(true);
    latencies.sort((a, b) => a - b);
    // Generous: a stalled event loop would make these seconds, not milliseconds.
    expect(latencies[Math.floor(latencies.length / 2)]!).toBeLessThan(50);
    await s.engine.action(NS, busy, "killProcess", [pid, "SIGKILL"]);
  });
});

describe("persistence of /home/user", () => {
  it("survives a forced sleep and a restart; other mounts start empty", async () => {
    const first = await started();
    await first.call("writeFile", "/home/user/notes.md", "# kept");
    await first.call(
      "exec",
      "mkdir -p /home/user/d && echo via-exec > /home/user/d/e.txt && ln -s notes.md /home/user/link",
    );
    await first.call("writeFile", "/tmp/scratch", "gone after sleep");
    await first.engine.sleep(NS, first.id);
    expect(decode(await first.call("readFile", "/home/user/notes.md"))).toBe("# kept");
    expect(await first.call("exists", "/tmp/scratch")).toBe(false);
    await first.close();

    const s = await startEngine({ vm }, { dir: first.dir });
    const call = (action: string, ...args: unknown[]) => s.engine.action(NS, first.id, action, args);
    expect(decode(await call("readFile", "/home/user/d/e.txt"))).toBe("via-exec\n");
    expect(decode(await call("readFile", "/home/user/link"))).toBe("# kept");
    expect(((await call("exec", "cat /home/user/notes.md")) as ExecResult).stdout).toBe("# kept");
  });

  it("files written by a background process are kept after it exits", async () => {
    const first = await started();
    const { pid } = await first.call<{ pid: number }>("spawn", "sh", ["-c", "echo bg > /home/user/bg.txt"]);
    await first.call("waitProcess", pid);
    await first.close();
    const s = await startEngine({ vm }, { dir: first.dir });
    expect(decode(await s.engine.action(NS, first.id, "readFile", ["/home/user/bg.txt"]))).toBe("bg\n");
  });

  it("every acknowledged file survives kill -9 of the engine", async () => {
    const dir = await tempDir();
    const child = runChild(fileURLToPath(new URL("./testing/crash-child.ts", import.meta.url)), [dir]);
    const acks = (lines: string[]) => lines.filter((l) => l.startsWith("ack "));
    await child.until((lines) => acks(lines).length >= 200, 60_000);
    child.kill();
    expect((await child.exit).signal).toBe("SIGKILL");
    const id = (child.lines[0] ?? "").slice(3);
    const acked = acks(child.lines).map((l) => Number(l.slice(4)));

    const s = await startEngine({ vm }, { dir });
    const names = new Set((await s.engine.action(NS, id, "readdir", ["/home/user/out"])) as string[]);
    const missing = acked.filter((n) => !names.has(`f${n}`));
    expect(missing).toEqual([]);
    for (const n of acked.slice(-20)) {
      expect(decode(await s.engine.action(NS, id, "readFile", [`/home/user/out/f${n}`]))).toBe(
        `content ${n}\n`,
      );
    }
  });
});

describe("events", () => {
  it("vmBooted on the first action and vmShutdown when the workspace sleeps", async () => {
    const { running, engine, id } = await started();
    await running.listen();
    const client = createClient(running.endpoint!);
    const conn = client.vm!.getForId(id).connect();
    const events: string[] = [];
    conn.on("vmBooted", () => events.push("booted"));
    conn.on("vmShutdown", () => events.push("shutdown"));
    await conn.action("exists", "/home/user");
    await until("vmBooted", () => events.includes("booted"));
    await engine.sleep(NS, id);
    await until("vmShutdown", () => events.includes("shutdown"));
    expect(events.slice(0, 2)).toEqual(["booted", "shutdown"]);
    await conn.dispose();
    await client.dispose();
  });
});

describe("onBeforeConnect", () => {
  it("gates connections and HTTP actions; its UserError code reaches the client", async () => {
    const guarded = workspace({
      onBeforeConnect: (_c, params) => {
        if ((params as { authToken?: string } | undefined)?.authToken !== "valid-token") {
          throw new UserError("Forbidden", { code: "forbidden" });
        }
      },
    });
    const s = await startEngine({ guarded });
    await s.running.listen();
    const client = createClient<Registry<{ guarded: typeof guarded }>>(s.running.endpoint!);
    try {
      const anonymous = client.guarded.getOrCreate(["g"]);
      await expect(anonymous.exec("echo hi")).rejects.toMatchObject({
        group: "user",
        code: "forbidden",
        status: 400,
      });
      const wrong = client.guarded.getOrCreate(["g"], { params: { authToken: "nope" } });
      await expect(wrong.writeFile("/home/user/x", "y")).rejects.toMatchObject({ code: "forbidden" });
      const conn = wrong.connect();
      const refused = await new Promise<{ code: string }>((resolve) => conn.onError(resolve));
      expect(refused.code).toBe("forbidden");
      await conn.dispose();

      const allowed = client.guarded.getOrCreate(["g"], { params: { authToken: "valid-token" } });
      expect(await allowed.exec("echo hi")).toMatchObject({ exitCode: 0, stdout: "hi\n" });
      // The refused calls never ran: the file is not there.
      expect(await allowed.exists("/home/user/x")).toBe(false);
      const ok = allowed.connect();
      expect(await ok.exists("/home/user")).toBe(true);
      await ok.dispose();
    } finally {
      await client.dispose();
    }
  });
});
