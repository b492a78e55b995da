/**
 * The runner's side of one connection to the engine, after the handshake: it boots actors the
 * engine places here (with the same runtime as embedded mode, `LocalHost`), runs their actions,
 * connections and raw requests, and carries their service calls to the engine. It also watches
 * idleness (the engine cannot see the work) and asks the engine to put idle actors to sleep.
 *
 * When the connection ends, its actors are abandoned: their service calls fail, so they can no
 * longer commit anything, and the engine places them again (here or elsewhere) on demand.
 */
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import { LocalHost } from "../actor/host.js";
import type { AnyActorDefinition } from "../actor/definition.js";
import { LimitsSchema, type Limits } from "../config/index.js";
import { Errors, err } from "../errors.js";
import type { ActorRecord, ConnTransport, LiveActor } from "../engine/types.js";
import { encodeWire } from "../wire/codec.js";
import { Outbox } from "./framing.js";
import { MISSED_HEARTBEATS } from "./link.js";
import {
  type EngineMessage,
  type RunnerMessage,
  type RunnerRequest,
  type WelcomeMessage,
  type WireActorRecordType,
} from "./protocol.js";
import { errorFromWire, errorToWire } from "./wire-errors.js";
import { WireServices, type ServiceChannel } from "./wire-services.js";

interface Hosted {
  name: string;
  services: WireServices;
  live?: LiveActor;
  starting?: Promise<LiveActor>;
  /** When this runner last asked the engine to put it to sleep. */
  sleepAskedAt?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (e: unknown) => void;
}

export class RunnerSession implements ServiceChannel {
  readonly welcome: WelcomeMessage;
  readonly #socket: WebSocket;
  readonly #host: LocalHost;
  readonly #limits: Limits;
  readonly #log: Logger;
  readonly #actors = new Map<string, Hosted>();
  /** Tunnels into the actors here, by id (`peerClosed`: the engine closed it, say nothing back). */
  readonly #tunnels = new Map<string, { stream: Duplex; peerClosed: boolean }>();
  readonly #pending = new Map<number, Pending>();
  readonly #outbox: Outbox;
  #nextId = 1;
  #ended = false;
  #lastSeen = Date.now();
  #watchdog: NodeJS.Timeout;
  #sweep: NodeJS.Timeout | undefined;
  #sweepEvery = Infinity;

  constructor(
    socket: WebSocket,
    welcome: WelcomeMessage,
    use: Record<string, AnyActorDefinition>,
    log: Logger,
  ) {
    this.#socket = socket;
    this.welcome = welcome;
    this.#log = log;
    this.#outbox = new Outbox(
      { send: (frame) => (socket.readyState === socket.OPEN ? socket.send(frame) : undefined) },
      () => welcome.maxMessageBytes,
    );
    // The engine's limits and actor defaults, so actors behave as they would embedded in it.
    this.#limits = { ...LimitsSchema.parse({}), ...welcome.limits } as Limits;
    this.#host = new LocalHost(use, {
      sleepTimeout: welcome.actors.sleepTimeoutMs,
      actionTimeout: welcome.actors.actionTimeoutMs,
    });
    // The engine pings every heartbeatMs: a silent engine is a dead connection.
    const every = welcome.heartbeatMs;
    this.#watchdog = setInterval(() => {
      const silent = Date.now() - this.#lastSeen;
      if (silent > every * (MISSED_HEARTBEATS + 1)) {
        this.#log.warn({ silentMs: silent }, "no heartbeat from the engine; reconnecting");
        this.#socket.terminate();
      }
    }, every);
    this.#watchdog.unref();
  }

  get actorCount(): number {
    return this.#actors.size;
  }

  // ---- sending ---------------------------------------------------------------------------------

  #send(message: RunnerMessage): void {
    if (this.#ended || this.#socket.readyState !== this.#socket.OPEN) return;
    this.#outbox.push(encodeWire(message));
  }

  post(message: RunnerMessage): void {
    this.#send(message);
  }

  call<T>(message: RunnerRequest): Promise<T> {
    if (this.#ended) return Promise.reject(disconnected());
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#send({ ...message, id } as RunnerMessage);
    });
  }

  /** Tells the engine this runner is shutting down; it stops the actors here, then closes. */
  goodbye(): void {
    this.#send({ t: "goodbye" });
    this.#outbox.flush();
  }

  // ---- receiving -------------------------------------------------------------------------------

  /** Any frame from the engine counts as a sign of life. */
  touch(): void {
    this.#lastSeen = Date.now();
  }

  handle(m: EngineMessage): void {
    switch (m.t) {
      case "ping":
        return this.#send({ t: "pong", at: m.at });
      case "reply":
        return this.#settle(m.id, (p) => p.resolve(m.value ?? null));
      case "replyError":
        return this.#settle(m.id, (p) => p.reject(errorFromWire(m)));
      case "start":
        return this.#answer(m.id, m.actor.actorId, async () => {
          const live = await this.#start(m.actor);
          return { t: "started", id: m.id, sleepTimeout: live.sleepTimeout };
        });
      case "action":
        return this.#answer(m.id, m.actorId, async () => {
          const caller = m.caller ? { params: m.caller.params, headers: m.caller.headers } : undefined;
          const output = await this.#live(m.actorId).action(m.name, m.args, m.connId, caller);
          return { t: "result", id: m.id, output: output ?? null };
        });
      case "connect":
        return this.#answer(m.id, m.actorId, async () => {
          await this.#live(m.actorId).connect(this.#transport(m.actorId, m.connId, m.params, m.headers));
          return { t: "result", id: m.id, output: null };
        });
      case "subscribe":
        this.#actors.get(m.actorId)?.live?.subscribe(m.connId, m.event, m.on);
        return;
      case "disconnect":
        return this.#answer(m.id, m.actorId, async () => {
          await this.#actors.get(m.actorId)?.live?.disconnect(m.connId);
          return { t: "result", id: m.id, output: null };
        });
      case "request":
        return this.#answer(m.id, m.actorId, async () => {
          const init: RequestInit = { method: m.method, headers: m.headers };
          if (m.body !== undefined) init.body = m.body;
          const res = await this.#live(m.actorId).request(new Request(m.url, init));
          const headers: [string, string][] = [];
          res.headers.forEach((value, name) => headers.push([name, value]));
          const body = new Uint8Array(await res.arrayBuffer());
          return { t: "response", id: m.id, status: res.status, headers, body };
        });
      case "stop":
        return this.#answer(m.id, m.actorId, async () => {
          const hosted = this.#actors.get(m.actorId);
          const live = hosted?.live ?? (await hosted?.starting?.catch(() => undefined));
          if (hosted && live) {
            try {
              await live.stop(m.reason);
            } finally {
              if (this.#actors.get(m.actorId) === hosted) this.#actors.delete(m.actorId);
            }
          }
          return { t: "result", id: m.id, output: null };
        });
      case "tunnelOpen":
        return this.#answer(m.id, m.actorId, async () => {
          await this.#openTunnel(m.actorId, m.tunnelId, m.target);
          return { t: "result", id: m.id, output: null };
        });
      case "tunnelData":
      case "tunnelEnd":
      case "tunnelClose": {
        const t = this.#tunnels.get(m.tunnelId);
        if (!t) return;
        if (m.t === "tunnelData")
          t.stream.write(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
        else if (m.t === "tunnelEnd") t.stream.end();
        else {
          t.peerClosed = true;
          t.stream.destroy();
        }
        return;
      }
      case "welcome":
      case "refused":
        // Only valid during the handshake; the engine closes the socket after a refusal.
        if (m.t === "refused") this.#log.error({ error: m.error }, "the engine refused this runner");
        return;
    }
  }

  /** Wires the actor's own stream (its onTunnel hook) to the tunnel messages. */
  async #openTunnel(actorId: string, tunnelId: string, target: string): Promise<void> {
    const live = this.#live(actorId);
    if (typeof live.tunnel !== "function") {
      throw err(Errors.wsTunnelUnsupported, "This actor type takes no tunnels");
    }
    const stream = await live.tunnel(target);
    const entry = { stream, peerClosed: false };
    this.#tunnels.set(tunnelId, entry);
    stream.on("data", (chunk: Buffer) =>
      this.#send({ t: "tunnelData", tunnelId, data: new Uint8Array(chunk) }),
    );
    stream.on("end", () => this.#send({ t: "tunnelEnd", tunnelId }));
    stream.on("error", () => undefined); // reported as the close below
    stream.on("close", () => {
      this.#tunnels.delete(tunnelId);
      if (!entry.peerClosed && !this.#ended) this.#send({ t: "tunnelClose", tunnelId });
    });
  }

  #settle(id: number, fn: (p: Pending) => void): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    fn(pending);
  }

  /** Runs `work` and sends its answer, or the error it failed with. */
  #answer(id: number, actorId: string, work: () => Promise<RunnerMessage>): void {
    let run: Promise<RunnerMessage>;
    try {
      run = work();
    } catch (e) {
      run = Promise.reject(e);
    }
    run.then(
      (answer) => this.#send(answer),
      (e: unknown) => {
        const log = this.#log.child({ actorId });
        this.#send({ t: "error", id, ...errorToWire(e, log, { actorId }) });
      },
    );
  }

  #live(actorId: string): LiveActor {
    const live = this.#actors.get(actorId)?.live;
    if (!live) throw err(Errors.runnerLost, "The actor is not running on this runner; retry", { actorId });
    return live;
  }

  async #start(wire: WireActorRecordType): Promise<LiveActor> {
    if (!this.#host.hasType(wire.name)) {
      throw err(Errors.actorTypeNotFound, `This runner does not host actor type "${wire.name}"`, {
        name: wire.name,
        types: this.#host.typeNames(),
      });
    }
    const record: ActorRecord = { ...wire };
    const log = this.#log.child({ actorId: wire.actorId, actor: wire.name });
    const hosted: Hosted = {
      name: wire.name,
      services: new WireServices(this, wire.actorId, this.#limits, log),
    };
    this.#actors.set(wire.actorId, hosted);
    try {
      hosted.starting = this.#host.start(record, hosted.services);
      const live = await hosted.starting;
      hosted.live = live;
      this.#ensureSweep(live.sleepTimeout);
      if (this.#ended) void live.stop("shutdown").catch(() => undefined);
      return live;
    } catch (e) {
      if (this.#actors.get(wire.actorId) === hosted) this.#actors.delete(wire.actorId);
      throw e;
    } finally {
      delete hosted.starting;
    }
  }

  #transport(
    actorId: string,
    connId: string,
    params: unknown,
    headers: Record<string, string>,
  ): ConnTransport {
    return {
      id: connId,
      params,
      headers,
      send: (m) => this.#send({ t: "connSend", actorId, connId, name: m.name, args: m.args }),
      close: (code, reason) =>
        this.#send({ t: "connClose", actorId, connId, code, reason: reason.slice(0, 120) }),
    };
  }

  // ---- idleness --------------------------------------------------------------------------------

  #ensureSweep(sleepTimeout: number): void {
    const every = Math.min(1000, Math.max(10, Math.floor(sleepTimeout / 4)));
    if (every >= this.#sweepEvery || this.#ended) return;
    this.#sweepEvery = every;
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = setInterval(() => this.#sweepIdle(), every);
    this.#sweep.unref();
  }

  #sweepIdle(): void {
    const now = Date.now();
    for (const [actorId, hosted] of this.#actors) {
      const live = hosted.live;
      if (!live) continue;
      const since = live.idleSince();
      if (since === undefined || now - since < live.sleepTimeout) continue;
      // Asked already and the engine has not stopped it yet: ask again only after a while.
      if (hosted.sleepAskedAt !== undefined && now - hosted.sleepAskedAt < Math.max(live.sleepTimeout, 5000))
        continue;
      hosted.sleepAskedAt = now;
      this.#send({ t: "requestSleep", actorId });
    }
  }

  // ---- the end ---------------------------------------------------------------------------------

  /**
   * The connection is gone: calls in flight fail, and the actors here are abandoned (their
   * hooks run for clean-up, but nothing they write can reach the engine any more).
   */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#outbox.clear();
    clearInterval(this.#watchdog);
    if (this.#sweep) clearInterval(this.#sweep);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(disconnected());
    for (const t of [...this.#tunnels.values()]) {
      t.peerClosed = true;
      t.stream.destroy();
    }
    const actors = [...this.#actors.values()];
    this.#actors.clear();
    if (actors.length > 0)
      this.#log.warn({ actors: actors.length }, "dropping the actors of the lost connection");
    for (const hosted of actors) {
      void hosted.live
        ?.stop("shutdown")
        .catch((e: unknown) => this.#log.debug({ err: e }, "an abandoned actor did not stop cleanly"));
    }
  }
}

function disconnected() {
  return err(Errors.runnerLost, "This runner lost its connection to the engine");
}
