/**
 * Graceful shutdown on SIGTERM/SIGINT, as `enclave start` does it:
 *
 * - the first signal starts a graceful close (drain requests, sleep actors, close the store);
 *   a clean close gives exit code 0;
 * - a second signal, or the deadline (`shutdown.timeoutMs`) passing first, ends the wait at
 *   once with exit code 1; the caller then exits the process without waiting any longer.
 *
 * It never calls process.exit itself, so it can be driven in-process by a test. `enclave start`
 * and embedded mode (`registry.start()`) both use it.
 */

/** Where SIGTERM/SIGINT come from: the process, or an emitter in tests. */
export interface SignalSource {
  on(event: "SIGTERM" | "SIGINT", listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: "SIGTERM" | "SIGINT", listener: (signal: NodeJS.Signals) => void): unknown;
}

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

/** Listens for SIGTERM/SIGINT from the moment it is created until `dispose()`. */
export class SignalWatch {
  /** Resolves with the first signal. */
  readonly first: Promise<NodeJS.Signals>;
  /** Resolves with the second signal. */
  readonly second: Promise<NodeJS.Signals>;
  readonly #source: SignalSource;
  readonly #listener: (signal: NodeJS.Signals) => void;
  #count = 0;

  constructor(source: SignalSource) {
    this.#source = source;
    let resolveFirst!: (s: NodeJS.Signals) => void;
    let resolveSecond!: (s: NodeJS.Signals) => void;
    this.first = new Promise((r) => (resolveFirst = r));
    this.second = new Promise((r) => (resolveSecond = r));
    // One listener for both signals, so a SIGINT after a SIGTERM counts as the second.
    this.#listener = (signal) => {
      this.#count++;
      if (this.#count === 1) resolveFirst(signal);
      else if (this.#count === 2) resolveSecond(signal);
    };
    for (const s of SIGNALS) source.on(s, this.#listener);
  }

  get received(): number {
    return this.#count;
  }

  dispose(): void {
    for (const s of SIGNALS) this.#source.off(s, this.#listener);
  }
}

export type ShutdownOutcome = "closed" | "second-signal" | "deadline" | "failed";

export interface ShutdownResult {
  outcome: ShutdownOutcome;
  exitCode: number;
  error?: unknown;
}

/**
 * Runs `close()` bounded by `timeoutMs` and by a second signal. Resolves as soon as one of
 * them wins; `close()` may still be running when it resolves for the deadline or a signal.
 */
export async function shutdown(
  close: () => Promise<void>,
  watch: SignalWatch,
  timeoutMs: number,
): Promise<ShutdownResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<ShutdownResult>((resolve) => {
    timer = setTimeout(() => resolve({ outcome: "deadline", exitCode: 1 }), timeoutMs);
  });
  const closing = close().then(
    (): ShutdownResult => ({ outcome: "closed", exitCode: 0 }),
    (error: unknown): ShutdownResult => ({ outcome: "failed", exitCode: 1, error }),
  );
  const signalled = watch.second.then((): ShutdownResult => ({ outcome: "second-signal", exitCode: 1 }));
  try {
    return await Promise.race([closing, signalled, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
