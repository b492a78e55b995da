/**
 * OpenTelemetry trace export, opt-in (`telemetry.otel`). Nothing here runs, and none of the
 * OpenTelemetry packages is even loaded, unless `enabled` is true: they are imported with
 * `import()` inside `startTracing`, and this file's static imports of them are types only.
 *
 * When enabled:
 * - A private `TracerProvider` (never registered as the global one, so it neither sees nor
 *   changes a vendor's own OpenTelemetry setup) with the resource `service.name=enclave`,
 *   `service.version`. Spans start from the root context: they never join a vendor's trace.
 * - OTLP/HTTP export with the exporter's default encoding (JSON) to the collector the operator
 *   named. URL rule: an endpoint without a path (`http://otel.corp:4318` or with only `/`) gets
 *   the standard traces path, `http://otel.corp:4318/v1/traces`; an endpoint with a path is
 *   the full traces URL and is used as is (`https://gw.corp/otlp/v1/traces`).
 * - A `BatchSpanProcessor` with a bounded queue (`MAX_QUEUE` spans; more are dropped, never
 *   buffered without limit).
 * - Export failures are logged at warn, at most once a minute (with a count of the ones not
 *   logged), and never thrown: the engine keeps working without its collector.
 * - `shutdown()` flushes what is queued, bounded by `flushTimeoutMs` (default 2 s); it never
 *   rejects and never holds shutdown longer than that.
 *
 * The egress audit sees the exporter's connections like any other: with `airgap.enforce`, the
 * collector must be on `airgap.allow` (a loopback collector always passes). It is not added
 * automatically; `startTracing` warns at start when the policy will refuse it.
 *
 * Spans (see `SPAN_NAMES`, `SPAN_ATTRIBUTES`): `actor.action` per action, `actor.wake` and
 * `actor.sleep` per lifecycle step, with the actor's type name and id, the action name, the
 * outcome (`ok`, `user_error`, `error`) and an error's code. Never arguments, outputs, state,
 * error messages or tokens.
 */
import type { Context, Span, Tracer } from "@opentelemetry/api";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import { EnclaveError, Errors, UserError } from "../errors.js";
import { allowPatternForUrl, isAllowed, isLoopbackHost, parseAllowPattern } from "./egress.js";
import { actionOutcome } from "./metrics.js";
import { noopTracer, type EngineTracer, type SpanEnd, type TracedActor } from "./tracing.js";

/** `config.telemetry.otel`. */
export interface OtelConfig {
  enabled: boolean;
  endpoint?: string | undefined;
}

/** The minimal logger tracing needs (a pino Logger fits). */
export interface TracingLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface TracingOptions {
  log: TracingLogger;
  /** The `service.version` resource attribute (the engine passes its VERSION). */
  serviceVersion: string;
  /** The air-gap policy (`config.airgap`): only read to warn at start if it refuses the collector. */
  airgap?: { enforce: boolean; allow: readonly string[] };
  /** Upper bound on the final flush in `shutdown()`, ms. Default `FLUSH_TIMEOUT_MS`. */
  flushTimeoutMs?: number;
}

export interface TracingHandle {
  /** What the engine calls: OpenTelemetry-backed when enabled, `noopTracer` when not. */
  readonly tracer: EngineTracer;
  /** Flushes queued spans (bounded by `flushTimeoutMs`) and stops exporting. Never rejects. */
  shutdown(): Promise<void>;
}

export const SPAN_NAMES = {
  action: "actor.action",
  wake: "actor.wake",
  sleep: "actor.sleep",
} as const;

export const SPAN_ATTRIBUTES = {
  actorName: "enclave.actor.name",
  actorId: "enclave.actor.id",
  action: "enclave.action",
  /** `ok`, `user_error` (a UserError the actor threw on purpose) or `error`. */
  outcome: "enclave.outcome",
  /** The error's catalogue code (`action_timed_out`, ...), a UserError's code, or `internal_error`. */
  errorCode: "enclave.error.code",
  /** Why an actor stopped: `sleep`, `destroy` or `shutdown`. */
  stopReason: "enclave.stop.reason",
} as const;

export const SERVICE_NAME = "enclave";
/** Default bound on the flush at shutdown. */
export const FLUSH_TIMEOUT_MS = 2000;
/** Spans waiting for export; beyond this they are dropped. */
export const MAX_QUEUE = 2048;
const MAX_BATCH = 512;
const SCHEDULED_DELAY_MS = 5000;
/** One HTTP export request (the exporter's own retries included). */
const REQUEST_TIMEOUT_MS = 5000;
const BATCH_TIMEOUT_MS = 10_000;
/** Longest attribute value kept (error codes come from actor code). */
const MAX_ATTRIBUTE_LENGTH = 256;
/** At most one export-failure warning per this interval. */
const WARN_INTERVAL_MS = 60_000;
/** `ExportResultCode.SUCCESS` of @opentelemetry/core (not a dependency of ours). */
const EXPORT_SUCCESS = 0;
/** `SpanStatusCode.ERROR` of @opentelemetry/api. */
const STATUS_ERROR = 2;

/**
 * The OTLP/HTTP traces URL for `telemetry.otel.endpoint`: the endpoint plus `/v1/traces` when it
 * has no path (or only `/`), else the endpoint as is. Query and userinfo are kept.
 */
export function otlpTracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === "" || url.pathname === "/") url.pathname = "/v1/traces";
  return url.toString();
}

/**
 * Tracing as configured: `noopTracer` and nothing loaded unless `config.enabled`. Rejects when
 * enabled without an endpoint (the config schema already refuses that) or with a bad URL.
 */
export async function startTracing(config: OtelConfig, options: TracingOptions): Promise<TracingHandle> {
  if (!config.enabled) return { tracer: noopTracer, shutdown: () => Promise.resolve() };
  if (config.endpoint === undefined) {
    throw new TypeError("telemetry.otel.endpoint is required when telemetry.otel.enabled is true");
  }
  const { log } = options;
  const url = otlpTracesUrl(config.endpoint);
  /** host:port only: never the userinfo, path or query of the endpoint. */
  const collector = allowPatternForUrl(url);
  if (options.airgap?.enforce && !collectorAllowed(collector, options.airgap.allow)) {
    log.warn(
      { otel: { collector } },
      `airgap.enforce is on and telemetry.otel.endpoint is not on airgap.allow: every export will be ` +
        `refused. Add "${collector}" to airgap.allow`,
    );
  }

  const [api, sdk, otlp, resources] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);

  const warnFailure = rateLimitedWarn(log, collector);
  const otlpExporter = new otlp.OTLPTraceExporter({ url, timeoutMillis: REQUEST_TIMEOUT_MS });
  const exporter: SpanExporter = {
    export(spans, done) {
      otlpExporter.export(spans, (result) => {
        if (result.code !== EXPORT_SUCCESS) warnFailure(result.error, spans.length);
        done(result);
      });
    },
    shutdown: () => otlpExporter.shutdown(),
    forceFlush: () => otlpExporter.forceFlush(),
  };
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({
      "service.name": SERVICE_NAME,
      "service.version": options.serviceVersion,
    }),
    spanLimits: { attributeValueLengthLimit: MAX_ATTRIBUTE_LENGTH },
    spanProcessors: [
      new sdk.BatchSpanProcessor({
        exporter,
        maxQueueSize: MAX_QUEUE,
        maxExportBatchSize: MAX_BATCH,
        scheduledDelayMillis: SCHEDULED_DELAY_MS,
        exportTimeoutMillis: BATCH_TIMEOUT_MS,
      }),
    ],
  });
  const tracer = new OtelTracer(provider.getTracer(SERVICE_NAME, options.serviceVersion), api.ROOT_CONTEXT);
  log.info({ otel: { collector } }, "OpenTelemetry trace export on");

  const flushTimeoutMs = options.flushTimeoutMs ?? FLUSH_TIMEOUT_MS;
  let closing: Promise<void> | undefined;
  return {
    tracer,
    shutdown() {
      closing ??= (async () => {
        tracer.stop();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), flushTimeoutMs);
          timer.unref();
        });
        const flushed = provider.shutdown().then(
          () => "done" as const,
          () => "failed" as const, // the export failure itself was logged by the exporter wrapper
        );
        const outcome = await Promise.race([flushed, timeout]);
        clearTimeout(timer);
        if (outcome !== "done") {
          // The processor skips the exporter's shutdown when its last flush fails or is cut short.
          otlpExporter.shutdown().catch(() => undefined);
        }
        if (outcome === "timeout") {
          log.warn(
            { otel: { collector, flushTimeoutMs } },
            "OpenTelemetry flush did not finish in time at shutdown; unsent spans dropped",
          );
        }
      })();
      return closing;
    },
  };
}

/** Records spans through a private tracer. Never throws into the engine. */
class OtelTracer implements EngineTracer {
  readonly #tracer: Tracer;
  readonly #root: Context;
  #stopped = false;

  constructor(tracer: Tracer, root: Context) {
    this.#tracer = tracer;
    this.#root = root;
  }

  /** No new spans once shutdown began (they could not be exported anyway). */
  stop(): void {
    this.#stopped = true;
  }

  action(actor: TracedActor, action: string): SpanEnd {
    return this.#start(SPAN_NAMES.action, actor, { [SPAN_ATTRIBUTES.action]: action });
  }

  wake(actor: TracedActor): SpanEnd {
    return this.#start(SPAN_NAMES.wake, actor, {});
  }

  sleep(actor: TracedActor, reason: string): SpanEnd {
    return this.#start(SPAN_NAMES.sleep, actor, { [SPAN_ATTRIBUTES.stopReason]: reason });
  }

  #start(name: string, actor: TracedActor, extra: Record<string, string>): SpanEnd {
    if (this.#stopped) return noEnd;
    let span: Span;
    try {
      span = this.#tracer.startSpan(
        name,
        {
          attributes: {
            [SPAN_ATTRIBUTES.actorName]: actor.name,
            [SPAN_ATTRIBUTES.actorId]: actor.actorId,
            ...extra,
          },
        },
        this.#root,
      );
    } catch {
      return noEnd;
    }
    let ended = false;
    return (error?: unknown) => {
      if (ended) return;
      ended = true;
      try {
        const outcome = actionOutcome(error);
        span.setAttribute(SPAN_ATTRIBUTES.outcome, outcome);
        if (error !== undefined) span.setAttribute(SPAN_ATTRIBUTES.errorCode, errorCode(error));
        // A UserError is the actor answering "no" on purpose, not a fault: status stays unset.
        if (outcome === "error") span.setStatus({ code: STATUS_ERROR });
        span.end();
      } catch {
        // tracing must never break an action
      }
    };
  }
}

const noEnd: SpanEnd = () => {};

/** The code a client would see: never the message (it may quote arguments or secrets). */
function errorCode(error: unknown): string {
  if (error instanceof EnclaveError || error instanceof UserError) return error.code;
  return Errors.internal.code;
}

function collectorAllowed(collector: string, allow: readonly string[]): boolean {
  const colon = collector.lastIndexOf(":");
  const host = collector.slice(0, colon);
  const port = Number(collector.slice(colon + 1));
  if (isLoopbackHost(host)) return true;
  try {
    return isAllowed(allow.map(parseAllowPattern), host, port);
  } catch {
    return false; // an invalid pattern: the egress audit refuses to start anyway
  }
}

/** Logs export failures at warn, the first at once and then at most once per interval. */
function rateLimitedWarn(log: TracingLogger, collector: string): (error: unknown, spans: number) => void {
  let lastAt = -Infinity;
  let failures = 0;
  let dropped = 0;
  return (error, spans) => {
    failures++;
    dropped += spans;
    const now = Date.now();
    if (now - lastAt < WARN_INTERVAL_MS) return;
    lastAt = now;
    try {
      log.warn(
        { otel: { collector, error: describeError(error), failures, droppedSpans: dropped } },
        "OpenTelemetry export failed; spans dropped",
      );
    } catch {
      // a broken logger must not break export
    }
    failures = 0;
    dropped = 0;
  };
}

/** A short, credential-free description: the error's code and the first line of its message. */
function describeError(error: unknown): { code?: string | number; message: string } {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  const raw = typeof e?.message === "string" ? e.message : String(error ?? "export failed");
  const message = (raw.split("\n")[0] ?? "")
    .replace(/\/\/[^/\s@]*@/g, "//") // URL userinfo
    .slice(0, 200);
  const code = e?.code;
  return typeof code === "string" || typeof code === "number" ? { code, message } : { message };
}
