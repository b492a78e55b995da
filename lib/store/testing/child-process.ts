/** A TypeScript file run in a real child process, for crash (kill -9) tests. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface Child {
  /** Complete stdout lines so far (a line cut short by a kill does not count). */
  lines: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
  /** Resolves once `predicate` holds for the lines so far; kills the child and rejects after `timeoutMs`. */
  until(predicate: (lines: string[]) => boolean, timeoutMs: number): Promise<void>;
}

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** Runs a TypeScript file in a child process (`node --import tsx script args...`). */
export function runChild(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let partial = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  proc.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const w of waiters) w();
  });
  proc.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on("close", (code, signal) => resolve({ code, signal })),
  );
  return {
    lines,
    exit,
    kill: () => proc.kill("SIGKILL"),
    until: (predicate, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(lines)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          proc.kill("SIGKILL");
          reject(new Error(`child timed out with ${lines.length} lines; stderr: ${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        void exit.then(() => {
          if (!waiters.has(check)) return;
          check();
          if (!waiters.has(check)) return;
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`child exited early with ${lines.length} lines; stderr: ${stderr}`));
        });
        check();
      }),
  };
}
