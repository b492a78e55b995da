/**
 * A standalone engine for the runner-mode tests, as `enclave start` runs it: createEngine with
 * no registry of its own, on the file-system store. `node --import tsx engine-child.ts DIR PORT`
 * (PORT 0: any free port). Prints `listening <url>` once it listens; its logs (pino JSON, level
 * info) go to stderr. RUNNER_HEARTBEAT_MS and PLACEMENT_TIMEOUT_MS tune runner mode. Exits when
 * its stdin closes, gracefully on SIGTERM.
 */
import { createEngine } from "../../create-engine.js";
import { createLogger } from "../../telemetry/index.js";

const [dir, port = "0"] = process.argv.slice(2);
if (dir === undefined) throw new Error("usage: engine-child.ts DIR [PORT]");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));

const running = await createEngine({
  storage: { fileSystem: { path: dir } },
  gateway: { host: "127.0.0.1", port: Number(port) },
  auth: { adminToken: process.env.ADMIN_TOKEN ?? "a".repeat(32) },
  runners: { placementTimeoutMs: Number(process.env.PLACEMENT_TIMEOUT_MS ?? 5000) },
  actors: { sleepTimeoutMs: Number(process.env.SLEEP_TIMEOUT_MS ?? 30_000) },
  shutdown: { timeoutMs: 10_000 },
  runnerHeartbeatMs: Number(process.env.RUNNER_HEARTBEAT_MS ?? 5000),
  logger: createLogger({ level: "info", destination: process.stderr }),
  env: {},
  configPaths: [],
});
const { url } = await running.listen();
process.stdout.write(`listening ${url}\n`);
process.on("SIGTERM", () => {
  void running.close().then(() => process.exit(0));
});
