/** Records in the store are UTF-8 JSON (with `$bytes` for binary), readable by any future driver. */
import { decodeWire, encodeWire } from "../wire/index.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function toBytes(value: unknown): Uint8Array {
  return encoder.encode(encodeWire(value));
}

export function fromBytes<T>(bytes: Uint8Array): T {
  return decodeWire<T>(decoder.decode(bytes));
}
