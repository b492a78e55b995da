/** Runs actor code in this process: the host behind embedded mode (and behind a runner). */
import type { ActorHost, ActorRecord, ActorServices, LiveActor } from "../engine/types.js";
import type { AnyActorDefinition } from "./definition.js";
import { ActorInstance, type ActorDefaults } from "./instance.js";

export class LocalHost implements ActorHost {
  readonly #defs: ReadonlyMap<string, AnyActorDefinition>;
  readonly #defaults: ActorDefaults;

  constructor(defs: Record<string, AnyActorDefinition>, defaults: ActorDefaults) {
    this.#defs = new Map(Object.entries(defs));
    this.#defaults = defaults;
  }

  hasType(name: string): boolean {
    return this.#defs.has(name);
  }

  typeNames(): string[] {
    return [...this.#defs.keys()];
  }

  start(record: ActorRecord, services: ActorServices): Promise<LiveActor> {
    const def = this.#defs.get(record.name);
    if (!def) throw new Error(`actor type "${record.name}" is not registered in this process`);
    return ActorInstance.boot(def.config, record, services, this.#defaults);
  }
}
