/**
 * `actor({...})`: the definition API. A definition is plain data checked once, here, so that
 * mistakes (a reserved action name, a bad option) fail at `setup()`, not at the first request.
 */
import type { Duplex } from "node:stream";
import { RESERVED_ACTION_NAMES } from "../wire/protocol.js";
import type { ActorContext, ActionContext, Conn, ConnectContext } from "./context.js";

export { RESERVED_ACTION_NAMES };

export interface ActorOptions {
  /** Idle time before the actor sleeps (no connections, no in-flight work). Default 30 s. */
  sleepTimeout?: number;
  /** Longest an action may run before the caller gets `actor.action_timed_out`. Default 60 s. */
  actionTimeout?: number;
  /** Never sleep on idle (still sleeps on shutdown or an admin's forced sleep). */
  noSleep?: boolean;
}

// Actions take the context first; `any` here is what lets each action keep its own argument types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAction = (c: ActionContext<any, any, any>, ...args: any[]) => unknown;

/** The actions of an actor whose state, vars and connection state are S, V and CS. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Actions<S, V, CS> = Record<string, (c: ActionContext<S, V, CS>, ...args: any[]) => unknown>;

export interface ActorConfig<S, V, I, CS, A extends Actions<S, V, CS> = Actions<S, V, CS>> {
  /** Initial state (deep-copied per actor), or use `createState`. */
  state?: S;
  /** Builds the initial state from the creation input; `c.state` and `c.vars` are not set yet. */
  createState?: (c: ActorContext<undefined, undefined, unknown>, input: I) => S | Promise<S>;
  /** Ephemeral per-instance values (not persisted), rebuilt on every wake. */
  vars?: V;
  /** Builds the vars on every wake, after the state is loaded (or created); `c.vars` is not set yet. */
  createVars?: (c: ActorContext<S, undefined, unknown>) => V | Promise<V>;
  actions?: A;
  onCreate?: (c: ActorContext<S, V, CS>, input: I) => void | Promise<void>;
  onWake?: (c: ActorContext<S, V, CS>) => void | Promise<void>;
  onSleep?: (c: ActorContext<S, V, CS>) => void | Promise<void>;
  onDestroy?: (c: ActorContext<S, V, CS>) => void | Promise<void>;
  /** Throw (e.g. a UserError) to refuse a connection before it is accepted. */
  onBeforeConnect?: (c: ConnectContext<S, V, unknown>, params: unknown) => void | Promise<void>;
  /** Per-connection state, built from the connection's params. */
  createConnState?: (c: ConnectContext<S, V, unknown>, params: unknown) => CS | Promise<CS>;
  onConnect?: (c: ActorContext<S, V, CS>, conn: Conn<CS>) => void | Promise<void>;
  onDisconnect?: (c: ActorContext<S, V, CS>, conn: Conn<CS>) => void | Promise<void>;
  /**
   * Internal, for Enclave's workspaces: opens a byte stream into the actor (`target` names what,
   * e.g. "port:3000"), used to carry preview WebSockets. Only actors hosted by the engine
   * process can be tunnelled to (not runner mode).
   */
  onTunnel?: (c: ActorContext<S, V, CS>, target: string) => Duplex | Promise<Duplex>;
  /** Raw HTTP handler for `ANY /gateway/{id}/request/*`; the request URL path is the part after `/request`. */
  onRequest?: (c: ActorContext<S, V, CS>, request: Request) => Response | Promise<Response>;
  options?: ActorOptions;
}

const DEFINITION = Symbol.for("enclave.actorDefinition");

/** What `actor()` returns. The type parameters carry the action signatures to the client. */
export interface ActorDefinition<
  S = unknown,
  V = unknown,
  I = unknown,
  CS = unknown,
  A extends Record<string, AnyAction> = Record<string, AnyAction>,
> {
  readonly [DEFINITION]: true;
  readonly config: ActorConfig<S, V, I, CS, A>;
  /** Phantom: the action map, for typing clients. */
  readonly __actions?: A;
  readonly __input?: I;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyActorDefinition = ActorDefinition<any, any, any, any, any>;

const ACTION_NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,127}$/;

export class DefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DefinitionError";
  }
}

// CS defaults to `any`: TypeScript cannot infer it from an unannotated createConnState before
// typing the actions, and a default of `undefined` would turn that into a compile error.
export function actor<
  S = undefined,
  V = undefined,
  I = undefined,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  CS = any,
  A extends Actions<S, V, CS> = Actions<S, V, CS>,
>(config: ActorConfig<S, V, I, CS, A>): ActorDefinition<S, V, I, CS, A> {
  if (config === null || typeof config !== "object") {
    throw new DefinitionError("actor() takes a definition object: actor({ state, actions, ... })");
  }
  if (config.state !== undefined && config.createState !== undefined) {
    throw new DefinitionError("an actor takes `state` or `createState`, not both");
  }
  if (config.vars !== undefined && config.createVars !== undefined) {
    throw new DefinitionError("an actor takes `vars` or `createVars`, not both");
  }
  for (const [name, fn] of Object.entries(config.actions ?? {})) {
    if (RESERVED_ACTION_NAMES.has(name)) {
      throw new DefinitionError(
        `action name "${name}" is reserved by the client handle (${[...RESERVED_ACTION_NAMES].join(", ")}); rename it`,
      );
    }
    if (!ACTION_NAME.test(name)) {
      throw new DefinitionError(`action name "${name}" must be an identifier of at most 128 characters`);
    }
    if (typeof fn !== "function") throw new DefinitionError(`action "${name}" must be a function`);
  }
  const opts = config.options ?? {};
  for (const k of ["sleepTimeout", "actionTimeout"] as const) {
    const v = opts[k];
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) {
      throw new DefinitionError(`options.${k} must be a positive number of milliseconds, got ${String(v)}`);
    }
  }
  return { [DEFINITION]: true, config };
}

export function isActorDefinition(value: unknown): value is AnyActorDefinition {
  return (
    typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[DEFINITION] === true
  );
}

/** The action map of a definition, as client methods: context dropped, results awaited. */
export type ClientActions<D> =
  D extends ActorDefinition<infer _S, infer _V, infer _I, infer _CS, infer A>
    ? {
        [K in keyof A]: A[K] extends (c: never, ...args: infer P) => infer R
          ? (...args: P) => Promise<Awaited<R>>
          : never;
      }
    : Record<string, never>;

export type InputOf<D> = D extends ActorDefinition<infer _S, infer _V, infer I> ? I : unknown;
