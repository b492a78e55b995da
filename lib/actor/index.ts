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
