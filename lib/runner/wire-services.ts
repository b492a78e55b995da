/**
 * `ActorServices` for an actor running on a runner: every storage and scheduling call goes to
 * the engine over the runner socket and resolves with the engine's reply, so a write resolves
 * only once the ENGINE has committed it (the output gate holds end to end).
 */
import type { Logger } from "pino";
import type { Limits } from "../config/index.js";
import type { ActorServices, KvOp, ScheduledCallRecord } from "../engine/types.js";
import { noopMetrics, type EngineMetrics } from "../telemetry/metrics.js";
import type { RunnerMessage, RunnerMessageOf, RunnerRequest } from "./protocol.js";

/** The runner session as the services see it. */
export interface ServiceChannel {
  /** Sends a service call; resolves with the engine's reply value (null for none). */
  call<T>(message: RunnerRequest): Promise<T>;
  /** Sends a message without an answer. */
  post(message: RunnerMessage): void;
}

export class WireServices implements ActorServices {
  readonly limits: Limits;
  readonly log: Logger;
  readonly metrics: EngineMetrics = noopMetrics;
  readonly #channel: ServiceChannel;
  readonly #actorId: string;

  constructor(channel: ServiceChannel, actorId: string, limits: Limits, log: Logger) {
    this.#channel = channel;
    this.#actorId = actorId;
    this.limits = limits;
    this.log = log;
  }

  async loadState(): Promise<Uint8Array | undefined> {
    return (
      (await this.#channel.call<Uint8Array | null>({ t: "loadState", actorId: this.#actorId })) ?? undefined
    );
  }

  async initialize(state: Uint8Array): Promise<void> {
    await this.#channel.call({ t: "initialize", actorId: this.#actorId, state });
  }

  async write(state: Uint8Array | undefined, kv: KvOp[]): Promise<void> {
    const message: RunnerMessageOf<"write"> = { t: "write", actorId: this.#actorId, kv };
    if (state) message.state = state;
    await this.#channel.call(message);
  }

  async kvGet(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    const values = await this.#channel.call<(Uint8Array | null)[]>({
      t: "kvGet",
      actorId: this.#actorId,
      keys,
    });
    return values.map((v) => v ?? undefined);
  }

  kvList(
    prefix: Uint8Array,
    options: { limit?: number; reverse?: boolean },
  ): Promise<[Uint8Array, Uint8Array][]> {
    const message: RunnerMessageOf<"kvList"> = { t: "kvList", actorId: this.#actorId, prefix };
    if (options.limit !== undefined) message.limit = options.limit;
    if (options.reverse !== undefined) message.reverse = options.reverse;
    return this.#channel.call(message);
  }

  schedule(at: number, action: string, args: unknown[]): Promise<string> {
    return this.#channel.call({ t: "schedule", actorId: this.#actorId, at, action, args });
  }

  cancelScheduled(id: string): Promise<boolean> {
    return this.#channel.call({ t: "cancelScheduled", actorId: this.#actorId, callId: id });
  }

  listScheduled(): Promise<ScheduledCallRecord[]> {
    return this.#channel.call({ t: "listScheduled", actorId: this.#actorId });
  }

  requestSleep(): void {
    this.#channel.post({ t: "requestSleep", actorId: this.#actorId });
  }

  requestDestroy(): void {
    this.#channel.post({ t: "requestDestroy", actorId: this.#actorId });
  }
}
