/**
 * A runner process for the runner-mode tests: `node --import tsx runner-child.ts`, with
 * ENCLAVE_ENDPOINT (and RUNNER_NAME) in its environment, as a vendor app would run. Hosts the
 * app in app.ts. Prints `ready <runnerId>` once welcomed, `status <status>` on every change
 * and, if start() fails, `failed <message>` before exiting 3. Logs (pino JSON) go to stderr.
 * Exits when its stdin closes (the test process is gone), gracefully on SIGTERM.
 */
import type { EnclaveEngine } from "../../create-engine.js";
import { createLogger } from "../../telemetry/index.js";
import type { EnclaveRunner } from "../runner.js";
import { registry } from "./app.js";

const log = createLogger({ level: "info", destination: process.stderr });
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));

let running: EnclaveEngine | EnclaveRunner;
try {
  running = (await registry.start({
    logger: log,
    env: process.env,
    configPaths: [],
    reconnect: { minDelayMs: 100, maxDelayMs: 1000 },
  })) as EnclaveEngine | EnclaveRunner;
} catch (e) {
  process.stdout.write(`failed ${(e as Error).message.replace(/\n/g, " ")}\n`);
  process.exit(3);
}
if (running.mode !== "runner") throw new Error("expected runner mode: set ENCLAVE_ENDPOINT");
const runner = running;
process.stdout.write(`ready ${runner.runnerId ?? "?"}\n`);
runner.onStatusChange((s) =>
  process.stdout.write(`status ${s}${s === "failed" ? ` ${runner.error?.message}` : ""}\n`),
);
