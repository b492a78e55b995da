/** `createClient()`: the typed entry point. */
import type { ActorDefinition, AnyActorDefinition } from "../actor/definition.js";
import type { ConnectionCore, ConnectionOptions } from "./connection.js";
import { parseEndpoint, type Endpoint, type EndpointOptions } from "./endpoint.js";
import {
  HandleCore,
  handleProxy,
  normalizeKey,
  type ActorHandle,
  type ActorKey,
  type HandleDeps,
} from "./handle.js";
import { Transport, type FetchLike } from "./transport.js";

/** What `setup({ use: { ... } })` returns, as far as the client cares. */
export interface AnyRegistry {
  use: Record<string, AnyActorDefinition>;
}

/**
 * The `input` type of a definition. (Inferring all five parameters: `InputOf` in
 * lib/actor/definition.ts only matches definitions whose CS and A are the defaults.)
 */
export type ActorInput<D> =
  D extends ActorDefinition<infer _S, infer _V, infer I, infer _CS, infer _A> ? I : unknown;

export interface CreateOptions<D = AnyActorDefinition> extends HandleOptions {
  /** Passed to `createState(c, input)` and `onCreate(c, input)` when the actor is created. */
  input?: ActorInput<D>;
}

export interface HandleOptions {
  /**
   * Connection params: sent with every action over HTTP (the actor's `onBeforeConnect(c, params)`
   * gates each one) and used by `connect()` when it is given none.
   */
  params?: unknown;
}

/** `client.NAME`: ways to get a handle to an actor of one type. All return at once. */
export interface ActorAccessor<D = AnyActorDefinition> {
  /** An existing actor; the first use fails with `actor.not_found` (404) if there is none. */
  get(key?: ActorKey, options?: HandleOptions): ActorHandle<D>;
  /** The actor with this key, created (with `input`) if there is none. */
  getOrCreate(key?: ActorKey, options?: CreateOptions<D>): ActorHandle<D>;
  /** A new actor; the first use fails with `actor.already_exists` (409) if the key is taken. Creates at most once. */
  create(key?: ActorKey, options?: CreateOptions<D>): ActorHandle<D>;
  /** The actor with this id (no request until first use). */
  getForId(actorId: string, options?: HandleOptions): ActorHandle<D>;
}

export interface ClientBase {
  /** Closes every connection opened through this client. Handles stay usable for HTTP calls. */
  dispose(): Promise<void>;
}

/** The client for a registry: one accessor per actor type. */
export type Client<R extends AnyRegistry = AnyRegistry> = {
  readonly [K in keyof R["use"] & string]: ActorAccessor<R["use"][K]>;
} & ClientBase;

export interface ClientOptions extends EndpointOptions {
  /** A `fetch` to use instead of the global one. */
  fetch?: FetchLike;
  /** Reconnection and queueing of `connect()` connections. */
  connection?: ConnectionOptions;
}

// Names the client proxy never treats as actor types: promise and serialization probes.
const NOT_ACTOR_TYPES = new Set(["then", "toJSON", "toString", "valueOf", "constructor", "inspect"]);

/**
 * A client for the engine at `endpoint` (`http://NAMESPACE:TOKEN@host:port`), default
 * `ENCLAVE_ENDPOINT`. Pass the registry's type to get typed actions:
 * `createClient<typeof registry>("http://default:TOKEN@localhost:6420")`.
 */
export function createClient<R extends AnyRegistry = AnyRegistry>(
  endpointOrOptions?: string | ClientOptions,
): Client<R> {
  const options: ClientOptions =
    typeof endpointOrOptions === "string" ? { endpoint: endpointOrOptions } : (endpointOrOptions ?? {});
  const endpoint: Endpoint = parseEndpoint(options);
  const transport = new Transport(endpoint, options.fetch);
  const connections = new Set<ConnectionCore>();
  const deps: HandleDeps = {
    transport,
    connectionOptions: { ...options.connection },
    track: (conn) => connections.add(conn),
    untrack: (conn) => connections.delete(conn),
  };

  const accessors = new Map<string, ActorAccessor>();
  const accessorFor = (name: string): ActorAccessor => {
    let accessor = accessors.get(name);
    if (accessor === undefined) {
      const make = (core: HandleCore): ActorHandle => handleProxy<AnyActorDefinition>(core);
      accessor = Object.freeze({
        get: (key?: ActorKey, opts?: HandleOptions) =>
          make(new HandleCore(deps, { kind: "get", name, key: normalizeKey(key), params: opts?.params })),
        getOrCreate: (key?: ActorKey, opts?: CreateOptions) =>
          make(
            new HandleCore(deps, {
              kind: "getOrCreate",
              name,
              key: normalizeKey(key),
              input: opts?.input,
              params: opts?.params,
            }),
          ),
        create: (key?: ActorKey, opts?: CreateOptions) =>
          make(
            new HandleCore(deps, {
              kind: "create",
              name,
              key: normalizeKey(key),
              input: opts?.input,
              params: opts?.params,
            }),
          ),
        getForId: (actorId: string, opts?: HandleOptions) => {
          if (typeof actorId !== "string" || actorId === "")
            throw new TypeError("getForId takes an actor id");
          return make(new HandleCore(deps, { kind: "id", actorId, params: opts?.params }));
        },
      });
      accessors.set(name, accessor);
    }
    return accessor;
  };

  const dispose = async (): Promise<void> => {
    await Promise.all([...connections].map((conn) => conn.dispose()));
  };

  const base = {
    dispose,
    toString: () => `EnclaveClient(${endpoint.baseUrl}, namespace ${endpoint.namespace})`,
  };
  return new Proxy(base, {
    get(target, prop) {
      if (typeof prop !== "string") return undefined;
      if (prop === "dispose" || prop === "toString") return target[prop];
      if (NOT_ACTOR_TYPES.has(prop)) return undefined;
      return accessorFor(prop);
    },
    set() {
      return false;
    },
  }) as unknown as Client<R>;
}
