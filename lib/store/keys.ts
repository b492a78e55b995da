/**
 * Keys are tuples in subspaces, packed with the FoundationDB tuple encoding (fdb-tuple), which
 * preserves order: tuples sort as their packed bytes do, strings and integers included.
 * Never build keys by concatenating strings.
 */
import * as tuple from "fdb-tuple";

/** An element of a key tuple. */
export type KeyPart = string | number | Uint8Array | null | KeyPart[];

export function packKey(parts: KeyPart[]): Uint8Array {
  const fast = packAsciiStrings(parts);
  if (fast) return fast;
  const buf = tuple.pack(parts.map(toTupleItem));
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Fast path for the engine's most common keys (subspace tag + actor id, ...): a tuple of
 * strings of printable ASCII packs to `0x02 bytes 0x00` per string in the tuple encoding, with
 * no escaping to do. Byte-identical to fdb-tuple's output (checked in keys.test.ts); anything
 * else takes the general path.
 */
function packAsciiStrings(parts: KeyPart[]): Uint8Array | undefined {
  let size = 0;
  for (const part of parts) {
    if (typeof part !== "string") return undefined;
    size += part.length + 2;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts as string[]) {
    out[at++] = 0x02;
    for (let i = 0; i < part.length; i++) {
      const c = part.charCodeAt(i);
      if (c === 0 || c > 0x7f) return undefined;
      out[at++] = c;
    }
    out[at++] = 0x00;
  }
  return out;
}

export function unpackKey(key: Uint8Array): KeyPart[] {
  const buf = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return tuple.unpack(buf).map(fromTupleItem);
}

/** Bounds covering every key that starts with the tuple `parts` (the tuple itself excluded). */
export function prefixRange(parts: KeyPart[]): { gte: Uint8Array; lt: Uint8Array } {
  const prefix = packKey(parts);
  const gte = new Uint8Array(prefix.length + 1);
  gte.set(prefix);
  gte[prefix.length] = 0x00;
  const lt = new Uint8Array(prefix.length + 1);
  lt.set(prefix);
  lt[prefix.length] = 0xff;
  return { gte, lt };
}

function toTupleItem(part: KeyPart): tuple.TupleItem {
  if (part instanceof Uint8Array) return Buffer.from(part.buffer, part.byteOffset, part.byteLength);
  if (Array.isArray(part)) return part.map(toTupleItem);
  return part;
}

function fromTupleItem(item: tuple.TupleItem): KeyPart {
  if (Buffer.isBuffer(item)) return new Uint8Array(item.buffer, item.byteOffset, item.byteLength);
  if (Array.isArray(item)) return item.map(fromTupleItem);
  if (typeof item === "string" || typeof item === "number" || item === null) return item;
  if (typeof item === "bigint") return Number(item);
  throw new TypeError(`unsupported key element: ${typeof item}`);
}

/**
 * Subspaces: the first element of every key. One short tag each so keys stay small.
 * Adding one is fine; renaming one is a data migration.
 */
export const Subspace = {
  meta: "m", // ["m", name] -> engine metadata (format version, ...)
  namespace: "n", // ["n", namespace] -> namespace record
  actor: "a", // ["a", actorId] -> actor record
  actorIndex: "i", // ["i", namespace, name, [key...]] -> actorId (live actors only)
  state: "s", // ["s", actorId] -> serialized state
  kv: "k", // ["k", actorId, userKey] -> user value
  alarm: "t", // ["t", actorId, alarmId] -> alarm record
  alarmDue: "d", // ["d", dueAt, actorId, alarmId] -> empty; global time order
  garbage: "g", // ["g", actorId] -> empty; destroyed actor whose data is still being cleared
  token: "o", // ["o", tokenId] -> namespace token record (hash of the secret, never the secret)
} as const;
