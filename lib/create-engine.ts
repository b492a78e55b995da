/**
 * The composition root: configuration, store, engine, gateway, wired together. `createEngine`
 * is for vendors who mount the engine themselves; `registry.start()` (setup.ts) uses it.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { AnyActorDefinition } from "./actor/definition.js";
import { loadConfig, redactConfig, type EngineConfig, type EngineConfigInput } from "./config/index.js";
import { Engine } from "./engine/index.js";
import { StoreNamespaces, TokenStore, buildGateway, resolveAdminToken } from "./gateway/index.js";
import { CompositeHost, RemoteHost, createHost, validateUse, type ConnectedRunners } from "./runner/index.js";
import { LevelStore, MemoryStore, type Store } from "./store/index.js";
import {
  createLogger,
  installEgressAudit,
  startMetrics,
  startTracing,
  type EgressAudit,
  type EngineMetricsHandle,
  type TracingHandle,
} from "./telemetry/index.js";
import { VERSION } from "./version.js";

export type CreateEngineOptions = NonNullable<EngineConfigInput> & EngineHostOptions;

export interface EngineHostOptions {
  /** The actor types this process hosts (what `setup({ use })` returned). */
  registry?: { use: Record<string, AnyActorDefinition> };
  /** Config files or folders (like `--config`); default: ENCLAVE_CONFIG_PATH, then /etc/enclave. */
  configPaths?: string[];
  /** The environment to read `ENCLAVE__*` from; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A logger to use instead of pino on stdout. */
  logger?: Logger;
  /**
   * Runner mode: the engine pings each connected runner this often and drops one that stays
   * silent for three intervals (its actors are then placed again). Default 5000 ms.
   */
  runnerHeartbeatMs?: number;
}

export interface EnclaveEngine {
  /** Always "embedded" (an engine in this process); `registry.start()` in runner mode returns an EnclaveRunner. */
  readonly mode: "embedded";
  readonly engine: Engine;
  /** The runners connected to this engine (runner mode; see docs/runner-protocol.md). */
  readonly runners: ConnectedRunners;
  /** The effective configuration with secrets redacted. */
  readonly config: EngineConfig;
  readonly log: Logger;
  /** The gateway (fastify) instance, for vendors who add routes or inject requests. */
  readonly server: FastifyInstance;
  /** The process's egress audit: every outbound connection and DNS lookup attempted. */
  readonly egress: EgressAudit;
  /** Where a generated admin token was written, if it was. */
  readonly adminTokenPath: string | undefined;
  /** `http://host:port` once listening. */
  readonly url: string | undefined;
  /**
   * `http://default:TOKEN@host:port` once listening: for a client in this same process.
   * It holds the admin token; never log or print it.
   */
  readonly endpoint: string | undefined;
  listen(): Promise<{ url: string }>;
  /** Drains requests, puts actors to sleep, closes the store; bounded by shutdown.timeoutMs. */
  close(): Promise<void>;
}

export async function createEngine(options: CreateEngineOptions = {}): Promise<EnclaveEngine> {
  const { registry, configPaths, env, logger, runnerHeartbeatMs, ...overrides } = options;
  const use = registry?.use ?? {};
  validateUse(use);
  const loadOptions: Parameters<typeof loadConfig>[0] = { overrides };
  if (configPaths) loadOptions.configPaths = configPaths;
  if (env) loadOptions.env = env;
  const { config } = loadConfig(loadOptions);
  const log = logger ?? createLogger({ level: config.log.level });

  // Record every outbound attempt from the start (and refuse them in air-gap mode).
  const egress = installEgressAudit({ enforce: config.airgap.enforce, allow: config.airgap.allow, log });
  let store: Store | undefined;
  let metrics: EngineMetricsHandle | undefined;
  let tracing: TracingHandle | undefined;
  try {
    // After the egress audit, so the exporter's connections are audited (and refused in air-gap
    // mode unless the collector is on airgap.allow). Loads nothing unless telemetry.otel.enabled.
    tracing = await startTracing(config.telemetry.otel, {
      log,
      serviceVersion: VERSION,
      airgap: config.airgap,
    });
    store =
      config.storage.driver === "memory"
        ? new MemoryStore()
        : await LevelStore.open(config.storage.fileSystem.path);
    const opened = store;
    metrics = await startMetrics(config.metrics, { sources: { storeStats: () => opened.stats() } });
    const admin = await resolveAdminToken(config, log);
    const namespaces = new StoreNamespaces(store);
    await namespaces.ensureDefault();
    const tokens = await TokenStore.open(store, admin.token);
    // Local types run in this process; every other type runs on runners (`enclave start` has
    // no local types at all). See lib/runner/composite-host.ts.
    const local = createHost(use, config);
    const remoteOptions: ConstructorParameters<typeof RemoteHost>[0] = {
      config,
      log,
      isLocalType: (name) => local.hasType(name),
    };
    remoteOptions.heartbeatMs = runnerHeartbeatMs ?? config.runners.heartbeatMs;
    const runners = new RemoteHost(remoteOptions);
    const engine = new Engine({
      store,
      host: new CompositeHost(local, runners),
      config,
      log,
      metrics: metrics.metrics,
      tracer: tracing.tracer,
    });
    await engine.start();
    const server = await buildGateway({
      engine,
      config,
      log,
      tokens,
      namespaces,
      metrics: metrics.metrics,
      egress,
    });
    return new Running(
      engine,
      config,
      log,
      server,
      { store, metrics, tracing, egress, runners },
      admin.token,
      admin.path,
    );
  } catch (e) {
    await store?.close().catch(() => undefined);
    await tracing?.shutdown();
    await metrics?.close().catch(() => undefined);
    egress.uninstall();
    throw e;
  }
}

/** What a running engine owns and releases at close, last first. */
interface Owned {
  store: Store;
  metrics: EngineMetricsHandle;
  /** Flushed (at most FLUSH_TIMEOUT_MS) before the egress audit comes off. */
  tracing: TracingHandle;
  egress: EgressAudit;
  runners: RemoteHost;
}

class Running implements EnclaveEngine {
  readonly mode = "embedded" as const;
  readonly engine: Engine;
  readonly config: EngineConfig;
  readonly log: Logger;
  readonly server: FastifyInstance;
  readonly adminTokenPath: string | undefined;
  url: string | undefined;
  readonly #owned: Owned;
  readonly #adminToken: string;
  readonly #timeoutMs: number;
  #closing: Promise<void> | undefined;

  constructor(
    engine: Engine,
    config: EngineConfig,
    log: Logger,
    server: FastifyInstance,
    owned: Owned,
    adminToken: string,
    adminTokenPath: string | undefined,
  ) {
    this.engine = engine;
    this.config = redactConfig(config);
    this.log = log;
    this.server = server;
    this.#owned = owned;
    this.#adminToken = adminToken;
    this.adminTokenPath = adminTokenPath;
    this.#timeoutMs = config.shutdown.timeoutMs;
  }

  get endpoint(): string | undefined {
    if (!this.url) return undefined;
    const u = new URL(this.url);
    u.username = "default";
    u.password = this.#adminToken;
    return u.toString().replace(/\/$/, "");
  }

  async listen(): Promise<{ url: string }> {
    const { host, port } = this.config.gateway;
    await this.server.listen({ host, port });
    const addr = this.server.server.address();
    const actualPort = typeof addr === "object" && addr ? addr.port : port;
    const shownHost =
      host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
    this.url = `http://${shownHost}:${actualPort}`;
    return { url: this.url };
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), this.#timeoutMs);
      timer.unref();
    });
    const graceful = (async () => {
      // Stop taking work first (readiness goes 503), then drain HTTP, then sleep every actor.
      // Requests waiting for a runner fail now; runners stay connected until their actors slept.
      this.#owned.runners.stopPlacing();
      const stopping = this.engine.close().finally(() => this.#owned.runners.close());
      // A keep-alive connection that finishes its request mid-close would otherwise stay open
      // until the client drops it; keep closing idle ones until the server is closed.
      const sweep = setInterval(() => this.server.server.closeIdleConnections(), 50);
      try {
        await this.server.close();
      } finally {
        clearInterval(sweep);
      }
      await stopping;
    })();
    const outcome = await Promise.race([graceful.then(() => "done" as const), deadline]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.log.warn(
        { timeoutMs: this.#timeoutMs },
        "shutdown deadline passed; closing the store with work still running",
      );
      // Requests still in flight will never be answered now: close their sockets rather than
      // leave the callers waiting (the listener is already closed; drained requests are gone).
      this.server.server.closeAllConnections();
      await this.#owned.runners.close();
    }
    await this.#owned.store.close();
    await this.#owned.tracing.shutdown();
    await this.#owned.metrics.close();
    this.#owned.egress.uninstall();
  }

  get runners(): ConnectedRunners {
    return this.#owned.runners;
  }

  /** Outbound attempts the process made (and, in air-gap mode, refused). */
  get egress(): EgressAudit {
    return this.#owned.egress;
  }
}
