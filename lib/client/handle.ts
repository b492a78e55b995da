/**
 * Actor handles: `client.counter.getOrCreate(key)` returns one synchronously; it finds (or
 * creates) the actor on first use and remembers its id.
 */
import type { AnyActorDefinition, ClientActions } from "../actor/definition.js";
import type {
  ActionResponse,
  CreateResponse,
  GetOrCreateResponse,
  ListActorsResponse,
} from "../wire/protocol.js";
import { encodeWire } from "../wire/codec.js";
import { ActorError } from "./errors.js";
import { buildUrl, encodeSegment, toWebSocketUrl } from "./endpoint.js";
import {
  ConnectionCore,
  connectionProxy,
  type ActorConnection,
  type ConnectionOptions,
} from "./connection.js";
import { actionProxy } from "./names.js";
import type { Transport } from "./transport.js";

/** An actor key: a string is the same as a one-element array. */
export type ActorKey = string | readonly string[];

/** The argument list of an action method. */
export type ActionArgs<F> = F extends (...args: infer P) => unknown ? P : never;
/** The promise an action method returns. */
export type ActionResult<F> = F extends (...args: never[]) => infer R ? R : never;

/** The members a handle has besides the actor's actions (these names are reserved for actions). */
export interface ActorHandleBase<D = AnyActorDefinition> {
  /** The actor's id; looks it up (or creates the actor) on first use, then remembers it. */
  resolve(): Promise<string>;
  /** Calls an action by name (`POST /gateway/{id}/action/{name}`). */
  action<K extends keyof ClientActions<D> & string>(
    name: K,
    ...args: ActionArgs<ClientActions<D>[K]>
  ): ActionResult<ClientActions<D>[K]>;
  /**
   * Opens a WebSocket to the actor (returned at once, connecting in the background); `params`
   * reach the actor's `onBeforeConnect` / `createConnState` and `conn.params`.
   */
  connect(params?: unknown): ActorConnection<D>;
  /**
   * A raw HTTP request to the actor's `onRequest` handler (`ANY /gateway/{id}/request/<path>`).
   * The credentials are added; the response is returned as is, whatever its status.
   */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /**
   * `http://host:port/gateway/{actorId}` without credentials, to hand to something that brings
   * its own token. Async: the handle may first have to look up or create the actor.
   */
  getGatewayUrl(): Promise<string>;
}

/** A handle: the base members plus one method per action of the definition. */
export type ActorHandle<D = AnyActorDefinition> = ActorHandleBase<D> &
  Omit<ClientActions<D>, keyof ActorHandleBase<D>>;

export type HandleTarget = (
  | { kind: "get"; name: string; key: string[] }
  | { kind: "getOrCreate" | "create"; name: string; key: string[]; input: unknown }
  | { kind: "id"; actorId: string }
) & {
  /** Connection params: sent with every HTTP action (for onBeforeConnect) and by connect(). */
  params?: unknown;
};

export interface HandleDeps {
  transport: Transport;
  connectionOptions: ConnectionOptions;
  track(conn: ConnectionCore): void;
  untrack(conn: ConnectionCore): void;
}

export function normalizeKey(key: ActorKey | undefined): string[] {
  if (key === undefined) return [];
  if (typeof key === "string") return [key];
  if (!Array.isArray(key) || key.some((part) => typeof part !== "string")) {
    throw new TypeError("an actor key is a string or an array of strings");
  }
  return [...key];
}

function sameKey(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

export class HandleCore {
  readonly #deps: HandleDeps;
  readonly #target: HandleTarget;
  /** The params as the x-enclave-conn-params header (URI-encoded wire JSON), or none. */
  readonly #paramsHeader: Record<string, string> | undefined;
  #actorId: string | undefined;
  #resolving: Promise<string> | undefined;

  constructor(deps: HandleDeps, target: HandleTarget) {
    this.#deps = deps;
    this.#target = target;
    if (target.kind === "id") this.#actorId = target.actorId;
    // Encoded once, now: params that are not JSON are the caller's error, reported here.
    this.#paramsHeader =
      target.params === undefined
        ? undefined
        : { "x-enclave-conn-params": encodeURIComponent(encodeWire(target.params)) };
  }

  describe(): string {
    const t = this.#target;
    return t.kind === "id" ? `ActorHandle(${t.actorId})` : `ActorHandle(${t.name}, ${JSON.stringify(t.key)})`;
  }

  resolve(): Promise<string> {
    if (this.#actorId !== undefined) return Promise.resolve(this.#actorId);
    this.#resolving ??= this.#lookUp().then(
      (id) => {
        this.#actorId = id;
        this.#resolving = undefined;
        return id;
      },
      (error: unknown) => {
        // Nothing is remembered on failure: the next call tries again.
        this.#resolving = undefined;
        throw error;
      },
    );
    return this.#resolving;
  }

  async #lookUp(): Promise<string> {
    const t = this.#target;
    const http = this.#deps.transport;
    switch (t.kind) {
      case "id":
        return t.actorId;
      case "get": {
        const res = await http.json<ListActorsResponse>("GET", "/actors", {
          query: { name: t.name, key: t.key },
        });
        const found = res.actors.find((a) => sameKey(a.key, t.key) && a.status !== "destroyed");
        if (found === undefined) {
          throw new ActorError({
            group: "actor",
            code: "not_found",
            message: `no ${t.name} actor with key ${JSON.stringify(t.key)}`,
            status: 404,
            metadata: { name: t.name, key: t.key },
          });
        }
        return found.actorId;
      }
      case "getOrCreate":
      case "create": {
        const body: Record<string, unknown> = { name: t.name, key: t.key };
        if (t.input !== undefined) body.input = t.input;
        const res =
          t.kind === "create"
            ? await http.json<CreateResponse>("POST", "/actors", { body })
            : await http.json<GetOrCreateResponse>("PUT", "/actors", { body });
        return res.actor.actorId;
      }
    }
  }

  async action(name: string, args: unknown[]): Promise<unknown> {
    const id = await this.resolve();
    try {
      return await this.#post(id, name, args);
    } catch (error) {
      // The remembered actor is gone (destroyed, or a stale id): look the key up again, once.
      // The action did not run, so sending it again is safe.
      const t = this.#target;
      const gone = ActorError.is(error, "actor", "not_found") || ActorError.is(error, "actor", "destroyed");
      if (gone && (t.kind === "get" || t.kind === "getOrCreate") && this.#actorId === id) {
        this.#actorId = undefined;
        const again = await this.resolve();
        if (again !== id) return await this.#post(again, name, args);
      }
      throw error;
    }
  }

  async #post(actorId: string, name: string, args: unknown[]): Promise<unknown> {
    const res = await this.#deps.transport.json<ActionResponse & { output?: unknown }>(
      "POST",
      `/gateway/${encodeSegment(actorId)}/action/${encodeSegment(name)}`,
      this.#paramsHeader ? { body: { args }, headers: this.#paramsHeader } : { body: { args } },
    );
    return res.output;
  }

  connect(explicit: unknown): ConnectionCore {
    const transport = this.#deps.transport;
    const params = explicit === undefined ? this.#target.params : explicit;
    // Encode now: a params value that is not JSON is the caller's error, reported here.
    const encodedParams = params === undefined ? undefined : encodeWire(params);
    const conn = new ConnectionCore({
      resolveActorId: () => this.resolve(),
      socketUrl: (actorId) =>
        toWebSocketUrl(
          buildUrl(transport.endpoint, `/gateway/${encodeSegment(actorId)}/connect`, {
            params: encodedParams,
          }),
        ),
      token: transport.endpoint.token,
      options: this.#deps.connectionOptions,
      onDisposed: (c) => this.#deps.untrack(c),
    });
    this.#deps.track(conn);
    return conn;
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    if (typeof path !== "string") throw new TypeError("handle.fetch(path, init) takes a path string");
    const id = await this.resolve();
    const transport = this.#deps.transport;
    const rest = path.startsWith("/") ? path.slice(1) : path;
    const url = buildUrl(transport.endpoint, `/gateway/${encodeSegment(id)}/request/${rest}`);
    return transport.send(url, { ...init, headers: transport.withAuth(init.headers) });
  }

  async getGatewayUrl(): Promise<string> {
    const id = await this.resolve();
    return `${this.#deps.transport.endpoint.baseUrl}/gateway/${encodeSegment(id)}`;
  }
}

const HANDLE_MEMBERS = new Set(["resolve", "action", "connect", "fetch", "getGatewayUrl", "toString"]);

/** The public face of a handle. `then` is always undefined, so a handle is never taken for a promise. */
export function handleProxy<D>(core: HandleCore): ActorHandle<D> {
  const base = {
    resolve: () => core.resolve(),
    action: (name: string, ...args: unknown[]) => core.action(name, args),
    connect: (params?: unknown) => connectionProxy<D>(core.connect(params)),
    fetch: (path: string, init?: RequestInit) => core.fetch(path, init),
    getGatewayUrl: () => core.getGatewayUrl(),
    toString: () => core.describe(),
  };
  return actionProxy(base, HANDLE_MEMBERS, (name, args) => core.action(name, args)) as ActorHandle<D>;
}
