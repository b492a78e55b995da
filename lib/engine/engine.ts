/**
 * The engine: owns the directory, the lifecycle of every actor (at most one live instance,
 * sleep when idle, wake on demand), scheduled calls and destruction. Actor code runs in a host
 * (`ActorHost`), reached only through the interfaces in types.ts.
 */
import type { Logger } from "pino";
import { noopMetrics, type EngineMetrics } from "../telemetry/metrics.js";
import { noopTracer, type EngineTracer } from "../telemetry/tracing.js";
import type { EngineConfig, Limits } from "../config/index.js";
import { Errors, err } from "../errors.js";
import { Subspace, packKey, prefixRange, unpackKey } from "../store/keys.js";
import type { BatchOp, Store } from "../store/types.js";
import { Alarms } from "./alarms.js";
import { checkStoreFormat } from "./format.js";
import { Directory, type ListOptions, normalizeKey } from "./directory.js";
import { encodeWire } from "../wire/index.js";
import type {
  ActionCaller,
  ActorHost,
  ActorRecord,
  ActorServices,
  ConnTransport,
  KvOp,
  LiveActor,
  ScheduledCallRecord,
  StopReason,
} from "./types.js";

interface Slot {
  record: ActorRecord;
  live?: LiveActor;
  waking?: Promise<LiveActor>;
  stopping?: Promise<void>;
}

export type ActorStatus = "running" | "sleeping" | "destroyed";

export interface EngineOptions {
  store: Store;
  host: ActorHost;
  config: EngineConfig;
  log: Logger;
  metrics?: EngineMetrics;
  tracer?: EngineTracer;
}

const textEncoder = new TextEncoder();
/** Store batches of buffers built here (see BatchOptions.owned). */
const OWNED = { owned: true } as const;

function stateKey(actorId: string): Uint8Array {
  return packKey([Subspace.state, actorId]);
}

/** KV keys are the actor's tuple prefix followed by the raw user key, so prefix scans are exact. */
function kvBase(actorId: string): Uint8Array {
  return packKey([Subspace.kv, actorId]);
}
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
/** The smallest key greater than every key starting with `prefix`. */
function strinc(prefix: Uint8Array): Uint8Array {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) throw new RangeError("no key follows a prefix of 0xff bytes");
  const out = prefix.slice(0, end);
  out[end - 1] = (out[end - 1] ?? 0) + 1;
  return out;
}

export class Engine {
  readonly store: Store;
  readonly host: ActorHost;
  readonly config: EngineConfig;
  readonly log: Logger;
  readonly metrics: EngineMetrics;
  readonly tracer: EngineTracer;
  readonly directory: Directory;
  readonly #alarms: Alarms;
  readonly #slots = new Map<string, Slot>();
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweepEvery = Infinity;
  #closing = false;
  #closed: Promise<void> | undefined;
  #ready = false;
  /** Clean-ups of destroyed actors' data still running; close() waits for them. */
  readonly #collecting = new Set<Promise<void>>();

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.host = options.host;
    this.config = options.config;
    this.log = options.log;
    this.metrics = options.metrics ?? noopMetrics;
    this.tracer = options.tracer ?? noopTracer;
    this.directory = new Directory(this.store);
    this.#alarms = new Alarms(this.store, (actorId, call) => this.#fireAlarm(actorId, call), this.log);
  }

  get limits(): Limits {
    return this.config.limits;
  }

  /** True once started and until close begins. */
  get ready(): boolean {
    return this.#ready && !this.#closing;
  }

  /** Number of awake actors. */
  get liveCount(): number {
    return this.#slots.size;
  }

  async start(): Promise<void> {
    await checkStoreFormat(
      this.store,
      this.config.storage.driver === "memory" ? "(memory)" : this.config.storage.fileSystem.path,
    );
    this.#alarms.start();
    this.#ready = true;
    this.#background(this.#resumeGarbage());
  }

  // ---- directory ---------------------------------------------------------------------------

  async getOrCreate(
    namespace: string,
    name: string,
    rawKey: unknown,
    input: unknown,
    mode: "getOrCreate" | "create",
  ): Promise<{ record: ActorRecord; created: boolean }> {
    this.#assertOpen();
    if (!this.host.hasType(name)) {
      throw err(Errors.actorTypeNotFound, `No actor type named "${name}" is registered`, {
        name,
        types: this.host.typeNames(),
      });
    }
    const key = normalizeKey(rawKey, this.limits);
    if (input !== undefined) {
      const size = textEncoder.encode(encodeWire(input)).length;
      if (size > this.limits.inputBytes) {
        throw err(
          Errors.inputTooLarge,
          `The actor input is ${size} bytes; the limit is ${this.limits.inputBytes}`,
          {
            limit: this.limits.inputBytes,
          },
        );
      }
    }
    return this.directory.getOrCreate(namespace, name, key, input, mode, async (record) => {
      // Boot at once so createState/onCreate run (and fail) for the creator.
      await this.#acquireRecord(record);
    });
  }

  /** The actor's record if it exists in this namespace and is not destroyed; else actor.not_found. */
  async getActor(namespace: string, actorId: string): Promise<ActorRecord> {
    const record = this.#slots.get(actorId)?.record ?? (await this.directory.get(actorId));
    if (!record || record.namespace !== namespace || record.destroyedAt !== undefined) {
      throw err(Errors.actorNotFound, undefined, { actorId });
    }
    return record;
  }

  listActors(
    namespace: string,
    options: ListOptions,
  ): Promise<{ records: ActorRecord[]; cursor: string | null }> {
    return this.directory.list(namespace, options);
  }

  status(record: ActorRecord): ActorStatus {
    if (record.destroyedAt !== undefined) return "destroyed";
    const slot = this.#slots.get(record.actorId);
    return slot?.live && !slot.stopping ? "running" : "sleeping";
  }

  // ---- calls into actors ---------------------------------------------------------------------

  async action(
    namespace: string,
    actorId: string,
    name: string,
    args: unknown[],
    caller?: ActionCaller,
  ): Promise<unknown> {
    const live = await this.#acquire(namespace, actorId);
    return caller === undefined ? live.action(name, args) : live.action(name, args, undefined, caller);
  }

  /** Wakes the actor and returns its live handle (for connections and raw requests). */
  async acquire(namespace: string, actorId: string): Promise<LiveActor> {
    return this.#acquire(namespace, actorId);
  }

  async connect(namespace: string, actorId: string, transport: ConnTransport): Promise<LiveActor> {
    const live = await this.#acquire(namespace, actorId);
    await live.connect(transport);
    return live;
  }

  /** Forced sleep (admin): overrides keep-awake; in-flight actions finish first. */
  async sleep(namespace: string, actorId: string): Promise<void> {
    await this.getActor(namespace, actorId);
    const slot = this.#slots.get(actorId);
    if (!slot) return;
    if (slot.waking) await slot.waking.catch(() => undefined);
    await this.#stop(slot, "sleep");
  }

  /** Destroys the actor: onDestroy runs, then its state, KV and scheduled calls are removed. */
  async destroy(namespace: string, actorId: string): Promise<void> {
    await this.#acquire(namespace, actorId);
    const slot = this.#slots.get(actorId);
    if (slot) await this.#stop(slot, "destroy");
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closing) throw err(Errors.stopping);
  }

  async #acquire(namespace: string, actorId: string): Promise<LiveActor> {
    for (;;) {
      this.#assertOpen();
      const slot = this.#slots.get(actorId);
      if (slot) {
        if (slot.record.namespace !== namespace) throw err(Errors.actorNotFound, undefined, { actorId });
        if (slot.stopping) {
          await slot.stopping;
          continue;
        }
        if (slot.live) return slot.live;
        if (slot.waking) return slot.waking;
      }
      const record = await this.getActor(namespace, actorId);
      if (this.#slots.has(actorId)) continue; // someone else started waking it meanwhile
      return this.#acquireRecord(record);
    }
  }

  /** Boots an actor whose record is known and that has no slot. */
  #acquireRecord(record: ActorRecord): Promise<LiveActor> {
    const existing = this.#slots.get(record.actorId);
    if (existing?.live && !existing.stopping) return Promise.resolve(existing.live);
    if (existing?.waking) return existing.waking;
    const slot: Slot = { record };
    this.#slots.set(record.actorId, slot);
    const endWake = this.tracer.wake(record);
    slot.waking = this.host
      .start(record, new Services(this, slot))
      .then((live) => {
        slot.live = live;
        this.metrics.woke();
        endWake();
        slot.waking = undefined;
        this.#ensureSweep(live.sleepTimeout);
        return live;
      })
      .catch((e: unknown) => {
        this.#slots.delete(record.actorId);
        endWake(e);
        throw e;
      });
    return slot.waking;
  }

  #stop(slot: Slot, reason: StopReason): Promise<void> {
    if (slot.stopping) return slot.stopping;
    const live = slot.live;
    if (!live) return Promise.resolve();
    const actorId = slot.record.actorId;
    const endSleep = this.tracer.sleep(slot.record, reason);
    let failed: unknown;
    slot.stopping = (async () => {
      try {
        await live.stop(reason);
      } catch (e) {
        failed = e;
        this.log.error({ err: e, actorId, reason }, "actor did not stop cleanly");
      }
      if (reason === "destroy") await this.#removeData(slot.record);
    })().finally(() => {
      if (this.#slots.get(actorId) === slot) this.#slots.delete(actorId);
      this.metrics.slept();
      endSleep(failed);
    });
    return slot.stopping;
  }

  async #removeData(record: ActorRecord): Promise<void> {
    const ops: BatchOp[] = [
      ...this.directory.destroyedOps(record),
      ...(await this.#alarms.clearOps(record.actorId)),
      { type: "put", key: packKey([Subspace.garbage, record.actorId]), value: new Uint8Array(0) },
    ];
    await this.store.batch(ops);
    record.destroyedAt = Date.now();
    this.#background(this.#collect(record.actorId));
  }

  /** Clears a destroyed actor's state and KV; resumed at start if the engine stopped midway. */
  async #collect(actorId: string): Promise<void> {
    try {
      await this.store.batch([{ type: "del", key: stateKey(actorId) }]);
      const base = kvBase(actorId);
      await this.store.clearRange({ gte: base, lt: strinc(base) });
      await this.store.batch([{ type: "del", key: packKey([Subspace.garbage, actorId]) }]);
    } catch (e) {
      if (!this.#closing)
        this.log.warn({ err: e, actorId }, "clearing a destroyed actor's data failed; retried at start");
    }
  }

  /** Runs a data clean-up in the background; a graceful close waits for it to finish. */
  #background(cleanup: Promise<void>): void {
    const tracked = cleanup.catch((e: unknown) => {
      if (!this.#closing)
        this.log.warn({ err: e }, "clearing destroyed actors' data failed; retried at start");
    });
    this.#collecting.add(tracked);
    void tracked.finally(() => this.#collecting.delete(tracked));
  }

  async #resumeGarbage(): Promise<void> {
    const ids: string[] = [];
    for await (const [k] of this.store.range(prefixRange([Subspace.garbage]))) {
      const id = unpackKey(k)[1];
      if (typeof id === "string") ids.push(id);
    }
    for (const id of ids) await this.#collect(id);
  }

  #ensureSweep(sleepTimeout: number): void {
    const every = Math.min(1000, Math.max(10, Math.floor(sleepTimeout / 4)));
    if (every >= this.#sweepEvery) return;
    this.#sweepEvery = every;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#sweepTimer = setInterval(() => this.#sweep(), every);
    this.#sweepTimer.unref();
  }

  #sweep(): void {
    if (this.#closing) return;
    const now = Date.now();
    for (const slot of this.#slots.values()) {
      const live = slot.live;
      if (!live || slot.stopping) continue;
      const since = live.idleSince();
      if (since !== undefined && now - since >= live.sleepTimeout) void this.#stop(slot, "sleep");
    }
  }

  async #fireAlarm(actorId: string, call: ScheduledCallRecord): Promise<void> {
    const record = this.#slots.get(actorId)?.record ?? (await this.directory.get(actorId));
    if (!record || record.destroyedAt !== undefined) return;
    const live = await this.#acquire(record.namespace, actorId);
    await live.action(call.action, call.args);
  }

  /**
   * Called by Services when the host lost a live actor without stopping it (runner mode: its
   * runner went away). Its slot goes, so it counts as asleep and the next request starts it
   * again. A slot still waking or already stopping is left alone: its pending start or stop
   * fails on its own and removes it.
   */
  forget(slot: Slot): void {
    const actorId = slot.record.actorId;
    if (this.#slots.get(actorId) !== slot || !slot.live || slot.stopping) return;
    this.#slots.delete(actorId);
    this.metrics.slept();
    this.log.debug(
      { actorId, actor: slot.record.name },
      "actor lost with its runner; it starts again on demand",
    );
  }

  /** Called by Services on behalf of an actor. */
  requestStop(slot: Slot, reason: "sleep" | "destroy"): void {
    // After the current turn, so the calling action can finish and answer first.
    setImmediate(() => {
      if (slot.waking) void slot.waking.then(() => this.#stop(slot, reason)).catch(() => undefined);
      else void this.#stop(slot, reason);
    });
  }

  scheduleFor(actorId: string, at: number, action: string, args: unknown[]): Promise<string> {
    return this.#alarms.schedule(actorId, at, action, args, this.limits.alarmsPerActor);
  }
  cancelFor(actorId: string, id: string): Promise<boolean> {
    return this.#alarms.cancel(actorId, id);
  }
  listFor(actorId: string): Promise<ScheduledCallRecord[]> {
    return this.#alarms.list(actorId);
  }

  /**
   * Stops taking work, puts every awake actor to sleep (state flushed, onSleep run) and stops
   * the alarm timer. The store is closed by whoever opened it.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true;
      if (this.#sweepTimer) clearInterval(this.#sweepTimer);
      await this.#alarms.stop();
      const waking = [...this.#slots.values()].map((s) => s.waking?.catch(() => undefined));
      await Promise.all(waking);
      await Promise.all([...this.#slots.values()].map((s) => this.#stop(s, "shutdown")));
      // Scheduled calls that were running have their answers now; let them record that.
      await this.#alarms.drain();
      // Finish removing destroyed actors' data, so a graceful close leaves none of it behind.
      while (this.#collecting.size > 0) await Promise.all([...this.#collecting]);
    })();
    return this.#closed;
  }
}

/** Storage and scheduling for one actor; what the host's runtime calls. */
class Services implements ActorServices {
  readonly #engine: Engine;
  readonly #slot: Slot;
  #log: Logger | undefined;

  constructor(engine: Engine, slot: Slot) {
    this.#engine = engine;
    this.#slot = slot;
  }

  get #id(): string {
    return this.#slot.record.actorId;
  }
  get limits(): Limits {
    return this.#engine.limits;
  }
  get metrics(): EngineMetrics {
    return this.#engine.metrics;
  }
  get tracer(): EngineTracer {
    return this.#engine.tracer;
  }
  get log(): Logger {
    this.#log ??= this.#engine.log.child({ actorId: this.#id, actor: this.#slot.record.name });
    return this.#log;
  }

  loadState(): Promise<Uint8Array | undefined> {
    return this.#engine.store.get(stateKey(this.#id));
  }

  async initialize(state: Uint8Array): Promise<void> {
    const record = this.#slot.record;
    await this.#engine.store.batch(
      [
        { type: "put", key: stateKey(record.actorId), value: state },
        ...this.#engine.directory.initializedOps(record),
      ],
      OWNED,
    );
    record.initialized = true;
    delete record.input;
  }

  write(state: Uint8Array | undefined, kv: KvOp[]): Promise<void> {
    if (state && kv.length === 0) {
      // The common case (an action changed the state): one op, no intermediate promise.
      return this.#engine.store.batch([{ type: "put", key: stateKey(this.#id), value: state }], OWNED);
    }
    const ops: BatchOp[] = [];
    if (state) ops.push({ type: "put", key: stateKey(this.#id), value: state });
    if (kv.length > 0) {
      const base = kvBase(this.#id);
      for (const op of kv) {
        ops.push(
          op.type === "put"
            ? { type: "put", key: concat(base, op.key), value: op.value }
            : { type: "del", key: concat(base, op.key) },
        );
      }
    }
    // The state bytes are the host's fresh encoding, never touched again: the store need not copy
    // them. KV values may be the actor's own buffers, which it may reuse: those are copied.
    return ops.length > 0
      ? this.#engine.store.batch(ops, kv.length === 0 ? OWNED : undefined)
      : Promise.resolve();
  }

  kvGet(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    const base = kvBase(this.#id);
    return this.#engine.store.getMany(keys.map((k) => concat(base, k)));
  }

  async kvList(
    prefix: Uint8Array,
    options: { limit?: number; reverse?: boolean },
  ): Promise<[Uint8Array, Uint8Array][]> {
    const base = kvBase(this.#id);
    const start = concat(base, prefix);
    const out: [Uint8Array, Uint8Array][] = [];
    const range: { gte: Uint8Array; lt: Uint8Array; limit?: number; reverse?: boolean } = {
      gte: start,
      lt: strinc(start),
    };
    if (options.limit !== undefined) range.limit = options.limit;
    if (options.reverse !== undefined) range.reverse = options.reverse;
    for await (const [k, v] of this.#engine.store.range(range)) out.push([k.slice(base.length), v]);
    return out;
  }

  schedule(at: number, action: string, args: unknown[]): Promise<string> {
    return this.#engine.scheduleFor(this.#id, at, action, args);
  }
  cancelScheduled(id: string): Promise<boolean> {
    return this.#engine.cancelFor(this.#id, id);
  }
  listScheduled(): Promise<ScheduledCallRecord[]> {
    return this.#engine.listFor(this.#id);
  }
  requestSleep(): void {
    this.#engine.requestStop(this.#slot, "sleep");
  }
  requestDestroy(): void {
    this.#engine.requestStop(this.#slot, "destroy");
  }
  lost(): void {
    this.#engine.forget(this.#slot);
  }
}
