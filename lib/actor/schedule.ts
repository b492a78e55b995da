/** `c.schedule`: persisted calls of the actor's own actions, which wake it when due. */
import { Errors, err } from "../errors.js";
import type { ActorServices } from "../engine/types.js";
import { encodeWire } from "../wire/index.js";
import type { ActorSchedule, ScheduledCall } from "./context.js";

export class ActorScheduleImpl implements ActorSchedule {
  readonly #services: ActorServices;
  readonly #hasAction: (name: string) => boolean;
  readonly #track: (p: Promise<void>) => Promise<void>;

  constructor(
    services: ActorServices,
    hasAction: (name: string) => boolean,
    track: (p: Promise<void>) => Promise<void>,
  ) {
    this.#services = services;
    this.#hasAction = hasAction;
    this.#track = track;
  }

  async after(ms: number, action: string, ...args: unknown[]): Promise<string> {
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
      throw err(
        Errors.invalidSchedule,
        `schedule.after needs a delay of 0 or more milliseconds, got ${String(ms)}`,
      );
    }
    return this.at(Date.now() + ms, action, ...args);
  }

  async at(timestamp: number, action: string, ...args: unknown[]): Promise<string> {
    if (typeof timestamp !== "number" || !Number.isFinite(timestamp)) {
      throw err(Errors.invalidSchedule, `schedule.at needs an epoch-ms timestamp, got ${String(timestamp)}`);
    }
    if (!this.#hasAction(action)) {
      throw err(Errors.invalidSchedule, `Cannot schedule "${action}": the actor has no action of that name`);
    }
    // Arguments are stored as JSON; refuse what would not survive the trip.
    const roundTrip = encodeWire(args);
    if (roundTrip === undefined) throw err(Errors.invalidSchedule, "Scheduled arguments must be JSON values");
    const p = this.#services.schedule(timestamp, action, args);
    void this.#track(p.then(() => undefined));
    return p;
  }

  async cancel(id: string): Promise<boolean> {
    const p = this.#services.cancelScheduled(id);
    void this.#track(p.then(() => undefined));
    return p;
  }

  async list(): Promise<ScheduledCall[]> {
    return (await this.#services.listScheduled()).map((c) => ({ ...c }));
  }
}
