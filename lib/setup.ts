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
  start(options?: StartOptions): Promise<EnclaveEngine>;
}

export function setup<U extends Record<string, AnyActorDefinition>>(config: { use: U }): Registry<U> {
  validateUse(config?.use);
  const use = config.use;
  async function start(options: StartOptions = {}): Promise<EnclaveEngine | EnclaveRunner> {
    const { endpoint, namespace, token, runnerName, reconnect, handleSignals = true, ...rest } = options;
    const env = rest.env ?? process.env;
    const runnerEndpoint = endpoint ?? nonEmpty(env.ENCLAVE_ENDPOINT);
    if (runnerEndpoint !== undefined) {
      const runner = await startRunner({
        use,
        endpoint: runnerEndpoint,
        namespace: namespace ?? nonEmpty(env.ENCLAVE_NAMESPACE),
        token: token ?? nonEmpty(env.ENCLAVE_TOKEN),
        runnerName: runnerName ?? nonEmpty(env.ENCLAVE_RUNNER_NAME),
        ...runnerSettings(rest),
        ...(reconnect?.minDelayMs !== undefined ? { minReconnectDelayMs: reconnect.minDelayMs } : {}),
        ...(reconnect?.maxDelayMs !== undefined ? { maxReconnectDelayMs: reconnect.maxDelayMs } : {}),
      });
      if (handleSignals) installSignalHandlers(runner);
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
    if (handleSignals) installSignalHandlers(running);
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

function installSignalHandlers(running: { close(): Promise<void>; log: Logger }): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      running.log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    running.log.info({ signal }, "shutting down: draining requests and putting actors to sleep");
    running.close().then(
      () => process.exit(0),
      (e: unknown) => {
        running.log.error({ err: e }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  // One listener per signal: the first signal shuts down gracefully, a second one exits at once.
  // (A second listener for the same signal would run on the first signal too, right after this
  // one had set `stopping`, and turn every SIGTERM into an immediate exit 1.)
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
