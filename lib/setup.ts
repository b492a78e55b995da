/**
 * `setup({ use })` and `registry.start()`: with no endpoint, the engine and gateway start in
 * this process on the on-disk store (embedded mode); with ENCLAVE_ENDPOINT (or `endpoint`), the
 * app joins a standalone engine as a runner and hosts the registry's actor types there.
 */
import type { Logger } from "pino";
import type { AnyActorDefinition } from "./actor/definition.js";
import { loadConfig } from "./config/index.js";
import { createEngine, type CreateEngineOptions, type EnclaveEngine } from "./create-engine.js";
import { validateUse } from "./runner/index.js";
import { startRunner, type EnclaveRunner } from "./runner/runner.js";
import { SignalWatch, shutdown } from "./shutdown.js";
import { createLogger } from "./telemetry/index.js";

export type StartOptions = Omit<CreateEngineOptions, "registry"> & {
  /**
   * A standalone engine to join as a runner (`http://NAMESPACE:TOKEN@host:6420`). Default: the
   * `ENCLAVE_ENDPOINT` environment variable; neither means embedded mode.
   */
  endpoint?: string;
  /** Runner mode: the namespace, when the endpoint carries none (default `ENCLAVE_NAMESPACE`). */
  namespace?: string;
  /** Runner mode: the token, when the endpoint carries none (default `ENCLAVE_TOKEN`). */
  token?: string;
  /** Runner mode: a label the engine logs for this runner (default `ENCLAVE_RUNNER_NAME`, else the host name). */
  runnerName?: string;
  /** Runner mode: reconnection delays (exponential with jitter), default 250 ms doubling up to 10 s. */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /** Install SIGTERM/SIGINT handlers that shut down gracefully and exit. Default true. */
  handleSignals?: boolean;
};

export interface Registry<U extends Record<string, AnyActorDefinition>> {
  readonly use: U;
  /** Runner mode: joins the engine at `endpoint` and hosts these actor types there. */
  start(options: StartOptions & { endpoint: string }): Promise<EnclaveRunner>;
  /**
   * Starts the engine in this process (embedded mode) and listens on the gateway port, or, when
   * `ENCLAVE_ENDPOINT` is set, joins that engine as a runner: the result is then an
   * `EnclaveRunner` (`mode: "runner"`; it has `close()` and `log` but no engine, server or
   * URL of its own). Check `mode` when the same code runs both ways.
   */
  start(options?: StartOptions): Promise<EnclaveEngine | EnclaveRunner>;
}

export function setup<U extends Record<string, AnyActorDefinition>>(config: { use: U }): Registry<U> {
  validateUse(config?.use);
  const use = config.use;
  async function start(options: StartOptions = {}): Promise<EnclaveEngine | EnclaveRunner> {
    const { endpoint, namespace, token, runnerName, reconnect, handleSignals = true, ...rest } = options;
    const env = rest.env ?? process.env;
    const runnerEndpoint = endpoint ?? nonEmpty(env.ENCLAVE_ENDPOINT);
    if (runnerEndpoint !== undefined) {
      const settings = runnerSettings(rest);
      const runner = await startRunner({
        use,
        endpoint: runnerEndpoint,
        namespace: namespace ?? nonEmpty(env.ENCLAVE_NAMESPACE),
        token: token ?? nonEmpty(env.ENCLAVE_TOKEN),
        runnerName: runnerName ?? nonEmpty(env.ENCLAVE_RUNNER_NAME),
        ...settings,
        ...(reconnect?.minDelayMs !== undefined ? { minReconnectDelayMs: reconnect.minDelayMs } : {}),
        ...(reconnect?.maxDelayMs !== undefined ? { maxReconnectDelayMs: reconnect.maxDelayMs } : {}),
      });
      if (handleSignals) installSignalHandlers(runner, settings.closeTimeoutMs);
      return runner;
    }
    const running = await createEngine({ ...rest, registry: { use } });
    try {
      const { url } = await running.listen();
      running.log.info(
        { url, types: Object.keys(use), adminTokenFile: running.adminTokenPath },
        "enclave engine listening",
      );
    } catch (e) {
      await running.close();
      throw e;
    }
    if (handleSignals) installSignalHandlers(running, running.config.shutdown.timeoutMs);
    return running;
  }
  return { use, start: start as Registry<U>["start"] };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/**
 * A runner reads the same configuration sources as the engine; of them only `log.level` and
 * `shutdown.timeoutMs` apply to it (limits and actor defaults come from the engine it joins).
 */
function runnerSettings(options: Omit<CreateEngineOptions, "registry">): {
  log: Logger;
  closeTimeoutMs: number;
} {
  const { configPaths, env, logger, runnerHeartbeatMs: _heartbeat, ...overrides } = options;
  const loadOptions: Parameters<typeof loadConfig>[0] = { overrides };
  if (configPaths) loadOptions.configPaths = configPaths;
  if (env) loadOptions.env = env;
  const { config } = loadConfig(loadOptions);
  return {
    log: logger ?? createLogger({ level: config.log.level }),
    closeTimeoutMs: config.shutdown.timeoutMs,
  };
}

/**
 * SIGTERM/SIGINT: drain, sleep actors, close the store, exit 0; a second signal or the deadline
 * (`shutdown.timeoutMs`) exits at once with 1. Same rules as `enclave start`.
 */
function installSignalHandlers(running: { close(): Promise<void>; log: Logger }, timeoutMs: number): void {
  const watch = new SignalWatch(process);
  void watch.first.then(async (signal) => {
    running.log.info({ signal }, "shutting down: draining requests and putting actors to sleep");
    const result = await shutdown(() => running.close(), watch, timeoutMs);
    if (result.outcome === "failed") running.log.error({ err: result.error }, "shutdown failed");
    else if (result.outcome !== "closed") running.log.warn({ outcome: result.outcome }, "shutdown cut short");
    process.exit(result.exitCode);
  });
}
