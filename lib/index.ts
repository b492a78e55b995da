/** The `enclave` package: define actors, set them up, start the engine. */
export { actor, DefinitionError } from "./actor/index.js";
export type {
  ActorConfig,
  ActorDefinition,
  ActorOptions,
  ActorContext,
  ActionContext,
  ConnectContext,
  Conn,
  ActorKv,
  ActorSchedule,
  KvEntry,
  ScheduledCall,
} from "./actor/index.js";
export { setup, type Registry, type StartOptions } from "./setup.js";
export { createEngine, type CreateEngineOptions, type EnclaveEngine } from "./create-engine.js";
export type { EnclaveRunner, RunnerStatus } from "./runner/runner.js";
export { UserError, EnclaveError, Errors, type UserErrorOptions, type WireError } from "./errors.js";
export type { EngineConfig, EngineConfigInput } from "./config/index.js";
export { VERSION } from "./version.js";
