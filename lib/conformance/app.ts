/**
 * The conformance actor types and the runner that hosts them. The engine is standalone (it has
 * no actor code), so the suite brings its own: `startConformanceRunner(endpoint)` joins the
 * engine as a runner (`registry.start({ endpoint })`) and hosts `enclaveConformance`. Vendors
 * who prefer to deploy it themselves run `conformance/app/main.mjs` with ENCLAVE_ENDPOINT set.
 *
 * The actor records what the suite needs to see from outside: a count (state), KV entries,
 * scheduled calls that fired (with when), and a boot id that changes on every wake (so a test
 * can tell that an actor really slept).
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { actor } from "../actor/index.js";
import { UserError } from "../errors.js";
import { startRunner, type EnclaveRunner } from "../runner/runner.js";
import { setup } from "../setup.js";
import { createLogger } from "../telemetry/index.js";
import { workspace } from "../workspace/index.js";

/** The actor type name the suite uses; vendors' own types are never touched. */
export const CONFORMANCE_ACTOR = "enclaveConformance";
/** The workspace type the suite drives (base software, the conformance sleep timeout). */
export const CONFORMANCE_WORKSPACE = "enclaveConformanceWorkspace";
/** Idle time before a conformance actor sleeps (its own option, whatever the engine's default). */
export const CONFORMANCE_SLEEP_TIMEOUT_MS = 1000;
/** KV keys the actor writes are under this prefix. */
const KV_PREFIX = "conformance:";

export interface Fire {
  tag: string;
  at: number;
}

export interface Snapshot {
  count: number;
  fires: Fire[];
  bootId: string;
  wakes: number;
}

export const conformanceActor = actor({
  state: { count: 0, fires: [] as Fire[], wakes: 0 },
  createVars: () => ({ bootId: randomBytes(8).toString("hex") }),
  onWake: (c) => {
    c.state.wakes += 1;
  },
  actions: {
    increment: (c, amount: number = 1) => {
      if (typeof amount !== "number" || !Number.isFinite(amount)) {
        throw new UserError("amount must be a number", { code: "invalid_amount" });
      }
      c.state.count += amount;
      c.broadcast("changed", c.state.count);
      return c.state.count;
    },
    snapshot: (c): Snapshot => ({
      count: c.state.count,
      fires: c.state.fires,
      bootId: c.vars.bootId,
      wakes: c.state.wakes,
    }),
    kvPut: async (c, key: string, value: string) => {
      await c.kv.put(KV_PREFIX + key, value);
      return true;
    },
    kvGet: async (c, key: string) => (await c.kv.getText(KV_PREFIX + key)) ?? null,
    /** Calls `fired(tag)` after `ms` milliseconds (persisted; wakes the actor). */
    scheduleAfter: async (c, ms: number, tag: string) => c.schedule.after(ms, "fired", tag),
    /** Calls `fired(tag)` at epoch ms `at`. */
    scheduleAt: async (c, at: number, tag: string) => c.schedule.at(at, "fired", tag),
    pending: async (c) => (await c.schedule.list()).length,
    fired: (c, tag: string) => {
      c.state.fires.push({ tag, at: Date.now() });
      c.broadcast("fired", tag);
      return c.state.fires.length;
    },
    /** Binary values round-trip as `{ $bytes }`. */
    echoBytes: (_c, bytes: Uint8Array) => bytes,
    /** A UserError reaches the caller as is. */
    userError: () => {
      throw new UserError("a deliberate user error", { code: "conformance_user_error" });
    },
    /** Any other error: a generic internal error with a correlation id (details only in the log). */
    internalError: () => {
      throw new Error("conformance: a deliberate internal error (expected in the log)");
    },
  },
  onRequest: (c, request) => {
    const url = new URL(request.url);
    return new Response(
      JSON.stringify({
        path: url.pathname,
        method: request.method,
        count: c.state.count,
        // Never the value: the engine must not pass the caller's credential to actor code.
        sawAuthorization: request.headers.has("authorization"),
      }),
      { headers: { "content-type": "application/json" } },
    );
  },
  options: { sleepTimeout: CONFORMANCE_SLEEP_TIMEOUT_MS },
});

export const conformanceWorkspace = workspace({
  options: { sleepTimeout: CONFORMANCE_SLEEP_TIMEOUT_MS },
  // The preview cases' guest server, back on every boot once a case has written it.
  startup: [{ command: "node", args: ["/home/user/conformance-server.js"] }],
});

export const conformanceRegistry = setup({
  use: { enclaveConformance: conformanceActor, enclaveConformanceWorkspace: conformanceWorkspace },
});

export interface ConformanceRunnerOptions {
  /** `http://NAMESPACE:SECRET_TOKEN@host:port`: a secret token of the namespace (or the admin token). */
  endpoint: string;
  /** Where the runner logs (default: pino at warn on stderr). */
  logger?: Logger;
  /** A label the engine logs for this runner. */
  runnerName?: string;
  /** Reconnection backoff; default 100 ms doubling to 1 s, so restarts are noticed quickly. */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /** Aborting it gives up connecting (start rejects) or closes the runner. */
  signal?: AbortSignal;
}

/**
 * Joins the engine at `endpoint` as a runner hosting the conformance actor types (what
 * `conformanceRegistry.start({ endpoint })` does, with a shorter backoff and an abort signal).
 */
export function startConformanceRunner(options: ConformanceRunnerOptions): Promise<EnclaveRunner> {
  return startRunner({
    use: conformanceRegistry.use,
    endpoint: options.endpoint,
    log: options.logger ?? createLogger({ level: "warn", destination: process.stderr }),
    runnerName: options.runnerName ?? "enclave-conformance",
    minReconnectDelayMs: options.reconnect?.minDelayMs ?? 100,
    maxReconnectDelayMs: options.reconnect?.maxDelayMs ?? 1000,
    closeTimeoutMs: 15_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
