/**
 * The engine's host for actors that run on runners (runner mode). It keeps the runners
 * connected to each namespace, places an actor on a runner that hosts its type (the least
 * loaded one), and waits up to `runners.placementTimeoutMs` for one to connect before failing
 * with 503 runner/no_runner. The engine keeps the directory, state, KV, alarms and routing:
 * actor code on a runner reaches storage only through service calls the engine executes.
 *
 * An actor lives on at most one runner: it is placed again only after the engine has forgotten
 * it, and a runner's calls for an actor not placed on it are refused, so a runner that was cut
 * off (but still runs) can no longer commit anything.
 */
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import type { EngineConfig } from "../config/index.js";
import { Errors, err, type EnclaveError } from "../errors.js";
import type { ActorHost, ActorRecord, ActorServices, LiveActor } from "../engine/types.js";
import { newRunnerId, RunnerLink, type LinkOwner } from "./link.js";
import { RunnerCloseCodes, type HelloMessage } from "./protocol.js";
import { isRunnerLost } from "./wire-errors.js";

/** Accepts runner connections; the gateway's `/runners/connect` route hands sockets to it. */
export interface RunnerHub {
  accept(socket: WebSocket, namespace: string, meta: { remoteAddress?: string }): void;
}

export interface RemoteHostOptions {
  config: EngineConfig;
  log: Logger;
  /** The engine pings every runner this often; one silent for 3 intervals is dropped. Default 5000. */
  heartbeatMs?: number;
  /** A runner must say hello this soon after connecting. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Types the engine runs itself: a runner announcing one is told in the log that it is not used. */
  isLocalType?: (name: string) => boolean;
}

/** The runners connected to an engine, as `createEngine()`'s result shows them. */
export interface ConnectedRunners {
  /** The runners connected now (all namespaces), handshake done. */
  list(): RunnerInfo[];
}

/** What the engine knows about a connected runner. */
export interface RunnerInfo {
  runnerId: string;
  runnerName: string | undefined;
  namespace: string;
  types: string[];
  actors: number;
  draining: boolean;
}

export const DEFAULT_HEARTBEAT_MS = 5000;
const MAX_ASSEMBLED_BYTES = 64 * 1024 * 1024;

interface Waiter {
  namespace: string;
  name: string;
  wake: () => void;
}

export class RemoteHost implements ActorHost, RunnerHub, LinkOwner, ConnectedRunners {
  readonly #config: EngineConfig;
  readonly #log: Logger;
  readonly #heartbeatMs: number;
  readonly #handshakeTimeoutMs: number;
  readonly #isLocalType: (name: string) => boolean;
  /** Every open socket, handshake done or not. */
  readonly #links = new Set<RunnerLink>();
  /** Runners that completed the handshake and are not gone, by namespace. */
  readonly #ready = new Map<string, Set<RunnerLink>>();
  /** Every type name a runner has announced since the engine started. */
  readonly #announced = new Set<string>();
  readonly #waiters = new Set<Waiter>();
  #placing = true;

  constructor(options: RemoteHostOptions) {
    this.#config = options.config;
    this.#log = options.log.child({ component: "runners" });
    this.#heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.#isLocalType = options.isLocalType ?? (() => false);
  }

  // ---- ActorHost -------------------------------------------------------------------------------

  /** Types some runner has announced since the engine started (it may come back). */
  hasType(name: string): boolean {
    return this.#announced.has(name);
  }

  /** Types the connected runners host. */
  typeNames(): string[] {
    const names = new Set<string>();
    for (const set of this.#ready.values()) for (const link of set) for (const t of link.types) names.add(t);
    return [...names].sort();
  }

  async start(record: ActorRecord, services: ActorServices): Promise<LiveActor> {
    const timeoutMs = this.#config.runners.placementTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const link = await this.#place(record.namespace, record.name, deadline, timeoutMs);
      try {
        return await link.startActor(record, services);
      } catch (e) {
        // Its runner went away while it was starting: try another one while time is left.
        if (isRunnerLost(e) && this.#placing && Date.now() < deadline) continue;
        throw e;
      }
    }
  }

  // ---- placement -------------------------------------------------------------------------------

  /** The least loaded ready runner of `namespace` hosting `name`, waiting for one until `deadline`. */
  async #place(namespace: string, name: string, deadline: number, timeoutMs: number): Promise<RunnerLink> {
    for (;;) {
      if (!this.#placing) throw err(Errors.stopping);
      const link = this.#pick(namespace, name);
      if (link) return link;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw err(
          Errors.noRunner,
          `No runner hosting actor type "${name}" is connected to namespace "${namespace}" (waited ${timeoutMs} ms)`,
          { name, namespace, waitedMs: timeoutMs },
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => waiter.wake(), left);
        const waiter: Waiter = {
          namespace,
          name,
          wake: () => {
            clearTimeout(timer);
            this.#waiters.delete(waiter);
            resolve();
          },
        };
        this.#waiters.add(waiter);
      });
    }
  }

  #pick(namespace: string, name: string): RunnerLink | undefined {
    let best: RunnerLink | undefined;
    for (const link of this.#ready.get(namespace) ?? []) {
      if (link.state !== "ready" || !link.types.has(name)) continue;
      if (!best || link.actors.size < best.actors.size) best = link;
    }
    return best;
  }

  // ---- runner connections ----------------------------------------------------------------------

  accept(socket: WebSocket, namespace: string, meta: { remoteAddress?: string }): void {
    if (!this.#placing) {
      socket.close(RunnerCloseCodes.goingAway, "engine stopping");
      return;
    }
    const link = new RunnerLink(socket, this, {
      namespace,
      remoteAddress: meta.remoteAddress,
      heartbeatMs: this.#heartbeatMs,
      handshakeTimeoutMs: this.#handshakeTimeoutMs,
      maxMessageBytes: this.#config.limits.messageBytes,
      maxAssembledBytes: Math.max(MAX_ASSEMBLED_BYTES, this.#config.limits.messageBytes * 4),
      welcome: {
        limits: { ...this.#config.limits },
        actors: {
          sleepTimeoutMs: this.#config.actors.sleepTimeoutMs,
          actionTimeoutMs: this.#config.actors.actionTimeoutMs,
        },
      },
      log: this.#log,
    });
    this.#links.add(link);
    void link.gone.then(() => this.#links.delete(link));
  }

  hello(link: RunnerLink, hello: HelloMessage): string | EnclaveError {
    if (!this.#placing) return err(Errors.stopping);
    let id = hello.runnerId;
    if (id !== undefined) {
      // The same runner again (it reconnected before the engine noticed the old socket was dead):
      // the old connection goes now, and its actors with it.
      for (const other of this.#ready.get(link.namespace) ?? []) {
        if (other !== link && other.runnerId === id) {
          other.log.warn("runner reconnected; dropping its previous connection");
          other.close(RunnerCloseCodes.replaced, "replaced by a new connection with the same runner id");
        }
      }
    } else {
      id = newRunnerId();
    }
    return id;
  }

  ready(link: RunnerLink): void {
    let set = this.#ready.get(link.namespace);
    if (!set) this.#ready.set(link.namespace, (set = new Set()));
    set.add(link);
    for (const t of link.types) this.#announced.add(t);
    const shadowed = [...link.types].filter((t) => this.#isLocalType(t));
    link.log.info(
      { runnerName: link.runnerName, types: [...link.types], remoteAddress: link.remoteAddress },
      "runner connected",
    );
    if (shadowed.length > 0) {
      link.log.warn(
        { types: shadowed },
        "the engine runs these actor types itself; the runner's copies of them are not used",
      );
    }
    for (const w of [...this.#waiters]) {
      if (w.namespace === link.namespace && link.types.has(w.name)) w.wake();
    }
  }

  draining(link: RunnerLink): void {
    for (const actor of [...link.actors.values()]) actor.services.requestSleep();
  }

  detached(link: RunnerLink): void {
    this.#ready.get(link.namespace)?.delete(link);
  }

  list(): RunnerInfo[] {
    const out: RunnerInfo[] = [];
    for (const set of this.#ready.values()) {
      for (const link of set) {
        out.push({
          runnerId: link.runnerId,
          runnerName: link.runnerName,
          namespace: link.namespace,
          types: [...link.types],
          actors: link.actors.size,
          draining: link.state === "draining",
        });
      }
    }
    return out;
  }

  // ---- shutdown --------------------------------------------------------------------------------

  /** Stops placing actors: requests waiting for a runner fail with actor/stopping. */
  stopPlacing(): void {
    this.#placing = false;
    for (const w of [...this.#waiters]) w.wake();
  }

  /** Closes every runner connection (1001: the runners reconnect with backoff). */
  async close(): Promise<void> {
    this.stopPlacing();
    const links = [...this.#links];
    for (const link of links) link.close(RunnerCloseCodes.goingAway, "engine stopping");
    await Promise.all(links.map((l) => l.gone));
  }
}
