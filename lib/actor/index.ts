export { actor, isActorDefinition, DefinitionError, RESERVED_ACTION_NAMES } from "./definition.js";
export type {
  ActorConfig,
  ActorDefinition,
  ActorOptions,
  AnyActorDefinition,
  ClientActions,
  InputOf,
} from "./definition.js";
export type {
  ActorContext,
  ActionContext,
  ConnectContext,
  Conn,
  ActorKv,
  ActorSchedule,
  KvEntry,
  ScheduledCall,
} from "./context.js";
export { LocalHost } from "./host.js";
export { SystemKv, SYSTEM_KV_PREFIX } from "./kv.js";

import type { ActorContext as Ctx } from "./context.js";
import { ActorInstance } from "./instance.js";
import type { SystemKv as SystemKvType } from "./kv.js";

/**
 * The system storage of the actor behind `c`, under `scope` (e.g. "ws" for workspace files).
 * Internal to Enclave's modules; throws if `c` is not a live actor's context.
 */
export function systemKv(c: Ctx<unknown, unknown, unknown>, scope: string): SystemKvType {
  if (!(c instanceof ActorInstance)) throw new TypeError("systemKv() needs an actor context");
  return c.systemKv(scope);
}
