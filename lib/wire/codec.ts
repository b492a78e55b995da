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

export function encodeWire(value: unknown): string {
  return JSON.stringify(value, wireReplacer);
}

export function decodeWire<T = unknown>(text: string): T {
  return JSON.parse(text, wireReviver) as T;
}

/** Turns `{ $bytes }` tags inside an already parsed JSON value into Uint8Array, in place where possible. */
export function reviveWire<T = unknown>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveWire(value[i]);
    return value;
  }
  if (isBytesTag(value)) return fromBase64(value.$bytes) as T;
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) obj[k] = reviveWire(obj[k]);
  return value;
}
