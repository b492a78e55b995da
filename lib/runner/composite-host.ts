/**
 * One engine, two kinds of host: the actor types of its own registry run in this process
 * (`LocalHost`), every other type on runners (`RemoteHost`). A type in the registry always runs
 * locally, even if a runner announces it too.
 *
 * Which unknown type names are accepted (get-or-create of a type no one hosts right now):
 *   - an engine without a registry of its own (`enclave start`) accepts every name: a runner
 *     hosting it may connect later, so the request waits up to `runners.placementTimeoutMs`
 *     and then fails with 503 runner/no_runner (no actor is created);
 *   - an engine with a registry (embedded mode) accepts the names its runners have announced
 *     since it started; any other name is 404 actor/type_not_found at once, as without runners.
 */
import type { ActorHost, ActorRecord, ActorServices, LiveActor } from "../engine/types.js";
import type { RemoteHost, RunnerHub } from "./remote-host.js";

export class CompositeHost implements ActorHost {
  readonly local: ActorHost;
  readonly remote: RemoteHost;
  readonly #acceptAnyType: boolean;

  constructor(local: ActorHost, remote: RemoteHost) {
    this.local = local;
    this.remote = remote;
    this.#acceptAnyType = local.typeNames().length === 0;
  }

  hasType(name: string): boolean {
    return this.local.hasType(name) || this.#acceptAnyType || this.remote.hasType(name);
  }

  typeNames(): string[] {
    return [...new Set([...this.local.typeNames(), ...this.remote.typeNames()])].sort();
  }

  start(record: ActorRecord, services: ActorServices): Promise<LiveActor> {
    return this.local.hasType(record.name)
      ? this.local.start(record, services)
      : this.remote.start(record, services);
  }
}

/** The runner hub behind an engine's host, if it accepts runners. */
export function runnerHubOf(host: ActorHost): RunnerHub | undefined {
  if (host instanceof CompositeHost) return host.remote;
  const maybe = host as Partial<RunnerHub>;
  return typeof maybe.accept === "function" ? (host as unknown as RunnerHub) : undefined;
}
