/**
 * Prometheus metrics (prom-client): one registry per engine (never prom-client's global one),
 * process metrics, and the engine's own counters, served as text on a listener of their own
 * (`metrics.host`:`metrics.port`, default 127.0.0.1:6421), only when `metrics.enabled`.
 *
 * The engine reports through the small `EngineMetrics` interface; with metrics disabled it gets
 * `noopMetrics`, so call sites never branch.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { UserError } from "../errors.js";
import { VERSION } from "../version.js";
import type { EgressAttempt } from "./egress.js";

export type ActionOutcome = "ok" | "user_error" | "error";

/** What the engine, the actor runtime and the gateway report. Every method is cheap and sync. */
export interface EngineMetrics {
  /** An actor woke (its instance started). */
  woke(): void;
  /** An actor went to sleep or was destroyed (its instance stopped). */
  slept(): void;
  /** An action finished: how, and how long it took in ms. */
  actionDone(outcome: ActionOutcome, ms: number): void;
  /** An HTTP request finished. `route` is the route pattern (`/actors/:id`), never the raw URL. */
  httpRequest(method: string, route: string, status: number, ms: number): void;
  /** An egress attempt was recorded (pass as the egress audit's `onAttempt`). */
  egress(attempt: EgressAttempt): void;
}

/** Metrics off: every call does nothing. */
export const noopMetrics: EngineMetrics = Object.freeze({
  woke() {},
  slept() {},
  actionDone() {},
  httpRequest() {},
  egress() {},
});

/** `ok` when `error` is undefined; `user_error` for an actor's UserError; `error` otherwise. */
export function actionOutcome(error?: unknown): ActionOutcome {
  if (error === undefined) return "ok";
  return error instanceof UserError ? "user_error" : "error";
}

/** Values read when Prometheus scrapes, instead of being pushed. */
export interface MetricsSources {
  /** Awake actors right now (e.g. `() => engine.liveCount`); else woke()/slept() keep count. */
  awake?: () => number;
  /** The store's counters (`() => store.stats()`). */
  storeStats?: () => { commits: number; batches: number };
}

export interface PrometheusMetricsOptions {
  sources?: MetricsSources;
  /** Process and Node.js runtime metrics (CPU, memory, event loop, GC). Default true. */
  processMetrics?: boolean;
}

const ACTION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Bounds the label sets a misbehaving caller could create. */
const MAX_ROUTES = 200;

/** `EngineMetrics` backed by a prom-client registry of its own. */
export class PrometheusMetrics implements EngineMetrics {
  readonly registry: Registry;
  readonly #wakes: Counter;
  readonly #sleeps: Counter;
  readonly #awake: Gauge;
  readonly #actions: Counter<"outcome">;
  readonly #actionSeconds: Histogram<"outcome">;
  readonly #httpRequests: Counter<"method" | "route" | "status">;
  readonly #httpSeconds: Histogram<"method" | "route">;
  readonly #egress: Counter<"kind" | "allowed">;
  readonly #routes = new Set<string>();

  constructor(options: PrometheusMetricsOptions = {}) {
    const registry = (this.registry = new Registry());
    const sources = options.sources ?? {};
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

    new Gauge({
      name: "enclave_build_info",
      help: "The running Enclave version (always 1)",
      labelNames: ["version"],
      registers: [registry],
    }).set({ version: VERSION }, 1);

    this.#awake = new Gauge({
      name: "enclave_actors_awake",
      help: "Actors awake (instance in memory) right now",
      registers: [registry],
      ...(sources.awake ? { collect: collectFrom(sources.awake) } : {}),
    });
    this.#wakes = new Counter({
      name: "enclave_actor_wakes_total",
      help: "Actor instances started (created or woken)",
      registers: [registry],
    });
    this.#sleeps = new Counter({
      name: "enclave_actor_sleeps_total",
      help: "Actor instances stopped (slept or destroyed)",
      registers: [registry],
    });
    this.#actions = new Counter({
      name: "enclave_actions_total",
      help: "Actions finished, by outcome (ok, user_error, error)",
      labelNames: ["outcome"],
      registers: [registry],
    });
    this.#actionSeconds = new Histogram({
      name: "enclave_action_duration_seconds",
      help: "Action duration, including the commit of its state",
      labelNames: ["outcome"],
      buckets: ACTION_BUCKETS,
      registers: [registry],
    });
    for (const outcome of ["ok", "user_error", "error"] as const) {
      this.#actions.inc({ outcome }, 0); // show zeroes, so rate() works from the first scrape
      this.#actionSeconds.zero({ outcome });
    }
    this.#httpRequests = new Counter({
      name: "enclave_http_requests_total",
      help: "HTTP requests to the gateway, by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    });
    this.#httpSeconds = new Histogram({
      name: "enclave_http_request_duration_seconds",
      help: "HTTP request duration at the gateway, by method and route pattern",
      labelNames: ["method", "route"],
      buckets: HTTP_BUCKETS,
      registers: [registry],
    });
    this.#egress = new Counter({
      name: "enclave_egress_attempts_total",
      help: "Outbound connection and DNS attempts recorded by the egress audit",
      labelNames: ["kind", "allowed"],
      registers: [registry],
    });

    if (sources.storeStats) {
      const read = sources.storeStats;
      monotonic(registry, "enclave_store_commits_total", "Synced store commits", () => read().commits);
      monotonic(
        registry,
        "enclave_store_batches_total",
        "Caller batches folded into store commits",
        () => read().batches,
      );
    }
  }

  woke(): void {
    this.#wakes.inc();
    this.#awake.inc();
  }

  slept(): void {
    this.#sleeps.inc();
    this.#awake.dec();
  }

  actionDone(outcome: ActionOutcome, ms: number): void {
    this.#actions.inc({ outcome });
    this.#actionSeconds.observe({ outcome }, Math.max(0, ms) / 1000);
  }

  httpRequest(method: string, route: string, status: number, ms: number): void {
    let r = route === "" ? "unmatched" : route;
    if (!this.#routes.has(r)) {
      if (this.#routes.size >= MAX_ROUTES) r = "other";
      else this.#routes.add(r);
    }
    const m = method.toUpperCase();
    this.#httpRequests.inc({ method: m, route: r, status: String(status) });
    this.#httpSeconds.observe({ method: m, route: r }, Math.max(0, ms) / 1000);
  }

  egress(attempt: EgressAttempt): void {
    this.#egress.inc({ kind: attempt.kind, allowed: String(attempt.allowed) });
  }

  /** The text exposition (what GET /metrics serves). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

function collectFrom(read: () => number) {
  return function (this: Gauge) {
    this.set(read());
  };
}

/** A counter whose value is read from a source that only grows (the store's own counters). */
function monotonic(registry: Registry, name: string, help: string, read: () => number): void {
  let last = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect(this: Counter) {
      const now = read();
      if (now > last) this.inc(now - last);
      last = Math.max(last, now);
    },
  });
}

// ---- the listener ---------------------------------------------------------------------------

export interface MetricsServerOptions {
  /** Default 127.0.0.1: metrics say a lot about an install; bind wider only on purpose. */
  host?: string;
  /** Default 6421; 0 picks a free port. */
  port?: number;
  registry: Registry;
}

export interface MetricsServer {
  /** `http://host:port` (the scrape URL is `${url}/metrics`). */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (Prometheus text format) on its own port. Resolves once listening. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry } = options;
  const host = options.host ?? "127.0.0.1";
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end();
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      () => {
        res
          .writeHead(500, { "content-type": "text/plain; charset=utf-8" })
          .end("metrics collection failed\n");
      },
    );
  });
  server.keepAliveTimeout = 65_000; // longer than Prometheus' default scrape interval
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: options.port ?? 6421 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  const url = `http://${shown.includes(":") ? `[${shown}]` : shown}:${address.port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

// ---- from configuration -----------------------------------------------------------------------

export interface EngineMetricsHandle {
  /** What the engine calls: Prometheus-backed when enabled, `noopMetrics` when not. */
  readonly metrics: EngineMetrics;
  /** The registry when enabled (for vendors who add their own metrics). */
  readonly registry: Registry | undefined;
  /** The listener when enabled. */
  readonly server: MetricsServer | undefined;
  close(): Promise<void>;
}

/**
 * Metrics as configured (`config.metrics`): nothing is created or bound unless `enabled`.
 * Rejects if the port cannot be bound (the caller should fail startup).
 */
export async function startMetrics(
  config: { enabled: boolean; host: string; port: number },
  options: PrometheusMetricsOptions = {},
): Promise<EngineMetricsHandle> {
  if (!config.enabled) {
    return { metrics: noopMetrics, registry: undefined, server: undefined, close: async () => {} };
  }
  const prom = new PrometheusMetrics(options);
  const server = await startMetricsServer({ host: config.host, port: config.port, registry: prom.registry });
  return { metrics: prom, registry: prom.registry, server, close: () => server.close() };
}
