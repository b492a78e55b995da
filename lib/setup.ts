/**
 * `setup({ use })` and `registry.start()`: with no endpoint, the engine and gateway start in
 * this process on the on-disk store; with ENCLAVE_ENDPOINT (or `endpoint`), the app would join
 * a standalone engine as a runner.
 */
import type { AnyActorDefinition } from "./actor/definition.js";
import { createEngine, type CreateEngineOptions, type EnclaveEngine } from "./create-engine.js";
import { Errors, err } from "./errors.js";
import { validateUse } from "./runner/index.js";

export type StartOptions = Omit<CreateEngineOptions, "registry"> & {
  /** A standalone engine to join as a runner (`http://NAMESPACE:TOKEN@host:6420`). */
  endpoint?: string;
  /** Install SIGTERM/SIGINT handlers that shut down gracefully and exit. Default true. */
  handleSignals?: boolean;
};

export interface Registry<U extends Record<string, AnyActorDefinition>> {
  readonly use: U;
  /** Starts the engine in this process (embedded mode) and listens on the gateway port. */
  start(options?: StartOptions): Promise<EnclaveEngine>;
}

export function setup<U extends Record<string, AnyActorDefinition>>(config: { use: U }): Registry<U> {
  validateUse(config?.use);
  const use = config.use;
  return {
    use,
    async start(options: StartOptions = {}): Promise<EnclaveEngine> {
      const { endpoint = process.env.ENCLAVE_ENDPOINT, handleSignals = true, ...rest } = options;
      if (endpoint) {
        throw err(
          Errors.badRequest,
          "Runner mode (joining a standalone engine via ENCLAVE_ENDPOINT) is not available in this version; unset ENCLAVE_ENDPOINT to run the engine embedded",
        );
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
    },
  };
}

function installSignalHandlers(running: EnclaveEngine): void {
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
