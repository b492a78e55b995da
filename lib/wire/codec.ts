/**
 * JSON on the wire with one extension: binary values travel as `{ "$bytes": BASE64 }` and
 * arrive as `Uint8Array`. Used for action arguments, outputs, event payloads and state.
 */

const BYTES = "$bytes";

function isBytesTag(value: object): value is { $bytes: string } {
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === BYTES && typeof (value as { $bytes: unknown }).$bytes === "string";
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function fromBase64(text: string): Uint8Array {
  const buf = Buffer.from(text, "base64");
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** JSON.stringify replacer: Uint8Array (and Buffer) become `{ $bytes }`. */
export function wireReplacer(this: unknown, key: string, value: unknown): unknown {
  // JSON.stringify calls Buffer's toJSON before the replacer sees it; look at the holder instead.
  const raw = (this as Record<string, unknown> | undefined)?.[key];
  if (raw instanceof Uint8Array) return { [BYTES]: toBase64(raw) };
  return value;
}

/** JSON.parse reviver: `{ $bytes }` becomes Uint8Array. */
export function wireReviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === "object" && !Array.isArray(value) && isBytesTag(value)) {
    return fromBase64(value.$bytes);
  }
  return value;
}

/**
 * True when `value` is plain JSON data (null, strings, finite or not numbers, booleans, arrays
 * and plain objects of those, not too deep): then JSON.stringify needs no replacer. A replacer
 * turns off V8's fast serializer, which made it one of the larger costs of every action.
 */
export function isPlainJson(value: unknown, depth = 0): boolean {
  if (value === null) return true;
  const t = typeof value;
  if (t === "string" || t === "number" || t === "boolean") return true;
  if (t !== "object" || depth > 32) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value as Record<string, unknown>) {
    if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

export function encodeWire(value: unknown): string {
  return isPlainJson(value) ? JSON.stringify(value) : JSON.stringify(value, wireReplacer);
}

export function decodeWire<T = unknown>(text: string): T {
  return JSON.parse(text, wireReviver) as T;
}

/**
 * Deepest nesting accepted in a value a caller sends (arguments, input, connection params): the
 * value itself is level 1. Deeper values would overflow the stack of whatever walks them later
 * (serializing the state that holds them, say), so they are refused at the door.
 */
export const MAX_WIRE_DEPTH = 128;

/** Thrown when a received value is nested deeper than MAX_WIRE_DEPTH. */
export class WireDepthError extends RangeError {
  constructor(readonly maxDepth: number) {
    super(`The value is nested more than ${maxDepth} levels deep`);
    this.name = "WireDepthError";
  }
}

/**
 * Turns `{ $bytes }` tags inside an already parsed JSON value into Uint8Array, in place where
 * possible. Walks without recursion and throws WireDepthError past `maxDepth` levels.
 */
export function reviveWire<T = unknown>(value: T, maxDepth: number = MAX_WIRE_DEPTH): T {
  if (value === null || typeof value !== "object") return value;
  if (!Array.isArray(value) && isBytesTag(value)) return fromBase64(value.$bytes) as T;
  const stack: [Record<string, unknown> | unknown[], number][] = [[value as Record<string, unknown>, 1]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [node, depth] = top;
    if (depth > maxDepth) throw new WireDepthError(maxDepth);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (v === null || typeof v !== "object") continue;
        if (!Array.isArray(v) && isBytesTag(v)) node[i] = fromBase64(v.$bytes);
        else stack.push([v as Record<string, unknown>, depth + 1]);
      }
    } else {
      for (const k of Object.keys(node)) {
        const v = node[k];
        if (v === null || typeof v !== "object") continue;
        if (!Array.isArray(v) && isBytesTag(v)) node[k] = fromBase64(v.$bytes);
        else stack.push([v as Record<string, unknown>, depth + 1]);
      }
    }
  }
  return value;
}
