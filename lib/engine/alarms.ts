/**
 * Persisted scheduled calls ("alarms"). Each call is stored twice in one atomic batch: under the
 * actor (to list and cancel) and in a global due-time index (to fire in time order). One timer
 * is armed for the earliest due call, so memory does not grow with the number of alarms; calls
 * that came due while the engine was down fire once at start. A call is deleted after it ran,
 * so a crash mid-call runs it again on restart (at least once).
 */
import type { Logger } from "pino";
import { EnclaveError, Errors, err } from "../errors.js";
import { Subspace, packKey, prefixRange, unpackKey } from "../store/keys.js";
import type { BatchOp, Store } from "../store/types.js";
import { newLocalId } from "./ids.js";
import { fromBytes, toBytes } from "./json-bytes.js";
import type { ScheduledCallRecord } from "./types.js";

const MAX_TIMER_MS = 2 ** 31 - 1;
const SCAN_BATCH = 256;

export type FireAlarm = (actorId: string, call: ScheduledCallRecord) => Promise<void>;

function callKey(actorId: string, id: string): Uint8Array {
  return packKey([Subspace.alarm, actorId, id]);
}
function dueKey(at: number, actorId: string, id: string): Uint8Array {
  return packKey([Subspace.alarmDue, at, actorId, id]);
}

export class Alarms {
  readonly #store: Store;
  readonly #fire: FireAlarm;
  readonly #log: Logger;
  readonly #inflight = new Set<string>();
  readonly #running = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #armedAt = Infinity;
  #stopped = false;
  #scanning: Promise<void> | undefined;
  #rescan = false;

  constructor(store: Store, fire: FireAlarm, log: Logger) {
    this.#store = store;
    this.#fire = fire;
    this.#log = log;
  }

  start(): void {
    this.#stopped = false;
    this.#kick();
  }

  /** Waits for calls that were already running (their actions drain as actors stop). */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
    await this.#scanning;
  }

  async schedule(
    actorId: string,
    at: number,
    action: string,
    args: unknown[],
    maxPerActor: number,
  ): Promise<string> {
    if (!Number.isFinite(at)) throw err(Errors.invalidSchedule, "The scheduled time must be a finite number");
    if (typeof action !== "string" || action.length === 0) {
      throw err(Errors.invalidSchedule, "The scheduled action must be an action name");
    }
    let count = 0;
    for await (const _ of this.#store.range({
      ...prefixRange([Subspace.alarm, actorId]),
      limit: maxPerActor,
    })) {
      count++;
    }
    if (count >= maxPerActor) {
      throw err(
        Errors.tooManyAlarms,
        `The actor has ${count} pending scheduled calls; the limit is ${maxPerActor}`,
        {
          limit: maxPerActor,
        },
      );
    }
    const call: ScheduledCallRecord = {
      id: newLocalId(),
      at: Math.floor(at),
      action,
      args,
      createdAt: Date.now(),
    };
    await this.#store.batch([
      { type: "put", key: callKey(actorId, call.id), value: toBytes(call) },
      { type: "put", key: dueKey(call.at, actorId, call.id), value: new Uint8Array(0) },
    ]);
    if (call.at < this.#armedAt) this.#kick();
    return call.id;
  }

  async cancel(actorId: string, id: string): Promise<boolean> {
    const bytes = await this.#store.get(callKey(actorId, id));
    if (!bytes) return false;
    const call = fromBytes<ScheduledCallRecord>(bytes);
    await this.#store.batch([
      { type: "del", key: callKey(actorId, id) },
      { type: "del", key: dueKey(call.at, actorId, id) },
    ]);
    return true;
  }

  async list(actorId: string): Promise<ScheduledCallRecord[]> {
    const calls: ScheduledCallRecord[] = [];
    for await (const [, v] of this.#store.range(prefixRange([Subspace.alarm, actorId]))) {
      calls.push(fromBytes<ScheduledCallRecord>(v));
    }
    return calls.sort((a, b) => a.at - b.at || a.createdAt - b.createdAt);
  }

  /** Ops that remove every scheduled call of an actor (for destroy). */
  async clearOps(actorId: string): Promise<BatchOp[]> {
    const ops: BatchOp[] = [];
    for (const call of await this.list(actorId)) {
      ops.push(
        { type: "del", key: callKey(actorId, call.id) },
        { type: "del", key: dueKey(call.at, actorId, call.id) },
      );
    }
    return ops;
  }

  /** Scans for due calls now (coalesced), then re-arms the timer. */
  #kick(): void {
    if (this.#stopped) return;
    if (this.#scanning) {
      this.#rescan = true;
      return;
    }
    this.#scanning = this.#scan()
      .catch((e: unknown) => this.#log.error({ err: e }, "scheduled call scan failed"))
      .finally(() => {
        this.#scanning = undefined;
        if (this.#rescan) {
          this.#rescan = false;
          this.#kick();
        }
      });
  }

  async #scan(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const all = prefixRange([Subspace.alarmDue]);
    const now = Date.now();
    let next: number | undefined;
    // Fire everything due now; find the earliest call not yet due (or still running).
    for await (const [k] of this.#store.range({
      gte: all.gte,
      lt: all.lt,
      limit: SCAN_BATCH + this.#inflight.size,
    })) {
      const [, at, actorId, id] = unpackKey(k) as [string, number, string, string];
      const tag = `${actorId}/${id}`;
      if (this.#inflight.has(tag)) continue;
      if (at > now) {
        next = at;
        break;
      }
      if (this.#stopped) return;
      this.#inflight.add(tag);
      const run: Promise<void> = this.#run(actorId, id, at)
        .catch((e: unknown) =>
          this.#log.error({ err: e, actorId, callId: id }, "scheduled call bookkeeping failed"),
        )
        .finally(() => {
          this.#inflight.delete(tag);
          this.#running.delete(run);
          this.#kick();
        });
      this.#running.add(run);
    }
    if (next !== undefined && !this.#stopped) this.#arm(next);
  }

  #arm(at: number): void {
    this.#armedAt = at;
    const delay = Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS);
    this.#timer = setTimeout(() => this.#kick(), delay);
    this.#timer.unref();
  }

  async #run(actorId: string, id: string, at: number): Promise<void> {
    const bytes = await this.#store.get(callKey(actorId, id));
    if (!bytes) {
      // Cancelled between the scan and now; drop the stale index entry.
      await this.#store.batch([{ type: "del", key: dueKey(at, actorId, id) }]);
      return;
    }
    const call = fromBytes<ScheduledCallRecord>(bytes);
    try {
      await this.#fire(actorId, call);
    } catch (e) {
      // Shutting down: keep the call so it runs after restart. No runner could take the actor
      // (runner mode): keep it too, and try again (each try waits runners.placementTimeoutMs).
      if (e instanceof EnclaveError && (e.code === Errors.stopping.code || isPlacementFailure(e))) return;
      this.#log.warn(
        { err: e, actorId, action: call.action, callId: id },
        "scheduled call failed; it is not retried",
      );
    }
    await this.#store.batch([
      { type: "del", key: callKey(actorId, id) },
      { type: "del", key: dueKey(at, actorId, id) },
    ]);
  }
}

/** The actor could not be placed on a runner, or its runner went away: not the call's fault. */
function isPlacementFailure(e: EnclaveError): boolean {
  return (
    e.group === Errors.noRunner.group &&
    (e.code === Errors.noRunner.code || e.code === Errors.runnerLost.code)
  );
}
