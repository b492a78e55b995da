/**
 * The engine configuration: this zod schema is the source of truth. The JSON Schema in
 * `schemas/engine-config.schema.json` is generated from it; the docs list it.
 * Every object is strict: an unknown key is an error with its path.
 */
import { z } from "zod";

const port = z.number().int().min(0).max(65535);
const bytes = (def: number) => z.number().int().positive().default(def);

export const LimitsSchema = z
  .strictObject({
    actorKeyBytes: bytes(1024).describe("Largest actor key, all parts together, UTF-8 bytes"),
    actorKeyParts: bytes(16).describe("Most parts in an actor key"),
    inputBytes: bytes(1_048_576).describe("Largest actor input (JSON)"),
    stateBytes: bytes(1_048_576).describe("Largest serialized actor state"),
    kvKeyBytes: bytes(2048).describe("Largest KV key"),
    kvValueBytes: bytes(131_072).describe("Largest KV value"),
    kvBatchEntries: bytes(128).describe("Most entries in one KV batch call"),
    kvBatchBytes: bytes(1_048_576).describe("Largest KV batch (keys and values together)"),
    messageBytes: bytes(1_048_576).describe("Largest HTTP body or WebSocket message"),
    alarmsPerActor: bytes(1000).describe("Most pending scheduled calls per actor"),
    connectionsPerActor: bytes(10_000).describe("Most open connections per actor"),
  })
  .prefault({});

export const EngineConfigSchema = z
  .strictObject({
    storage: z
      .strictObject({
        driver: z
          .enum(["fileSystem", "memory"])
          .default("fileSystem")
          .describe("fileSystem: classic-level on disk (durable). memory: ephemeral, for tests"),
        fileSystem: z
          .strictObject({
            path: z.string().min(1).default("./.enclave/data").describe("Data directory"),
          })
          .prefault({}),
      })
      .prefault({}),
    gateway: z
      .strictObject({
        host: z.string().min(1).default("0.0.0.0").describe("Address the API listens on"),
        port: port.default(6420).describe("Port of the API (0 picks a free port)"),
      })
      .prefault({}),
    auth: z
      .strictObject({
        adminToken: z.string().min(16).optional().describe("Admin token (secret); at least 16 characters"),
        adminTokenFile: z.string().min(1).optional().describe("File holding the admin token (secret)"),
      })
      .prefault({}),
    actors: z
      .strictObject({
        sleepTimeoutMs: z
          .number()
          .int()
          .positive()
          .default(30_000)
          .describe("Default idle time before sleep"),
        actionTimeoutMs: z.number().int().positive().default(60_000).describe("Default action timeout"),
      })
      .prefault({}),
    limits: LimitsSchema,
    runners: z
      .strictObject({
        placementTimeoutMs: z
          .number()
          .int()
          .positive()
          .default(10_000)
          .describe("How long a request waits for a runner hosting its actor type"),
        heartbeatMs: z
          .number()
          .int()
          .min(100)
          .default(5_000)
          .describe("How often the engine pings each runner; three missed pings drop it"),
      })
      .prefault({}),
    metrics: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe("Serve Prometheus metrics (text format) on a separate listener"),
        host: z.string().min(1).default("127.0.0.1").describe("Address the metrics listener binds to"),
        port: port.default(6421).describe("Port of the metrics listener (0 picks a free port)"),
      })
      .prefault({}),
    telemetry: z
      .strictObject({
        otel: z
          .strictObject({
            enabled: z
              .boolean()
              .default(false)
              .describe("Export traces to telemetry.otel.endpoint (opt-in; see airgap.allow)"),
            endpoint: z
              .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
              .optional()
              .describe("OTLP/HTTP collector in the perimeter (http(s) URL); required if enabled"),
          })
          .prefault({}),
      })
      .superRefine((telemetry, ctx) => {
        if (telemetry.otel.enabled && telemetry.otel.endpoint === undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["otel", "endpoint"],
            message:
              "is required when telemetry.otel.enabled is true: name the OTLP/HTTP collector inside " +
              "the perimeter (e.g. http://otel-collector.internal:4318), or set telemetry.otel.enabled to false",
          });
        }
      })
      .prefault({}),
    airgap: z
      .strictObject({
        enforce: z.boolean().default(false).describe("Refuse outbound connections not on the allow list"),
        allow: z.array(z.string().min(1)).default([]).describe("host:port patterns allowed out"),
      })
      .prefault({}),
    log: z
      .strictObject({
        level: z
          .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
          .default("info")
          .describe("Log level"),
      })
      .prefault({}),
    shutdown: z
      .strictObject({
        timeoutMs: z.number().int().positive().default(30_000).describe("Graceful shutdown deadline"),
      })
      .prefault({}),
    dev: z
      .boolean()
      .default(false)
      .describe("Development mode: a fixed, well-known admin token. Never in production"),
  })
  .prefault({});

/** The effective configuration (defaults applied). */
export type EngineConfig = z.output<typeof EngineConfigSchema>;
/**
 * What a file, the environment or `start(options)` may give (all optional). NonNullable: the
 * root's `.prefault({})` makes zod's input type `T | undefined`, which an interface cannot extend.
 */
export type EngineConfigInput = NonNullable<z.input<typeof EngineConfigSchema>>;
export type Limits = EngineConfig["limits"];

/** Keys whose values are secrets: redacted from `config show`, logs and errors. */
export const SECRET_PATHS: readonly string[] = ["auth.adminToken"];

/** The development token `--dev` uses. Well known on purpose, so never safe outside a laptop. */
export const DEV_ADMIN_TOKEN = "enclave-dev-admin-token-do-not-use-in-production";
