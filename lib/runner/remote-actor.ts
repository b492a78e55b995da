/**
 * The engine's handle on an actor that runs on a runner: a `LiveActor` whose calls travel over
 * the runner's socket. Connections stay on the engine (the gateway owns the client sockets);
 * the runner sees them through `connect`/`disconnect` and answers with `connSend`/`connClose`.
 */
import type { Duplex } from "node:stream";
import { Errors, err } from "../errors.js";
import type {
  ActionCaller,
  ActorRecord,
  ActorServices,
  ConnTransport,
  LiveActor,
  StopReason,
} from "../engine/types.js";
import { actionOutcome } from "../telemetry/metrics.js";
import { CloseCodes } from "../wire/protocol.js";
import type { EngineMessage, EngineMessageOf, EngineRequest, WireActorRecordType } from "./protocol.js";

/** What a remote actor needs from the runner connection it lives on. */
export interface ActorLink {
  /** Sends a request and resolves with the runner's answer (rejects with runner/runner_lost if it goes). */
  request<T = unknown>(message: EngineRequest): Promise<T>;
  /** Sends a message that has no answer; dropped if the runner is gone. */
  post(message: EngineMessage): void;
  /** The actor stopped normally: the link forgets it. */
  removed(actor: RemoteActor): void;
  /** A byte stream into a runner's actor (501 workspace/tunnel_unsupported if the runner has none). */
  openTunnel(actorId: string, target: string): Promise<Duplex>;
}

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

export function toWireRecord(record: ActorRecord): WireActorRecordType {
  const out: WireActorRecordType = {
    actorId: record.actorId,
    name: record.name,
    key: record.key,
    namespace: record.namespace,
    createdAt: record.createdAt,
    initialized: record.initialized,
  };
  if (!record.initialized && record.input !== undefined) out.input = record.input;
  return out;
}

export class RemoteActor implements LiveActor {
  readonly record: ActorRecord;
  readonly services: ActorServices;
  readonly #link: ActorLink;
  sleepTimeout = 0;
  /** Set once stopped (normally) or lost (with its runner). */
  #ended: "stopped" | "lost" | undefined;
  readonly #conns = new Map<string, ConnTransport>();

  constructor(link: ActorLink, record: ActorRecord, services: ActorServices) {
    this.#link = link;
    this.record = record;
    this.services = services;
  }

  get actorId(): string {
    return this.record.actorId;
  }

  #assertAlive(): void {
    if (this.#ended === "lost") throw err(Errors.runnerLost, undefined, { actorId: this.actorId });
    if (this.#ended === "stopped") throw err(Errors.stopping, "The actor is going to sleep; retry");
  }

  async action(name: string, args: unknown[], connId?: string, caller?: ActionCaller): Promise<unknown> {
    this.#assertAlive();
    const started = performance.now();
    const endSpan = this.services.tracer?.action(this.record, name);
    const message: EngineMessageOf<"action"> = { t: "action", actorId: this.actorId, name, args };
    if (connId !== undefined) message.connId = connId;
    if (caller !== undefined) {
      message.caller = { headers: { ...caller.headers } };
      if (caller.params !== undefined) message.caller.params = caller.params as never;
    }
    try {
      const output = await this.#link.request<unknown>(message);
      this.services.metrics.actionDone("ok", performance.now() - started);
      endSpan?.();
      return output;
    } catch (e) {
      this.services.metrics.actionDone(actionOutcome(e), performance.now() - started);
      endSpan?.(e);
      throw e;
    }
  }

  tunnel(target: string): Promise<Duplex> {
    this.#assertAlive();
    return this.#link.openTunnel(this.actorId, target);
  }

  async connect(transport: ConnTransport): Promise<void> {
    this.#assertAlive();
    this.#conns.set(transport.id, transport);
    const message: EngineMessageOf<"connect"> = {
      t: "connect",
      actorId: this.actorId,
      connId: transport.id,
      headers: { ...transport.headers },
    };
    if (transport.params !== undefined) message.params = transport.params;
    try {
      await this.#link.request(message);
    } catch (e) {
      this.#conns.delete(transport.id);
      throw e;
    }
  }

  subscribe(connId: string, event: string, on: boolean): void {
    if (this.#ended) return;
    this.#link.post({ t: "subscribe", actorId: this.actorId, connId, event, on });
  }

  async disconnect(connId: string): Promise<void> {
    this.#conns.delete(connId);
    if (this.#ended) return;
    await this.#link.request({ t: "disconnect", actorId: this.actorId, connId }).catch(() => undefined);
  }

  async request(request: Request): Promise<Response> {
    this.#assertAlive();
    const headers: [string, string][] = [];
    request.headers.forEach((value, name) => headers.push([name, value]));
    const message: EngineMessageOf<"request"> = {
      t: "request",
      actorId: this.actorId,
      method: request.method,
      url: request.url,
      headers,
    };
    if (request.method !== "GET" && request.method !== "HEAD") {
      const body = new Uint8Array(await request.arrayBuffer());
      if (body.length > 0) message.body = body;
    }
    const res = await this.#link.request<{ status: number; headers: [string, string][]; body: Uint8Array }>(
      message,
    );
    const out = new Headers();
    for (const [name, value] of res.headers) out.append(name, value);
    return new Response(NULL_BODY_STATUS.has(res.status) ? null : res.body, {
      status: res.status,
      headers: out,
    });
  }

  idleSince(): number | undefined {
    // The runner watches idleness (it sees the work) and asks for sleep with requestSleep.
    return undefined;
  }

  async stop(reason: StopReason): Promise<void> {
    if (this.#ended === "lost") throw err(Errors.runnerLost, undefined, { actorId: this.actorId });
    if (this.#ended) return;
    try {
      await this.#link.request({ t: "stop", actorId: this.actorId, reason });
    } finally {
      if (!this.#ended) {
        this.#ended = "stopped";
        this.#link.removed(this);
      }
      // The runner closed them while stopping; close whatever is left so no client hangs.
      this.#closeConns(reason === "destroy" ? CloseCodes.destroyed : CloseCodes.goingAway, "actor stopped");
    }
  }

  /** An event from the actor for one client connection. */
  connSend(connId: string, name: string, args: unknown[]): void {
    this.#conns.get(connId)?.send({ t: "event", name, args });
  }

  /** The actor closes one client connection. */
  connClose(connId: string, code: number, reason: string): void {
    this.#conns.get(connId)?.close(code, reason);
  }

  /** Still answering: not stopped, not lost. */
  get alive(): boolean {
    return this.#ended === undefined;
  }

  /** Startup failed: nothing to stop. */
  abandon(): void {
    this.#ended ??= "stopped";
  }

  /**
   * The runner went away: the engine forgets the actor (it counts as asleep), and its client
   * connections close with 1001 so the clients reconnect, which places it again.
   */
  lose(): void {
    if (this.#ended) return;
    this.#ended = "lost";
    this.services.lost?.();
    this.#closeConns(CloseCodes.goingAway, "runner lost");
  }

  #closeConns(code: number, reason: string): void {
    for (const conn of [...this.#conns.values()]) conn.close(code, reason);
    this.#conns.clear();
  }
}
