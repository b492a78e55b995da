/**
 * Actor state is stored as JSON (binary as `{ $bytes }`), so any store driver and any language
 * can read it. Values JSON cannot round-trip are refused rather than silently dropped.
 */
import { Errors, err } from "../errors.js";
import { isPlainJson, wireReplacer } from "../wire/index.js";

function stateReplacer(this: unknown, key: string, value: unknown): unknown {
  const kind = typeof value;
  if (kind === "function" || kind === "symbol" || kind === "bigint") {
    throw err(Errors.stateNotSerializable, `The actor state holds a ${kind} at "${key}"`);
  }
  if (value instanceof Map || value instanceof Set) {
    throw err(
      Errors.stateNotSerializable,
      `The actor state holds a ${value.constructor.name} at "${key}"; use plain objects and arrays`,
    );
  }
  return wireReplacer.call(this, key, value);
}

/** JSON text of the state ("null" for an actor without state). */
export function serializeState(state: unknown): string {
  if (state === undefined) return "null";
  try {
    // Plain data (the common case) takes V8's fast path; anything else goes through the checks.
    return (isPlainJson(state) ? JSON.stringify(state) : JSON.stringify(state, stateReplacer)) ?? "null";
  } catch (e) {
    if (e instanceof Error && e.name === "EnclaveError") throw e;
    throw err(Errors.stateNotSerializable, `The actor state cannot be serialized: ${(e as Error).message}`);
  }
}
