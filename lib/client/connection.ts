/**
 * `handle.connect()`: one WebSocket to an actor, kept open. Actions as methods, events, status,
 * automatic reconnection with exponential backoff and jitter.
 */
import type { AnyActorDefinition, ClientActions } from "../actor/definition.js";
import { decodeWire, encodeWire } from "../wire/codec.js";
import { CloseCodes, type ClientMessage, type ServerMessage } from "../wire/protocol.js";
import { ActorError, connectionError } from "./errors.js";
import { openSocket, type Socket } from "./socket.js";
import { actionProxy } from "./names.js";

export type ConnectionStatus = "connecting" | "connected" | "disconnected";

// Event payloads are whatever the actor broadcast; listeners declare what they expect.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventListener = (...args: any[]) => void;

export interface ConnectionOptions {
  /** First reconnect delay (before jitter). Default 250 ms. */
  minReconnectDelayMs?: number;
  /** Longest reconnect delay (before jitter). Default 10 s. */
  maxReconnectDelayMs?: number;
  /** Actions waiting for the socket beyond this many are refused (`connection.queue_full`). Default 1000. */
  maxQueuedActions?: number;
  /** An attempt that has not received the server's `init` after this long is dropped and retried. Default 15 s. */
  openTimeoutMs?: number;
}

/** The members a connection has besides the actor's actions. */
export interface ActorConnectionBase<D = AnyActorDefinition> {
  /** Calls an action by name over the socket. */
  action<K extends keyof ClientActions<D> & string>(
    name: K,
    ...args: Parameters<ClientActions<D>[K]>
  ): ReturnType<ClientActions<D>[K]>;
  /** Listens to an event; subscribes on the server with the first listener. Returns `off`. */
  on(event: string, listener: EventListener): () => void;
  /** Like `on`, for the next occurrence only. Returns `off`. */
  once(event: string, listener: EventListener): () => void;
  /** Called on every status change. Returns `off`. */
  onStatusChange(listener: (status: ConnectionStatus) => void): () => void;
  /**
   * Connection-level errors: a refused connection (for example `onBeforeConnect` threw a
   * UserError; it arrives as is), an unreachable engine, a listener that threw. Returns `off`.
   */
  onError(listener: (error: ActorError) => void): () => void;
  /** `connecting` (attempting), `connected` (ready), `disconnected` (waiting to retry, or closed for good). */
  readonly status: ConnectionStatus;
  /** Closes the socket for good; pending and queued actions fail with `connection.disposed`. */
  dispose(): Promise<void>;
}

/** A connection: the base members plus one method per action of the definition. */
export type ActorConnection<D = AnyActorDefinition> = ActorConnectionBase<D> &
  Omit<ClientActions<D>, keyof ActorConnectionBase<D>>;

interface Pending {
  name: string;
  args: unknown[];
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface ConnectionDeps {
  resolveActorId(): Promise<string>;
  /** The WebSocket URL for an actor id (namespace and params in the query, no token). */
  socketUrl(actorId: string): string;
  token: string | undefined;
  options: ConnectionOptions;
  onDisposed(conn: ConnectionCore): void;
}

// Refusals that will not change by retrying.
const PERMANENT_CLOSE = new Set<number>([CloseCodes.rejected, CloseCodes.notFound, CloseCodes.destroyed]);
const PERMANENT_STATUS = new Set([401, 403, 404]);

export class ConnectionCore {
  #status: ConnectionStatus = "connecting";
  #socket: Socket | undefined;
  /** Incremented per attempt; callbacks of an older attempt are ignored. */
  #attempt = 0;
  #failures = 0;
  #ready = false;
  #nextId = 1;
  #inFlight = new Map<number, Pending>();
  #queue: Pending[] = [];
  #listeners = new Map<string, Set<EventListener>>();
  #statusListeners = new Set<(status: ConnectionStatus) => void>();
  #errorListeners = new Set<(error: ActorError) => void>();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #openTimer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;
  /** Set when the server refused us for good; every later action fails with it. */
  #fatal: ActorError | undefined;
  #closeWaiters: (() => void)[] = [];
  readonly #deps: ConnectionDeps;
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #maxQueued: number;
  readonly #openTimeout: number;

  constructor(deps: ConnectionDeps) {
    this.#deps = deps;
    this.#minDelay = Math.max(1, deps.options.minReconnectDelayMs ?? 250);
    this.#maxDelay = Math.max(this.#minDelay, deps.options.maxReconnectDelayMs ?? 10_000);
    this.#maxQueued = deps.options.maxQueuedActions ?? 1000;
    this.#openTimeout = deps.options.openTimeoutMs ?? 15_000;
    void this.#open();
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  action(name: string, args: unknown[]): Promise<unknown> {
    if (this.#disposed) return Promise.reject(disposedError());
    if (this.#fatal !== undefined) return Promise.reject(this.#fatal);
    return new Promise((resolve, reject) => {
      const pending: Pending = { name, args, resolve, reject };
      if (this.#ready) {
        this.#sendAction(pending);
      } else if (this.#queue.length >= this.#maxQueued) {
        reject(
          connectionError(
            "queue_full",
            `${this.#maxQueued} actions are already waiting for the connection; try again once it is connected`,
          ),
        );
      } else {
        this.#queue.push(pending);
      }
    });
  }

  on(event: string, listener: EventListener): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    const first = set.size === 0;
    // The same function twice is two listeners (as with EventEmitter): wrap to keep them apart.
    const entry: EventListener = (...args) => listener(...args);
    set.add(entry);
    if (first && this.#ready) this.#send({ t: "sub", event });
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const current = this.#listeners.get(event);
      if (current === undefined || !current.delete(entry)) return;
      if (current.size === 0) {
        this.#listeners.delete(event);
        if (this.#ready) this.#send({ t: "unsub", event });
      }
    };
  }

  once(event: string, listener: EventListener): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  onStatusChange(listener: (status: ConnectionStatus) => void): () => void {
    const entry = (status: ConnectionStatus): void => listener(status);
    this.#statusListeners.add(entry);
    return () => void this.#statusListeners.delete(entry);
  }

  onError(listener: (error: ActorError) => void): () => void {
    const entry = (error: ActorError): void => listener(error);
    this.#errorListeners.add(entry);
    return () => void this.#errorListeners.delete(entry);
  }

  dispose(): Promise<void> {
    if (!this.#disposed) {
      this.#disposed = true;
      this.#deps.onDisposed(this);
      this.#clearTimers();
      this.#failAll(disposedError());
      this.#ready = false;
      const socket = this.#socket;
      this.#setStatus("disconnected");
      if (socket !== undefined) {
        const closed = new Promise<void>((resolve) => {
          this.#closeWaiters.push(resolve);
          // Never hang a shutdown on a peer that does not answer the close.
          setTimeout(resolve, 1000).unref?.();
        });
        socket.close(CloseCodes.normal, "disposed");
        return closed;
      }
    }
    if (this.#socket === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
  }

  // --- lifecycle -------------------------------------------------------------------------------

  async #open(): Promise<void> {
    if (this.#disposed || this.#fatal !== undefined) return;
    const attempt = ++this.#attempt;
    this.#setStatus("connecting");
    let actorId: string;
    try {
      actorId = await this.#deps.resolveActorId();
    } catch (error) {
      if (attempt !== this.#attempt || this.#disposed) return;
      const err = asActorError(error);
      if (isPermanentResolveError(err)) this.#fail(err);
      else this.#retryLater(err);
      return;
    }
    if (attempt !== this.#attempt || this.#disposed) return;

    let refusal: ActorError | undefined;
    let serverError: ActorError | undefined;
    const current = (): boolean => attempt === this.#attempt && !this.#disposed;
    let socket: Socket;
    try {
      socket = await openSocket(
        this.#deps.socketUrl(actorId),
        { token: this.#deps.token, handshakeTimeoutMs: this.#openTimeout },
        {
          open: () => undefined,
          message: (text) => {
            if (!current()) return;
            const error = this.#onMessage(text);
            if (error !== undefined) serverError = error;
          },
          refused: (status, wire) => {
            refusal =
              wire !== undefined
                ? ActorError.fromWire(wire, status)
                : new ActorError({
                    group: "connection",
                    code: "refused",
                    message: `the engine refused the connection with HTTP ${status}`,
                    status,
                    retryable: !PERMANENT_STATUS.has(status),
                  });
          },
          close: (code, reason) => {
            const waiters = this.#closeWaiters.splice(0);
            for (const resolve of waiters) resolve();
            if (attempt !== this.#attempt) return;
            this.#socket = undefined;
            this.#onClose(code, reason, refusal, serverError);
          },
        },
      );
    } catch (error) {
      if (!current()) return;
      const err = asActorError(error);
      if (err.group === "connection") this.#retryLater(err);
      else this.#fail(err);
      return;
    }
    if (!current()) {
      socket.close(CloseCodes.normal, "disposed");
      return;
    }
    this.#socket = socket;
    this.#openTimer = setTimeout(() => {
      this.#openTimer = undefined;
      if (attempt === this.#attempt && !this.#ready) socket.close(CloseCodes.normal, "open timeout");
    }, this.#openTimeout);
  }

  /** Handles one server message; returns a connection-level error if it was one. */
  #onMessage(text: string): ActorError | undefined {
    let message: ServerMessage;
    try {
      message = decodeWire<ServerMessage>(text);
    } catch {
      this.#emitError(
        new ActorError({
          group: "connection",
          code: "protocol",
          message: "the engine sent a message that is not JSON",
        }),
      );
      return undefined;
    }
    switch (message.t) {
      case "init":
        this.#onReady();
        return undefined;
      case "result": {
        const pending = this.#inFlight.get(message.id);
        if (pending !== undefined) {
          this.#inFlight.delete(message.id);
          pending.resolve(message.output);
        }
        return undefined;
      }
      case "error": {
        const error = ActorError.fromWire(message.error);
        if (message.id === undefined) {
          this.#emitError(error);
          return error;
        }
        const pending = this.#inFlight.get(message.id);
        if (pending !== undefined) {
          this.#inFlight.delete(message.id);
          pending.reject(error);
        }
        return undefined;
      }
      case "event": {
        const set = this.#listeners.get(message.name);
        if (set === undefined) return undefined;
        const args = Array.isArray(message.args) ? message.args : [];
        for (const listener of [...set]) {
          try {
            listener(...args);
          } catch (error) {
            this.#emitError(
              new ActorError({
                group: "client",
                code: "listener_error",
                message: `a listener for "${message.name}" threw: ${error instanceof Error ? error.message : String(error)}`,
                retryable: false,
                cause: error,
              }),
            );
          }
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  #onReady(): void {
    if (this.#openTimer !== undefined) clearTimeout(this.#openTimer);
    this.#openTimer = undefined;
    this.#ready = true;
    this.#failures = 0;
    for (const event of this.#listeners.keys()) this.#send({ t: "sub", event });
    const queued = this.#queue.splice(0);
    for (const pending of queued) this.#sendAction(pending);
    this.#setStatus("connected");
  }

  #onClose(code: number, reason: string, refusal?: ActorError, serverError?: ActorError): void {
    if (this.#openTimer !== undefined) clearTimeout(this.#openTimer);
    this.#openTimer = undefined;
    this.#ready = false;
    const lost = connectionError(
      "disconnected",
      `the connection closed (code ${code}) before the action finished`,
    );
    for (const pending of this.#inFlight.values()) pending.reject(lost);
    this.#inFlight.clear();
    if (this.#disposed) return;

    if (refusal !== undefined && PERMANENT_STATUS.has(refusal.status)) {
      this.#fail(refusal);
      return;
    }
    if (PERMANENT_CLOSE.has(code)) {
      this.#fail(
        serverError ??
          new ActorError({
            group: "connection",
            code:
              code === CloseCodes.rejected
                ? "rejected"
                : code === CloseCodes.notFound
                  ? "not_found"
                  : "destroyed",
            message: `the engine closed the connection for good (code ${code}${reason ? `: ${reason}` : ""})`,
            retryable: false,
          }),
        // A server error message was reported when it arrived.
        serverError === undefined,
      );
      return;
    }
    this.#retryLater(refusal ?? connectionError("disconnected", `the connection closed (code ${code})`));
  }

  #retryLater(error: ActorError): void {
    if (this.#disposed || this.#fatal !== undefined) return;
    // Report the first failure of a run only, not every retry.
    if (this.#failures === 0 && error.code !== "disconnected") this.#emitError(error);
    const base = Math.min(this.#maxDelay, this.#minDelay * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    const delay = base / 2 + Math.random() * (base / 2);
    this.#setStatus("disconnected");
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#open();
    }, delay);
  }

  /** Stops for good: a permanent refusal. */
  #fail(error: ActorError, report = true): void {
    this.#fatal = error;
    this.#clearTimers();
    this.#failAll(error);
    this.#setStatus("disconnected");
    if (report) this.#emitError(error);
  }

  // --- helpers ---------------------------------------------------------------------------------

  #sendAction(pending: Pending): void {
    const id = this.#nextId++;
    let text: string;
    try {
      text = encodeWire({ t: "action", id, name: pending.name, args: pending.args } satisfies ClientMessage);
    } catch (error) {
      pending.reject(
        new ActorError({
          group: "client",
          code: "not_serializable",
          message: `the arguments of "${pending.name}" cannot be sent as JSON`,
          retryable: false,
          cause: error,
        }),
      );
      return;
    }
    this.#inFlight.set(id, pending);
    if (!this.#sendText(text)) {
      this.#inFlight.delete(id);
      pending.reject(connectionError("disconnected", "the connection closed before the action was sent"));
    }
  }

  #send(message: ClientMessage): boolean {
    return this.#sendText(encodeWire(message));
  }

  #sendText(text: string): boolean {
    const socket = this.#socket;
    if (socket === undefined) return false;
    try {
      socket.send(text);
      return true;
    } catch {
      return false;
    }
  }

  #failAll(error: ActorError): void {
    const pending = [...this.#queue, ...this.#inFlight.values()];
    this.#queue = [];
    this.#inFlight.clear();
    for (const p of pending) p.reject(error);
  }

  #clearTimers(): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    if (this.#openTimer !== undefined) clearTimeout(this.#openTimer);
    this.#retryTimer = undefined;
    this.#openTimer = undefined;
  }

  #setStatus(status: ConnectionStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    for (const listener of [...this.#statusListeners]) {
      try {
        listener(status);
      } catch {
        // A status listener's failure is its own; the connection goes on.
      }
    }
  }

  #emitError(error: ActorError): void {
    for (const listener of [...this.#errorListeners]) {
      try {
        listener(error);
      } catch {
        // As above.
      }
    }
  }
}

function disposedError(): ActorError {
  return connectionError("disposed", "the connection was disposed", undefined, false);
}

function asActorError(error: unknown): ActorError {
  if (error instanceof ActorError) return error;
  return new ActorError({
    group: "client",
    code: "unexpected",
    message: error instanceof Error ? error.message : String(error),
    retryable: false,
    cause: error,
  });
}

/** Looking the actor up failed: retry network trouble and 5xx, give up on 4xx (bad key, no such actor, auth). */
function isPermanentResolveError(error: ActorError): boolean {
  if (error.group === "connection" || error.retryable) return false;
  return error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
}

const CONNECTION_MEMBERS = new Set([
  "action",
  "on",
  "once",
  "onStatusChange",
  "onError",
  "status",
  "dispose",
  "toString",
]);

/** The public face of a connection: the base members, then any other identifier is an action. */
export function connectionProxy<D>(core: ConnectionCore): ActorConnection<D> {
  const base = {
    action: (name: string, ...args: unknown[]) => core.action(name, args),
    on: (event: string, listener: EventListener) => core.on(event, listener),
    once: (event: string, listener: EventListener) => core.once(event, listener),
    onStatusChange: (listener: (status: ConnectionStatus) => void) => core.onStatusChange(listener),
    onError: (listener: (error: ActorError) => void) => core.onError(listener),
    get status() {
      return core.status;
    },
    dispose: () => core.dispose(),
    toString: () => `ActorConnection(${core.status})`,
  };
  return actionProxy(base, CONNECTION_MEMBERS, (name, args) => core.action(name, args)) as ActorConnection<D>;
}
