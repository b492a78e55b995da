/**
 * `setup({ use })`: the set of actor types an app hosts. The registry is plain data plus the
 * host that runs it; starting it (embedded engine or runner) is done by the composition root.
 */
import { LocalHost } from "../actor/host.js";
import { isActorDefinition, DefinitionError, type AnyActorDefinition } from "../actor/definition.js";
import type { EngineConfig } from "../config/index.js";

const TYPE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;

export interface RegistryConfig<U extends Record<string, AnyActorDefinition>> {
  use: U;
}

export function validateUse(use: unknown): asserts use is Record<string, AnyActorDefinition> {
  if (use === null || typeof use !== "object") {
    throw new DefinitionError("setup() takes { use: { name: actor({...}) } }");
  }
  for (const [name, def] of Object.entries(use)) {
    if (!TYPE_NAME.test(name)) {
      throw new DefinitionError(
        `actor type name "${name}" must start with a letter and use only letters, digits, _ and -`,
      );
    }
    if (!isActorDefinition(def))
      throw new DefinitionError(`use.${name} is not an actor definition; wrap it in actor({...})`);
  }
}

export function createHost(use: Record<string, AnyActorDefinition>, config: EngineConfig): LocalHost {
  return new LocalHost(use, {
    sleepTimeout: config.actors.sleepTimeoutMs,
    actionTimeout: config.actors.actionTimeoutMs,
  });
}
