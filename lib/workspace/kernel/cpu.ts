/**
 * The workspace's CPUs: a counting semaphore that lets at most `cpuCount` processes of one
 * workspace compute at once (`limits.resources.cpuCount`). Each workspace's kernel owns one
 * (`kernel.cpu`); workspaces never share slots, so one workspace's limit does not slow another.
 *
 * Rules for a program runner (the WASI runtime does this; the `node` program must do the same):
 * - Take a slot before the program first runs guest code: `const release = await kernel.cpu.acquire(signal)`.
 * - Give it back while the program waits in a call that blocks (a pipe or socket read or write
 *   that has to wait, accept, connect, sleep, waiting for a child), and take one again before
 *   the call's answer reaches the program. Blocking calls always release, so programs that talk
 *   to each other (a pipeline, a client and its server) cannot deadlock on slots.
 * - Give it back when the program ends. `release` is idempotent.
 * - `shouldYield(heldSinceMs)` says a program that has held its slot a while should give it
 *   up at its next call and queue again, so busy programs making calls take turns.
 *
 * `acquire` is FIFO. Aborting its signal rejects that waiter with EINTR (a killed process).
 */
import { KernelError } from "./errno.js";
import type { CpuSlots } from "./types.js";

/** How long a program may keep a slot others are waiting for before it should yield at its next call. */
export const CPU_QUANTUM_MS = 20;

interface Waiter {
  grant: (release: () => void) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export class CpuSemaphore implements CpuSlots {
  readonly count: number;
  #busy = 0;
  readonly #queue: Waiter[] = [];

  /** `count`: slots (Infinity or 0 = unlimited). */
  constructor(count = Infinity) {
    if (!(count === Infinity || (Number.isInteger(count) && count >= 0))) {
      throw new RangeError(`cpuCount must be a whole number (got ${count})`);
    }
    this.count = count === 0 ? Infinity : count;
  }

  get busy(): number {
    return this.#busy;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  tryAcquire(): (() => void) | undefined {
    // Waiters go first: a newcomer must not overtake the queue.
    if (this.#busy >= this.count || this.#queue.length > 0) return undefined;
    this.#busy++;
    return this.#releaser();
  }

  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new KernelError("EINTR", "cpu"));
    const now = this.tryAcquire();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: resolve,
        signal,
        onAbort: () => {
          const i = this.#queue.indexOf(waiter);
          if (i >= 0) this.#queue.splice(i, 1);
          reject(new KernelError("EINTR", "cpu"));
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  shouldYield(heldSinceMs: number): boolean {
    return this.#queue.length > 0 && performance.now() - heldSinceMs >= CPU_QUANTUM_MS;
  }

  #releaser(): () => void {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = this.#queue.shift();
      if (next === undefined) {
        this.#busy--;
        return;
      }
      // The slot passes straight to the next waiter: busy stays the same.
      next.signal?.removeEventListener("abort", next.onAbort);
      next.grant(this.#releaser());
    };
  }
}
