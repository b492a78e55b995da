/**
 * The engine's side of one runner connection: the handshake, heartbeats, requests to the runner
 * and their answers, and the service calls the runner's actors make (state, KV, scheduled
 * calls), executed by the engine's own `ActorServices`. When the socket goes (closed, or three
 * heartbeats without a word), the runner's actors are lost: the engine forgets them once the
 * writes they had started have finished, their in-flight calls fail with runner/runner_lost and
 * their client connections close with 1001.
 */
import { randomUUID } from "node:crypto";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import { EnclaveError, Errors, err } from "../errors.js";
import type { ActorRecord, ActorServices } from "../engine/types.js";
import { newLocalId } from "../engine/ids.js";
import { encodeWire } from "../wire/codec.js";
import { Outbox, Reassembler } from "./framing.js";
import {
  RUNNER_PROTOCOL_VERSION,
  RunnerCloseCodes,
  claimedVersion,
  mismatchMessage,
  parseRunnerFrame,
  parseRunnerMessage,
  type EngineMessage,
  type EngineRequest,
  type HelloMessage,
  type RunnerMessage,
  type ServiceCall,
  type WelcomeMessage,
} from "./protocol.js";
import { RemoteActor, toWireRecord, type ActorLink } from "./remote-actor.js";
import { TunnelStream } from "./tunnel.js";
import { errorFromWire, errorToWire } from "./wire-errors.js";

export type LinkState = "handshake" | "ready" | "draining" | "closed";

/** What the link asks of the host that owns it. */
export interface LinkOwner {
  /** A valid hello arrived: the runner's id (new or confirmed), or an error to refuse it with. */
  hello(link: RunnerLink, hello: HelloMessage): string | EnclaveError;
  /** The handshake completed. */
  ready(link: RunnerLink): void;
  /** The runner said goodbye: its actors are being stopped. */
  draining(link: RunnerLink): void;
  /** The socket is gone; called once, before the actors are lost. */
  detached(link: RunnerLink): void;
}

export interface LinkOptions {
  namespace: string;
  remoteAddress: string | undefined;
  heartbeatMs: number;
  handshakeTimeoutMs: number;
  /** Longest text frame the engine accepts (its WebSocket maxPayload); sent in welcome. */
  maxMessageBytes: number;
  /** Longest message the engine joins from chunks. */
  maxAssembledBytes: number;
  welcome: Omit<WelcomeMessage, "t" | "protocolVersion" | "runnerId" | "heartbeatMs" | "maxMessageBytes">;
  log: Logger;
}

/** Heartbeats a runner may miss before the engine gives up on it. */
export const MISSED_HEARTBEATS = 3;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (e: unknown) => void;
}

export class RunnerLink implements ActorLink {
  readonly namespace: string;
  readonly remoteAddress: string | undefined;
  runnerId = "";
  runnerName: string | undefined;
  readonly types = new Set<string>();
  /** Optional capabilities the runner announced in its hello (e.g. "tunnel"). */
  readonly #features = new Set<string>();
  /** Open tunnels into this runner's actors, by id. */
  readonly #tunnels = new Map<string, TunnelStream>();
  state: LinkState = "handshake";
  /** Actors placed here (starting or awake). */
  readonly actors = new Map<string, RemoteActor>();
  /** Resolves once the socket is gone and the runner's actors have been lost. */
  readonly gone: Promise<void>;
  readonly #socket: WebSocket;
  readonly #owner: LinkOwner;
  readonly #options: LinkOptions;
  readonly #reassembler: Reassembler;
  readonly #outbox: Outbox;
  readonly #pending = new Map<number, Pending>();
  /** Service calls executing in the engine for this runner. */
  readonly #ops = new Set<Promise<unknown>>();
  #log: Logger;
  #nextId = 1;
  #lastSeen = Date.now();
  #timer: NodeJS.Timeout | undefined;
  #markGone!: () => void;
  #closeInfo: { code: number; reason: string } | undefined;

  constructor(socket: WebSocket, owner: LinkOwner, options: LinkOptions) {
    this.#socket = socket;
    this.#owner = owner;
    this.#options = options;
    this.namespace = options.namespace;
    this.remoteAddress = options.remoteAddress;
    this.#log = options.log.child({ namespace: options.namespace });
    this.#reassembler = new Reassembler(options.maxAssembledBytes);
    // The runner takes frames of any size: batches are never chunked.
    this.#outbox = new Outbox(
      { send: (frame) => (socket.readyState === socket.OPEN ? socket.send(frame) : undefined) },
      () => Number.MAX_SAFE_INTEGER,
    );
    this.gone = new Promise((r) => (this.#markGone = r));
    socket.on("message", (data, isBinary) => this.#onFrame(data as Buffer, isBinary));
    socket.on("close", (code, reason) => this.#shutdown(code, reason.toString()));
    socket.on("error", (e) => this.#log.warn({ err: e, runnerId: this.runnerId }, "runner socket error"));
    this.#timer = setTimeout(() => {
      if (this.state === "handshake") {
        this.refuse(
          err(Errors.runnerProtocolError, `No hello within ${options.handshakeTimeoutMs} ms`),
          RunnerCloseCodes.protocolError,
        );
      }
    }, options.handshakeTimeoutMs);
    this.#timer.unref();
  }

  get log(): Logger {
    return this.#log;
  }

  // ---- sending ---------------------------------------------------------------------------------

  #send(message: EngineMessage): void {
    if (this.#socket.readyState !== this.#socket.OPEN) return;
    this.#outbox.push(encodeWire(message));
  }

  post(message: EngineMessage): void {
    if (this.state === "ready" || this.state === "draining") this.#send(message);
  }

  request<T = unknown>(message: EngineRequest): Promise<T> {
    if (this.state === "closed" || this.state === "handshake") {
      return Promise.reject(err(Errors.runnerLost, "The runner hosting the actor is gone; retry"));
    }
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#send({ ...message, id } as EngineMessage);
    });
  }

  /** Refuses the runner: a `refused` message with the error, then the close code. */
  refuse(e: EnclaveError, code: number): void {
    this.#send({ t: "refused", error: e.toWire() });
    this.close(code, e.message);
  }

  /** Closes the socket and loses the runner's actors (at once, not when the peer answers). */
  close(code: number, reason: string): void {
    this.#outbox.flush();
    if (
      this.#socket.readyState === this.#socket.OPEN ||
      this.#socket.readyState === this.#socket.CONNECTING
    ) {
      this.#socket.close(code, truncateReason(reason));
    }
    this.#shutdown(code, reason);
  }

  // ---- placement -------------------------------------------------------------------------------

  /** Boots an actor on this runner. */
  async startActor(record: ActorRecord, services: ActorServices): Promise<RemoteActor> {
    const actor = new RemoteActor(this, record, services);
    this.actors.set(record.actorId, actor);
    try {
      const { sleepTimeout } = await this.request<{ sleepTimeout: number }>({
        t: "start",
        actor: toWireRecord(record),
      });
      actor.sleepTimeout = sleepTimeout;
      if (this.state === "draining") services.requestSleep();
      return actor;
    } catch (e) {
      actor.abandon();
      this.removed(actor);
      throw e;
    }
  }

  async openTunnel(actorId: string, target: string): Promise<Duplex> {
    if (!this.#features.has("tunnel")) {
      throw err(
        Errors.wsTunnelUnsupported,
        "The runner hosting this actor cannot carry tunnels (an older runner); upgrade it",
      );
    }
    const tunnelId = randomUUID();
    const stream = new TunnelStream(
      tunnelId,
      (m) => this.post(m),
      () => this.#tunnels.delete(tunnelId),
    );
    this.#tunnels.set(tunnelId, stream);
    try {
      await this.request({ t: "tunnelOpen", actorId, tunnelId, target });
    } catch (e) {
      stream.peerGone();
      throw e;
    }
    return stream;
  }

  removed(actor: RemoteActor): void {
    if (this.actors.get(actor.actorId) === actor) this.actors.delete(actor.actorId);
    if (this.state === "draining" && this.actors.size === 0) this.close(RunnerCloseCodes.normal, "drained");
  }

  // ---- receiving -------------------------------------------------------------------------------

  #onFrame(data: Buffer, isBinary: boolean): void {
    if (this.state === "closed") return;
    this.#lastSeen = Date.now();
    let text: string | undefined;
    try {
      text = this.#reassembler.push(data, isBinary);
    } catch (e) {
      this.refuse(err(Errors.runnerProtocolError, (e as Error).message), RunnerCloseCodes.protocolError);
      return;
    }
    if (text === undefined) return;
    if (this.state === "handshake") {
      this.#onHello(text);
      return;
    }
    let messages: RunnerMessage[];
    try {
      messages = parseRunnerFrame(text);
    } catch (e) {
      this.#log.warn({ err: e, runnerId: this.runnerId }, "runner sent a malformed message; closing");
      this.refuse(e as EnclaveError, RunnerCloseCodes.protocolError);
      return;
    }
    for (const message of messages) {
      if ((this.state as LinkState) === "closed") return;
      this.#dispatch(message);
    }
  }

  #onHello(text: string): void {
    const claimed = claimedVersion(text);
    if (claimed?.t !== "hello") {
      this.refuse(
        err(Errors.runnerProtocolError, 'The first message must be { t: "hello", protocolVersion, types }'),
        RunnerCloseCodes.protocolError,
      );
      return;
    }
    if (typeof claimed.protocolVersion !== "number") {
      this.refuse(
        err(Errors.runnerProtocolError, "hello needs a numeric protocolVersion"),
        RunnerCloseCodes.protocolError,
      );
      return;
    }
    if (claimed.protocolVersion !== RUNNER_PROTOCOL_VERSION) {
      const message = mismatchMessage(claimed.protocolVersion, RUNNER_PROTOCOL_VERSION);
      this.#log.error(
        {
          runnerProtocolVersion: claimed.protocolVersion,
          engineProtocolVersion: RUNNER_PROTOCOL_VERSION,
          remoteAddress: this.remoteAddress,
        },
        `runner refused: ${message}; run the same enclave version on both sides`,
      );
      this.refuse(
        err(Errors.runnerProtocolMismatch, message, {
          runnerProtocolVersion: claimed.protocolVersion,
          engineProtocolVersion: RUNNER_PROTOCOL_VERSION,
        }),
        RunnerCloseCodes.protocolMismatch,
      );
      return;
    }
    let hello: RunnerMessage;
    try {
      hello = parseRunnerMessage(text);
    } catch (e) {
      this.#log.warn({ err: e }, "runner sent a malformed hello; refused");
      this.refuse(e as EnclaveError, RunnerCloseCodes.protocolError);
      return;
    }
    if (hello.t !== "hello") return; // checked above
    const id = this.#owner.hello(this, hello);
    if (id instanceof EnclaveError) {
      this.refuse(id, RunnerCloseCodes.protocolError);
      return;
    }
    this.runnerId = id;
    this.runnerName = hello.runnerName;
    for (const t of hello.types) this.types.add(t);
    for (const f of hello.features ?? []) this.#features.add(f);
    this.#log = this.#options.log.child({ namespace: this.namespace, runnerId: id });
    this.state = "ready";
    clearTimeout(this.#timer);
    this.#send({
      t: "welcome",
      protocolVersion: RUNNER_PROTOCOL_VERSION,
      runnerId: id,
      heartbeatMs: this.#options.heartbeatMs,
      maxMessageBytes: this.#options.maxMessageBytes,
      ...this.#options.welcome,
    });
    // The welcome goes alone in its frame, ahead of anything the placement sends next.
    this.#outbox.flush();
    this.#startHeartbeat();
    this.#owner.ready(this);
  }

  #startHeartbeat(): void {
    const every = this.#options.heartbeatMs;
    this.#timer = setInterval(() => {
      const silent = Date.now() - this.#lastSeen;
      if (silent > every * MISSED_HEARTBEATS) {
        this.#log.warn({ silentMs: silent }, "runner missed its heartbeats; dropping it");
        this.#socket.terminate();
        this.#shutdown(RunnerCloseCodes.heartbeatTimeout, "heartbeat timeout");
        return;
      }
      this.#send({ t: "ping", at: Date.now() });
    }, every);
    this.#timer.unref();
  }

  #dispatch(m: RunnerMessage): void {
    switch (m.t) {
      case "result":
        return this.#settle(m.id, (p) => p.resolve(m.output));
      case "started":
        return this.#settle(m.id, (p) => p.resolve({ sleepTimeout: m.sleepTimeout }));
      case "response":
        return this.#settle(m.id, (p) => p.resolve({ status: m.status, headers: m.headers, body: m.body }));
      case "error":
        return this.#settle(m.id, (p) => p.reject(errorFromWire(m)));
      case "pong":
        return;
      case "requestSleep":
        return this.#liveActor(m.actorId)?.services.requestSleep();
      case "requestDestroy":
        return this.#liveActor(m.actorId)?.services.requestDestroy();
      case "connSend":
        return this.#liveActor(m.actorId)?.connSend(m.connId, m.name, m.args);
      case "connClose":
        return this.#liveActor(m.actorId)?.connClose(m.connId, m.code, m.reason);
      case "tunnelData":
      case "tunnelEnd":
      case "tunnelClose":
        return this.#tunnels.get(m.tunnelId)?.receive(m);
      case "goodbye":
        if (this.state === "ready") {
          this.state = "draining";
          this.#log.info({ actors: this.actors.size }, "runner is shutting down; stopping its actors");
          this.#owner.draining(this);
          if (this.actors.size === 0) this.close(RunnerCloseCodes.normal, "drained");
        }
        return;
      case "hello":
        this.refuse(
          err(Errors.runnerProtocolError, "hello was already received"),
          RunnerCloseCodes.protocolError,
        );
        return;
      default:
        return this.#serve(m);
    }
  }

  #settle(id: number, fn: (p: Pending) => void): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    fn(pending);
  }

  #liveActor(actorId: string): RemoteActor | undefined {
    const actor = this.actors.get(actorId);
    return actor?.alive ? actor : undefined;
  }

  /** A service call from one of this runner's actors, run by the engine's own services. */
  #serve(call: ServiceCall): void {
    const actor = this.#liveActor(call.actorId);
    if (!actor) {
      const e = err(Errors.runnerLost, "The actor is not placed on this runner (any more)", {
        actorId: call.actorId,
      });
      this.#send({ t: "replyError", id: call.id, error: e.toWire(), status: e.status });
      return;
    }
    const op = runServiceCall(actor.services, call);
    this.#ops.add(op);
    op.then(
      (value) => {
        this.#ops.delete(op);
        const reply: EngineMessage = { t: "reply", id: call.id };
        if (value !== undefined) reply.value = value;
        this.#send(reply);
      },
      (e: unknown) => {
        this.#ops.delete(op);
        const wire = errorToWire(e, actor.services.log, { call: call.t });
        this.#send({ t: "replyError", id: call.id, ...wire });
      },
    );
  }

  // ---- the end ---------------------------------------------------------------------------------

  #shutdown(code: number, reason: string): void {
    if (this.state === "closed") return;
    const was = this.state;
    this.state = "closed";
    this.#closeInfo = { code, reason };
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
    this.#outbox.clear();
    if (was === "handshake") {
      this.#failPending();
      this.#markGone();
      return;
    }
    this.#owner.detached(this);
    for (const t of [...this.#tunnels.values()]) t.peerGone();
    void this.#loseActors(was);
  }

  async #loseActors(was: LinkState): Promise<void> {
    const actors = [...this.actors.values()];
    const level = was === "draining" && actors.length === 0 ? "info" : "warn";
    this.#log[level](
      { code: this.#closeInfo?.code, reason: this.#closeInfo?.reason, actors: actors.length },
      "runner disconnected",
    );
    // Let the writes it had started finish first, so the next placement reads them.
    while (this.#ops.size > 0) await Promise.allSettled([...this.#ops]);
    for (const actor of actors) actor.lose();
    this.actors.clear();
    this.#failPending();
    this.#markGone();
  }

  #failPending(): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending)
      p.reject(err(Errors.runnerLost, "The runner hosting the actor went away; retry"));
  }
}

function truncateReason(reason: string): string {
  // A close reason is at most 123 bytes.
  return Buffer.byteLength(reason) <= 123 ? reason : Buffer.from(reason).subarray(0, 120).toString("utf8");
}

/** Runs one service call against the engine's services; the value is what `reply` carries. */
async function runServiceCall(services: ActorServices, call: ServiceCall): Promise<unknown> {
  switch (call.t) {
    case "loadState":
      return (await services.loadState()) ?? null;
    case "initialize":
      await services.initialize(call.state);
      return null;
    case "write":
      await services.write(call.state, call.kv);
      return null;
    case "kvGet":
      return (await services.kvGet(call.keys)).map((v) => v ?? null);
    case "kvList": {
      const options: { limit?: number; reverse?: boolean } = {};
      if (call.limit !== undefined) options.limit = call.limit;
      if (call.reverse !== undefined) options.reverse = call.reverse;
      return services.kvList(call.prefix, options);
    }
    case "schedule":
      return services.schedule(call.at, call.action, call.args);
    case "cancelScheduled":
      return services.cancelScheduled(call.callId);
    case "listScheduled":
      return services.listScheduled();
  }
}

/** A fresh runner id. */
export function newRunnerId(): string {
  return newLocalId();
}
