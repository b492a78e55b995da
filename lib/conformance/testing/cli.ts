/** `enclave ARGS...` as a child process, the way a vendor's CI runs it. */
import { spawn } from "node:child_process";
import { childEnv, enclaveCommand } from "../process.js";

export interface CliRun {
  code: number | null;
  out: string;
  err: string;
}

export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 110_000,
): Promise<CliRun> {
  const { command, args: full } = enclaveCommand(args);
  const child = spawn(command, full, { env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
  const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}
