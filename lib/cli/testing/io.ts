/** Test helpers for the CLI: captured output, a fake signal source, the bin as a child process. */
import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { fileURLToPath } from "node:url";
import type { CliIo } from "../io.js";
import { run } from "../run.js";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface Captured extends CliIo {
  out(): string;
  err(): string;
  /** Everything written, stdout then stderr. */
  all(): string;
  signals: EventEmitter & NonNullable<CliIo["signals"]>;
}

export function captureIo(env: Record<string, string | undefined> = {}): Captured {
  let out = "";
  let err = "";
  const signals = new EventEmitter() as Captured["signals"];
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env,
    signals,
    out: () => out,
    err: () => err,
    all: () => out + err,
  };
}

/** Runs the CLI in this process with captured output. */
export async function cli(
  argv: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number; out: string; err: string; io: Captured }> {
  const io = captureIo(env);
  const code = await run(argv, io);
  return { code, out: io.out(), err: io.err(), io };
}

export interface Child {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for a line on stderr matching `re`; returns the first capture group (or the match). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
}

/** `node --import tsx lib/cli/main.ts ARGS...` as a child process with a clean environment. */
export function spawnCli(args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ["--import", "tsx", "lib/cli/main.ts", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    child,
    output: () => ({ stdout, stderr }),
    exited,
    async waitFor(re, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = re.exec(stderr);
        if (m) return m[1] ?? m[0];
        if (gone) throw new Error(`the process exited before printing ${re}:\n${stderr}\n${stdout}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}
