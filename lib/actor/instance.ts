/**
 * One awake actor: the `LiveActor` the engine drives and, at the same time, the context `c` that
 * actor code sees. Keeping both in one object (with lazily built parts) keeps an idle awake
 * actor to a few hundred bytes of heap.
 *
 * Output gate: an action's result is released only after the state it changed and every write
 * it started (KV, scheduled calls) are durable.
 */
import type { Duplex } from "node:stream";
import { finished } from "node:stream/promises";
import type { Logger } from "pino";
import { Errors, err } from "../errors.js";
import { withDeadline } from "../engine/deadlines.js";
import type {
  ActionCaller,
  ActorRecord,
  ActorServices,
  ConnTransport,
  LiveActor,
  StopReason,
} from "../engine/types.js";
import { actionOutcome } from "../telemetry/metrics.js";
import { decodeWire } from "../wire/index.js";
import { CloseCodes } from "../wire/protocol.js";
import type { ActionContext, ActorContext, ActorKv, ActorSchedule, Conn, ConnectContext } from "./context.js";
import type { ActorConfig, AnyAction } from "./definition.js";
import { ActorKvImpl, SystemKv } from "./kv.js";
import { ActorScheduleImpl } from "./schedule.js";
import { serializeState } from "./state-codec.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyConfig = ActorConfig<any, any, any, any, Record<string, AnyAction>>;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export interface ActorDefaults {
  sleepTimeout: number;
  actionTimeout: number;
}

class ConnImpl implements Conn {
  readonly id: string;
  readonly params: unknown;
  state: unknown = undefined;
  readonly transport: ConnTransport;
  events: Set<string> | undefined;

  constructor(transport: ConnTransport) {
    this.id = transport.id;
    this.params = transport.params;
    this.transport = transport;
  }
  send(event: string, ...args: unknown[]): void {
    this.transport.send({ t: "event", name: event, args });
  }
  disconnect(reason = "disconnected by the actor"): void {
    this.transport.close(CloseCodes.normal, reason);
  }
}

export class ActorInstance implements LiveActor, ActorContext {
  state: unknown = undefined;
  vars: unknown = undefined;
  readonly #config: AnyConfig;
  readonly #record: ActorRecord;
  readonly #services: ActorServices;
  readonly #defaults: ActorDefaults;
  /** JSON of the state as last written (or being written). */
  #snapshot = "null";
  #inflight = 0;
  #keepAwake = 0;
  #lastActive = Date.now();
  #stopping = false;
  #conns: Map<string, ConnImpl> | undefined;
  #pending: Set<Promise<void>> | undefined;
  #stateWriting = false;
  /** The last write of `#snapshot` failed: write it again at the next commit. */
  #unsaved = false;
  #nextState: { json: string; resolve: () => void; reject: (e: unknown) => void } | undefined;
  #waitUntil: Set<Promise<unknown>> | undefined;
  #drained: (() => void) | undefined;
  #kv: ActorKv | undefined;
  #schedule: ActorSchedule | undefined;

  private constructor(
    config: AnyConfig,
    record: ActorRecord,
    services: ActorServices,
    defaults: ActorDefaults,
  ) {
    this.#config = config;
    this.#record = record;
    this.#services = services;
    this.#defaults = defaults;
  }

  /** Boots an actor: first-time initialization if needed, then onWake. */
  static async boot(
    config: AnyConfig,
    record: ActorRecord,
    services: ActorServices,
    defaults: ActorDefaults,
  ): Promise<ActorInstance> {
    const self = new ActorInstance(config, record, services, defaults);
    self.#inflight++;
    try {
      // The hooks see the instance as their context (its state/vars are typed by the definition).
      const ctx = self as unknown as ActorContext<never, never, unknown>;
      if (!record.initialized) {
        const input = record.input;
        self.state = config.createState ? await config.createState(ctx, input) : cloneInitial(config.state);
        // Vars come after the state so createVars can build on it (as its context type promises).
        await self.#createVars();
        if (config.onCreate) await config.onCreate(self, input);
        await self.#settlePending();
        const json = self.#serialize();
        await services.initialize(textEncoder.encode(json));
        self.#snapshot = json;
      } else {
        const bytes = await services.loadState();
        if (bytes) {
          self.#snapshot = textDecoder.decode(bytes);
          self.state = decodeWire(self.#snapshot);
        } else {
          self.state = cloneInitial(config.state);
        }
        await self.#createVars();
      }
      if (config.onWake) await config.onWake(self);
      await self.#commit();
      return self;
    } finally {
      self.#done();
    }
  }

  // ---- ActorContext ------------------------------------------------------------------------

  get kv(): ActorKv {
    this.#kv ??= new ActorKvImpl(this.#services, (p) => this.#track(p));
    return this.#kv;
  }

  /** For Enclave's own modules only (see `systemKv`). */
  systemKv(scope: string): SystemKv {
    return new SystemKv(this.#services, (p) => this.#track(p), scope);
  }
  get schedule(): ActorSchedule {
    this.#schedule ??= new ActorScheduleImpl(
      this.#services,
      (name) => Object.hasOwn(this.#config.actions ?? {}, name),
      (p) => this.#track(p),
    );
    return this.#schedule;
  }
  get conns(): ReadonlyMap<string, Conn> {
    this.#conns ??= new Map();
    return this.#conns;
  }
  get key(): string[] {
    return this.#record.key;
  }
  get name(): string {
    return this.#record.name;
  }
  get actorId(): string {
    return this.#record.actorId;
  }
  get namespace(): string {
    return this.#record.namespace;
  }
  get log(): Logger {
    return this.#services.log;
  }

  broadcast(event: string, ...args: unknown[]): void {
    if (!this.#conns) return;
    for (const conn of this.#conns.values()) {
      if (conn.events?.has(event)) conn.send(event, ...args);
    }
  }
  sleep(): void {
    this.#services.requestSleep();
  }
  destroy(): void {
    this.#services.requestDestroy();
  }
  keepAwake<T>(promise: Promise<T>): Promise<T> {
    this.#keepAwake++;
    const done = () => {
      this.#keepAwake--;
      this.#lastActive = Date.now();
    };
    promise.then(done, done);
    return promise;
  }
  waitUntil(promise: Promise<unknown>): void {
    this.#waitUntil ??= new Set();
    const set = this.#waitUntil;
    const tracked = promise.catch((e: unknown) => this.log.warn({ err: e }, "waitUntil promise rejected"));
    set.add(tracked);
    void tracked.finally(() => set.delete(tracked));
  }

  // ---- LiveActor -----------------------------------------------------------------------------

  get sleepTimeout(): number {
    return this.#config.options?.sleepTimeout ?? this.#defaults.sleepTimeout;
  }

  idleSince(): number | undefined {
    if (this.#inflight > 0 || this.#keepAwake > 0 || (this.#conns?.size ?? 0) > 0) return undefined;
    if (this.#config.options?.noSleep) return undefined;
    return this.#lastActive;
  }

  async action(name: string, args: unknown[], connId?: string, caller?: ActionCaller): Promise<unknown> {
    if (this.#stopping) throw err(Errors.stopping, "The actor is going to sleep; retry the action");
    const actions = this.#config.actions ?? {};
    const fn = Object.hasOwn(actions, name) ? actions[name] : undefined;
    if (!fn) {
      throw err(Errors.actionNotFound, `The actor type "${this.name}" has no action "${name}"`, {
        action: name,
        actions: Object.keys(actions),
      });
    }
    const conn = connId === undefined ? undefined : this.#conns?.get(connId);
    const ctx = conn ? contextWith<ActionContext>(this, "conn", conn) : (this as unknown as ActionContext);
    const gate = caller !== undefined && connId === undefined ? this.#config.onBeforeConnect : undefined;
    this.#inflight++;
    const run = (async () => {
      try {
        // An HTTP action is a one-call connection: the same hook decides whether it may run.
        if (gate) await gate(contextWith<ConnectContext>(this, "headers", caller!.headers), caller!.params);
        return await fn(ctx, ...args);
      } finally {
        // The gate: whatever the action did (or failed halfway through) is durable first.
        await this.#commit();
      }
    })();
    void run.then(
      () => this.#done(),
      () => this.#done(),
    );
    const started = performance.now();
    const endSpan = this.#services.tracer?.action(this.#record, name);
    const answer = this.#deadline(run, name, started);
    const metrics = this.#services.metrics;
    answer.then(
      () => {
        metrics.actionDone("ok", performance.now() - started);
        endSpan?.();
      },
      (e: unknown) => {
        metrics.actionDone(actionOutcome(e), performance.now() - started);
        endSpan?.(e);
      },
    );
    return answer;
  }

  async connect(transport: ConnTransport): Promise<void> {
    if (this.#stopping) throw err(Errors.stopping, "The actor is going to sleep; reconnect");
    const conns = (this.#conns ??= new Map());
    if (conns.size >= this.#services.limits.connectionsPerActor) {
      throw err(Errors.connectionRejected, "The actor has too many open connections", {
        limit: this.#services.limits.connectionsPerActor,
      });
    }
    this.#inflight++;
    try {
      const cctx = contextWith<ConnectContext>(this, "headers", transport.headers);
      if (this.#config.onBeforeConnect) await this.#config.onBeforeConnect(cctx, transport.params);
      const conn = new ConnImpl(transport);
      if (this.#config.createConnState)
        conn.state = await this.#config.createConnState(cctx, transport.params);
      conns.set(conn.id, conn);
      if (this.#config.onConnect) await this.#config.onConnect(this, conn);
    } finally {
      await this.#commit().finally(() => this.#done());
    }
  }

  subscribe(connId: string, event: string, on: boolean): void {
    const conn = this.#conns?.get(connId);
    if (!conn) return;
    if (on) (conn.events ??= new Set()).add(event);
    else conn.events?.delete(event);
  }

  async disconnect(connId: string): Promise<void> {
    const conn = this.#conns?.get(connId);
    if (!conn) return;
    this.#conns?.delete(connId);
    if (!this.#config.onDisconnect) {
      this.#lastActive = Date.now();
      return;
    }
    this.#inflight++;
    try {
      await this.#config.onDisconnect(this, conn);
    } catch (e) {
      this.log.warn({ err: e, connId }, "onDisconnect failed");
    } finally {
      await this.#commit()
        .catch((e: unknown) => this.log.error({ err: e }, "saving state after onDisconnect failed"))
        .finally(() => this.#done());
    }
  }

  async request(request: Request): Promise<Response> {
    if (this.#stopping) throw err(Errors.stopping, "The actor is going to sleep; retry the request");
    const handler = this.#config.onRequest;
    if (!handler)
      throw err(Errors.noRequestHandler, `The actor type "${this.name}" has no onRequest handler`);
    this.#inflight++;
    const run = (async () => {
      try {
        const res = await handler(this, request);
        if (!(res instanceof Response)) throw new TypeError("onRequest must return a Response");
        return res;
      } finally {
        await this.#commit();
      }
    })();
    void run.then(
      () => this.#done(),
      () => this.#done(),
    );
    return this.#deadline(run, "onRequest", performance.now());
  }

  /** Exists only when the definition has onTunnel (see LiveActor.tunnel). */
  get tunnel(): ((target: string) => Promise<Duplex>) | undefined {
    const hook = this.#config.onTunnel;
    if (!hook) return undefined;
    return async (target: string) => {
      if (this.#stopping) throw err(Errors.stopping, "The actor is going to sleep; retry");
      const stream = await hook(this, target);
      // Open streams keep the actor awake; a sleep forced on it ends them with the VM.
      void this.keepAwake(finished(stream).catch(() => undefined));
      return stream;
    };
  }

  async stop(reason: StopReason): Promise<void> {
    this.#stopping = true;
    await this.#drain(this.#config.options?.actionTimeout ?? this.#defaults.actionTimeout);
    // The hook runs while connections are still open, so it can tell them (e.g. `vmShutdown`).
    const hook = reason === "destroy" ? this.#config.onDestroy : this.#config.onSleep;
    if (hook) {
      try {
        await hook(this);
      } catch (e) {
        this.log.error({ err: e, reason }, `${reason === "destroy" ? "onDestroy" : "onSleep"} failed`);
      }
    }
    const code = reason === "destroy" ? CloseCodes.destroyed : CloseCodes.goingAway;
    const why =
      reason === "destroy" ? "actor destroyed" : reason === "sleep" ? "actor sleeping" : "engine stopping";
    for (const conn of [...(this.#conns?.values() ?? [])]) {
      conn.transport.close(code, why);
      this.#conns?.delete(conn.id);
      if (this.#config.onDisconnect) {
        await Promise.resolve(this.#config.onDisconnect(this, conn)).catch((e: unknown) =>
          this.log.warn({ err: e }, "onDisconnect failed"),
        );
      }
    }
    if (this.#waitUntil) await Promise.all([...this.#waitUntil]);
    if (reason === "destroy") await this.#settlePending();
    else await this.#commit();
  }

  // ---- internals -----------------------------------------------------------------------------

  /** Ephemeral vars, rebuilt on every boot once the state is there. */
  async #createVars(): Promise<void> {
    const config = this.#config;
    const ctx = this as unknown as ActorContext<never, never, unknown>;
    this.vars = config.createVars ? await config.createVars(ctx) : cloneInitial(config.vars);
  }

  #serialize(): string {
    const json = serializeState(this.state);
    if (json.length > this.#services.limits.stateBytes / 4) {
      // Only measure bytes when the text could be over the limit (UTF-8 is at most 4 bytes a char).
      const size = textEncoder.encode(json).length;
      if (size > this.#services.limits.stateBytes) {
        throw err(
          Errors.stateTooLarge,
          `The actor state is ${size} bytes; the limit is ${this.#services.limits.stateBytes}`,
          {
            limit: this.#services.limits.stateBytes,
          },
        );
      }
    }
    return json;
  }

  /** Writes the state if it changed, then waits for every write in flight. */
  async #commit(): Promise<void> {
    let json: string;
    try {
      json = this.#serialize();
    } catch (e) {
      // Refused (too large, not serializable): go on from the last saved state, as if the change
      // had not been made, instead of failing every later action on the same bad state.
      this.state = decodeWire(this.#snapshot);
      await this.#settlePending().catch(() => undefined);
      throw e;
    }
    if (json !== this.#snapshot || this.#unsaved) {
      this.#snapshot = json;
      this.#unsaved = false;
      this.#writeState(json);
    }
    await this.#settlePending();
  }

  /**
   * One state write in flight per actor; commits that arrive meanwhile share one follow-up write
   * of the newest state, so a hot actor writes its state once or twice per group commit instead
   * of once per action. Every commit still waits for a write that contains its changes.
   */
  #writeState(json: string): void {
    if (this.#stateWriting) {
      if (this.#nextState) {
        this.#nextState.json = json;
      } else {
        let settle!: { resolve: () => void; reject: (e: unknown) => void };
        const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
        this.#nextState = { json, ...settle };
        this.#track(done);
      }
      return;
    }
    this.#stateWriting = true;
    const p = this.#services.write(textEncoder.encode(json), []).then(
      () => this.#stateWritten(),
      (e: unknown) => {
        // Not saved: the next commit writes the state again.
        if (this.#snapshot === json) this.#unsaved = true;
        this.#stateWritten();
        throw e;
      },
    );
    this.#track(p);
  }

  #stateWritten(): void {
    this.#stateWriting = false;
    const next = this.#nextState;
    if (!next) return;
    this.#nextState = undefined;
    this.#stateWriting = true;
    this.#services.write(textEncoder.encode(next.json), []).then(
      () => {
        this.#stateWritten();
        next.resolve();
      },
      (e: unknown) => {
        if (this.#snapshot === next.json) this.#unsaved = true;
        this.#stateWritten();
        next.reject(e);
      },
    );
  }

  #track(p: Promise<void>): Promise<void> {
    const set = (this.#pending ??= new Set());
    set.add(p);
    const drop = () => {
      set.delete(p);
      // An idle actor keeps no empty set around (it is most of an idle actor's heap otherwise).
      if (set.size === 0 && this.#pending === set) this.#pending = undefined;
    };
    p.then(drop, drop);
    return p;
  }

  async #settlePending(): Promise<void> {
    while (this.#pending && this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #done(): void {
    this.#inflight--;
    this.#lastActive = Date.now();
    if (this.#inflight === 0 && this.#drained) {
      this.#drained();
      this.#drained = undefined;
    }
  }

  /**
   * `run`, or actor.action_timed_out once the action timeout has passed since `started` (a
   * `performance.now()` time). One shared timer per timeout value, not one per call.
   */
  #deadline<T>(run: Promise<T>, what: string, started: number): Promise<T> {
    const ms = this.#config.options?.actionTimeout ?? this.#defaults.actionTimeout;
    return withDeadline(run, ms, started, () =>
      err(Errors.actionTimedOut, `"${what}" did not finish within ${ms} ms`, { timeoutMs: ms }),
    );
  }

  /** Waits for in-flight work to finish, at most `ms`. */
  async #drain(ms: number): Promise<void> {
    if (this.#inflight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => (this.#drained = r)),
      new Promise<void>((r) => (timer = setTimeout(r, ms))),
    ]);
    clearTimeout(timer);
  }
}

/**
 * The actor's context plus one extra property (`conn` for actions over a connection, `headers`
 * while connecting). Reads and writes go to the actor itself, so `c.state = ...` works.
 */
function contextWith<T>(actor: ActorInstance, extra: string, value: unknown): T {
  return new Proxy(actor, {
    get(target, prop) {
      if (prop === extra) return value;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
    set: (target, prop, v) => Reflect.set(target, prop, v, target),
  }) as unknown as T;
}

function cloneInitial<T>(value: T): T {
  if (value === undefined || value === null || typeof value !== "object") return value;
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
}
