/**
 * Deadlines for calls into actors (the action timeout), without a timer and a `Promise.race`
 * per call: calls with the same timeout come due in the order they started, so each distinct
 * timeout keeps one FIFO list and one timer, armed for the oldest entry. A call that settles
 * unlinks its entry in O(1); the timer only fires when the oldest call is really due (or the
 * list emptied meanwhile, when it does nothing).
 *
 * The timer holds the process open while a call is pending, as a per-call timer would, and
 * releases it (unref) as soon as no call is pending.
 */

/** Node's largest timer delay; longer waits are taken in steps. */
const MAX_DELAY = 2_147_483_647;

/** A pending deadline; pass it to cancelDeadline once the call settles. */
export interface Deadline {
  readonly list: DeadlineList;
  at: number;
  onExpire: () => void;
  prev: Deadline | undefined;
  next: Deadline | undefined;
  /** False once the entry left its list (settled or expired). */
  linked: boolean;
}

/** The deadlines of one timeout value, oldest first. */
export class DeadlineList {
  readonly #ms: number;
  #head: Deadline | undefined;
  #tail: Deadline | undefined;
  #size = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(ms: number) {
    this.#ms = ms;
  }

  add(now: number, onExpire: () => void): Deadline {
    const entry: Deadline = {
      list: this,
      at: now + this.#ms,
      onExpire,
      prev: this.#tail,
      next: undefined,
      linked: true,
    };
    if (this.#tail) this.#tail.next = entry;
    else this.#head = entry;
    this.#tail = entry;
    if (this.#size++ === 0) {
      // The armed timer (if any) is for an earlier entry, so it comes before this one is due.
      if (this.#timer) this.#timer.ref();
      else this.#arm(entry.at);
    }
    return entry;
  }

  remove(entry: Deadline): void {
    if (!entry.linked) return;
    entry.linked = false;
    if (entry.prev) entry.prev.next = entry.next;
    else this.#head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.#tail = entry.prev;
    entry.prev = entry.next = undefined;
    if (--this.#size === 0) this.#timer?.unref();
  }

  #arm(at: number): void {
    const delay = Math.min(MAX_DELAY, Math.max(0, at - performance.now()));
    this.#timer = setTimeout(() => this.#fire(), delay);
  }

  #fire(): void {
    this.#timer = undefined;
    const now = performance.now();
    while (this.#head && this.#head.at <= now) {
      const entry = this.#head;
      this.remove(entry);
      entry.onExpire();
    }
    if (this.#head) this.#arm(this.#head.at);
  }
}

const lists = new Map<number, DeadlineList>();

/**
 * Calls `onExpire` once `ms` milliseconds have passed since `now` (a `performance.now()` time),
 * unless the returned cancel handle is used first.
 */
export function addDeadline(ms: number, now: number, onExpire: () => void): Deadline {
  let list = lists.get(ms);
  if (!list) lists.set(ms, (list = new DeadlineList(ms)));
  return list.add(now, onExpire);
}

/** Drops a deadline (the call settled in time); a no-op once it expired or was dropped. */
export function cancelDeadline(deadline: Deadline): void {
  deadline.list.remove(deadline);
}

/**
 * `p`, or a rejection with `timeoutError()` if `p` has not settled `ms` milliseconds after
 * `now` (a `performance.now()` time). `p` itself runs on either way.
 */
export function withDeadline<T>(
  p: Promise<T>,
  ms: number,
  now: number,
  timeoutError: () => unknown,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const deadline = addDeadline(ms, now, () => reject(timeoutError()));
    p.then(
      (value) => {
        cancelDeadline(deadline);
        resolve(value);
      },
      (error: unknown) => {
        cancelDeadline(deadline);
        reject(error);
      },
    );
  });
}
