/**
 * The seam between the engine (directory, lifecycle, alarms, placement) and whatever runs actor
 * code: the in-process runtime (`lib/actor`) in embedded mode, a remote runner later. The engine
 * never imports actor code; a host implements these interfaces.
 */
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { Limits } from "../config/index.js";
import type { EngineMetrics } from "../telemetry/metrics.js";
import type { EngineTracer } from "../telemetry/tracing.js";

/** What the directory keeps about an actor. Times are epoch ms. */
export interface ActorRecord {
  actorId: string;
  name: string;
  key: string[];
  namespace: string;
  createdAt: number;
  /** Set once the actor's initial state and onCreate have committed. */
  initialized: boolean;
  /** The creation input, kept only until the actor is initialized. */
  input?: unknown;
  destroyedAt?: number;
}

export interface ScheduledCallRecord {
  id: string;
  at: number;
  action: string;
  args: unknown[];
  createdAt: number;
}

export type KvOp = { type: "put"; key: Uint8Array; value: Uint8Array } | { type: "del"; key: Uint8Array };

/**
 * Storage and scheduling for one actor, provided by the engine. Every write resolves once durable.
 */
export interface ActorServices {
  readonly limits: Limits;
  readonly log: Logger;
  readonly metrics: EngineMetrics;
  /** Spans for actions (absent or `noopTracer` when tracing is off). */
  readonly tracer?: EngineTracer;
  loadState(): Promise<Uint8Array | undefined>;
  /**
   * Commits the initial state and marks the actor initialized, atomically. The state bytes are
   * handed over (the host does not modify them afterwards), so the store keeps them uncopied.
   */
  initialize(state: Uint8Array): Promise<void>;
  /** Commits a new state and/or KV ops atomically. The state bytes are handed over, as above. */
  write(state: Uint8Array | undefined, kv: KvOp[]): Promise<void>;
  kvGet(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  kvList(
    prefix: Uint8Array,
    options: { limit?: number; reverse?: boolean },
  ): Promise<[Uint8Array, Uint8Array][]>;
  schedule(at: number, action: string, args: unknown[]): Promise<string>;
  cancelScheduled(id: string): Promise<boolean>;
  listScheduled(): Promise<ScheduledCallRecord[]>;
  /** Asks the engine to put this actor to sleep once current work is done. */
  requestSleep(): void;
  /** Asks the engine to destroy this actor once current work is done. */
  requestDestroy(): void;
  /**
   * For hosts that run actor code elsewhere (runner mode): the live actor is gone without having
   * stopped (its runner disconnected or stopped answering). The engine drops it at once, as if it
   * were asleep, and the next request or alarm starts it again. The host must fail the calls it
   * still has in flight on it. The engine provides this; a runtime never calls it.
   */
  lost?(): void;
}

/** A connection as the engine's transport sees it. */
export interface ConnTransport {
  readonly id: string;
  readonly params: unknown;
  readonly headers: Readonly<Record<string, string>>;
  /** Sends an already-built server message. */
  send(message: { t: "event"; name: string; args: unknown[] }): void;
  close(code: number, reason: string): void;
}

export type StopReason = "sleep" | "destroy" | "shutdown";

/** One awake actor, as the engine drives it. */
/**
 * Who called an action over HTTP: the connection params the client sent with it and the request
 * headers (credentials removed). With a caller, `onBeforeConnect` gates the action.
 */
export interface ActionCaller {
  params: unknown;
  headers: Readonly<Record<string, string>>;
}

export interface LiveActor {
  /**
   * Runs an action; resolves after its writes are durable (output gate). `caller` is given for
   * actions from a client outside a connection (HTTP): the actor's onBeforeConnect runs first.
   */
  action(name: string, args: unknown[], connId?: string, caller?: ActionCaller): Promise<unknown>;
  /** Accepts a connection (runs onBeforeConnect, createConnState, onConnect). */
  connect(transport: ConnTransport): Promise<void>;
  /** Subscribes or unsubscribes a connection to an event. */
  subscribe(connId: string, event: string, on: boolean): void;
  disconnect(connId: string): Promise<void>;
  /** Raw HTTP: the actor's onRequest handler. */
  request(request: Request): Promise<Response>;
  /**
   * A byte stream into the actor (its onTunnel hook), kept awake while open. Absent where the
   * host cannot carry one (runner mode) or the type has no hook.
   */
  tunnel?(target: string): Promise<Duplex>;
  /** When the actor became idle (epoch ms), or undefined while it must stay awake. */
  idleSince(): number | undefined;
  readonly sleepTimeout: number;
  /** Runs onSleep/onDestroy, flushes state, closes connections. `force` overrides keep-awake. */
  stop(reason: StopReason): Promise<void>;
}

/** Something that runs actor code: the embedded runtime or a remote runner. */
export interface ActorHost {
  /** Actor type names this host can run. */
  hasType(name: string): boolean;
  typeNames(): string[];
  /**
   * Boots an actor: runs createState/onCreate when `record.initialized` is false (committing via
   * `services.initialize`), then onWake.
   */
  start(record: ActorRecord, services: ActorServices): Promise<LiveActor>;
}
