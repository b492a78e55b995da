/** Small assertions for cases: each failure is one readable line (plus details), never a secret. */
import type { Answer, Json } from "./http.js";
import { CheckFailed, NotApplicable } from "./types.js";

export function check(condition: unknown, message: string, details?: string): asserts condition {
  if (!condition) throw new CheckFailed(message, details);
}

export function fail(message: string, details?: string): never {
  throw new CheckFailed(message, details);
}

export function notApplicable(reason: string): never {
  throw new NotApplicable(reason);
}

function bodyOf(a: Answer): string {
  const text = a.text.length > 400 ? `${a.text.slice(0, 400)}...` : a.text;
  return text === "" ? "(empty body)" : text;
}

/** The answer has one of the statuses. */
export function expectStatus(a: Answer, expected: number | readonly number[], what: string): void {
  const list = typeof expected === "number" ? [expected] : expected;
  if (!list.includes(a.status)) {
    fail(`${what}: expected HTTP ${list.join(" or ")}, got ${a.status}`, bodyOf(a));
  }
}

/** The answer is a catalogue error `{ group, code, message }` with this status. */
export function expectError(a: Answer, status: number, group: string, code: string, what: string): void {
  expectStatus(a, status, what);
  const b = a.json as Json;
  if (!b || typeof b !== "object" || b.group !== group || b.code !== code || typeof b.message !== "string") {
    fail(`${what}: expected the error body { group: "${group}", code: "${code}", message }`, bodyOf(a));
  }
}

/** Thrown by a `waitFor` probe to stop waiting at once (other errors are retried). */
export class GiveUp extends CheckFailed {
  constructor(message: string, details?: string) {
    super(message, details);
    this.name = "GiveUp";
  }
}

/** Polls `probe` until it returns a truthy value; bounded. A probe that throws GiveUp ends it. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      if (e instanceof GiveUp) throw e;
      last = e;
    }
    if (Date.now() >= deadline) {
      fail(
        `timed out after ${timeoutMs} ms waiting for ${what}`,
        last === undefined ? undefined : `last error: ${last instanceof Error ? last.message : String(last)}`,
      );
    }
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
