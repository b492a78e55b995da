export { Engine, type EngineOptions, type ActorStatus } from "./engine.js";
export { normalizeKey } from "./directory.js";
export type * from "./types.js";
