/** The context `c` handed to every hook and action. */
import type { Logger } from "pino";

export interface Conn<CS = unknown> {
  readonly id: string;
  /** The params the client passed to `connect(params)`. */
  readonly params: unknown;
  /** Per-connection state from `createConnState`. */
  state: CS;
  /** Sends an event to this connection only. */
  send(event: string, ...args: unknown[]): void;
  /** Closes the connection. */
  disconnect(reason?: string): void;
}

export interface KvPutOptions {
  /** Store text as UTF-8; `get` then returns a string. Default: inferred from the value. */
  type?: "text" | "bytes";
}

export interface KvEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/**
 * Per-actor key-value store. Keys and values are strings or bytes; strings are stored as UTF-8.
 * Writes are durable when their promise resolves and always before the action's response.
 */
export interface ActorKv {
  get(key: string | Uint8Array): Promise<Uint8Array | undefined>;
  getText(key: string | Uint8Array): Promise<string | undefined>;
  getMany(keys: (string | Uint8Array)[]): Promise<(Uint8Array | undefined)[]>;
  put(key: string | Uint8Array, value: string | Uint8Array): Promise<void>;
  putMany(entries: [string | Uint8Array, string | Uint8Array][]): Promise<void>;
  delete(key: string | Uint8Array): Promise<void>;
  deleteMany(keys: (string | Uint8Array)[]): Promise<void>;
  /** Entries whose key starts with `prefix`, in key order. */
  list(prefix?: string | Uint8Array, options?: { limit?: number; reverse?: boolean }): Promise<KvEntry[]>;
}

export interface ScheduledCall {
  id: string;
  /** Epoch milliseconds when the call is due. */
  at: number;
  action: string;
  args: unknown[];
  createdAt: number;
}

export interface ActorSchedule {
  /** Calls `action(...args)` on this actor after `ms`; persisted; wakes the actor. Returns the call id. */
  after(ms: number, action: string, ...args: unknown[]): Promise<string>;
  /** Calls `action(...args)` at epoch ms `timestamp`. Returns the call id. */
  at(timestamp: number, action: string, ...args: unknown[]): Promise<string>;
  /** Cancels a scheduled call; true if it was pending. */
  cancel(id: string): Promise<boolean>;
  /** Pending calls, soonest first. */
  list(): Promise<ScheduledCall[]>;
}

export interface ActorContext<S = unknown, V = unknown, CS = unknown> {
  /** Persisted state: mutate it; changes are committed before the action's response. */
  state: S;
  /** Ephemeral values, rebuilt on every wake. */
  vars: V;
  readonly kv: ActorKv;
  readonly schedule: ActorSchedule;
  readonly conns: ReadonlyMap<string, Conn<CS>>;
  readonly key: string[];
  readonly name: string;
  readonly actorId: string;
  readonly namespace: string;
  readonly log: Logger;
  /** Sends an event to every connection subscribed to it. */
  broadcast(event: string, ...args: unknown[]): void;
  /** Asks the actor to sleep once the current work is done. */
  sleep(): void;
  /** Destroys the actor once the current work is done: state, KV and scheduled calls are removed. */
  destroy(): void;
  /** Keeps the actor awake until the promise settles; returns it. */
  keepAwake<T>(promise: Promise<T>): Promise<T>;
  /** Lets the promise finish before the actor sleeps or shuts down, without keeping it awake. */
  waitUntil(promise: Promise<unknown>): void;
}

export interface ActionContext<S = unknown, V = unknown, CS = unknown> extends ActorContext<S, V, CS> {
  /** The connection the action came in on, if it came over a WebSocket. */
  readonly conn: Conn<CS> | undefined;
}

export interface ConnectContext<S = unknown, V = unknown, CS = unknown> extends ActorContext<S, V, CS> {
  /** The upgrade request's headers (lower-case names); credentials removed. */
  readonly headers: Readonly<Record<string, string>>;
}
