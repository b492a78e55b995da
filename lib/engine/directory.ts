/**
 * The actor directory: records by id, and an index from (namespace, name, key) to the live
 * (not destroyed) actor id. Creation of one name+key is serialized so concurrent get-or-create
 * calls make exactly one actor.
 */
import type { Limits } from "../config/index.js";
import { Errors, err } from "../errors.js";
import { Subspace, packKey, prefixRange, unpackKey } from "../store/keys.js";
import type { BatchOp, Store } from "../store/types.js";
import { newActorId } from "./ids.js";
import { fromBytes, toBytes } from "./json-bytes.js";
import { KeyedLock } from "./keyed-lock.js";
import type { ActorRecord } from "./types.js";

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function actorKey(actorId: string): Uint8Array {
  return packKey([Subspace.actor, actorId]);
}

function indexKey(namespace: string, name: string, key: string[]): Uint8Array {
  return packKey([Subspace.actorIndex, namespace, name, key]);
}

/** Normalizes and checks an actor key from the wire or the API: a string or a list of strings. */
export function normalizeKey(raw: unknown, limits: Limits): string[] {
  const key = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(key) || !key.every((p) => typeof p === "string")) {
    throw err(Errors.invalidKey, "The actor key must be a string or a list of strings");
  }
  if (key.length > limits.actorKeyParts) {
    throw err(
      Errors.keyTooLarge,
      `The actor key has ${key.length} parts; the limit is ${limits.actorKeyParts}`,
      {
        limit: limits.actorKeyParts,
      },
    );
  }
  let size = 0;
  for (const part of key) size += textEncoder.encode(part).length;
  if (size > limits.actorKeyBytes) {
    throw err(Errors.keyTooLarge, `The actor key is ${size} bytes; the limit is ${limits.actorKeyBytes}`, {
      limit: limits.actorKeyBytes,
    });
  }
  return key;
}

export interface ListOptions {
  name?: string;
  key?: string[];
  cursor?: string;
  limit: number;
}

export class Directory {
  readonly #store: Store;
  readonly #createLock = new KeyedLock();

  constructor(store: Store) {
    this.#store = store;
  }

  async get(actorId: string): Promise<ActorRecord | undefined> {
    const bytes = await this.#store.get(actorKey(actorId));
    return bytes ? fromBytes<ActorRecord>(bytes) : undefined;
  }

  async lookup(namespace: string, name: string, key: string[]): Promise<ActorRecord | undefined> {
    const idBytes = await this.#store.get(indexKey(namespace, name, key));
    if (!idBytes) return undefined;
    return this.get(textDecoder.decode(idBytes));
  }

  /**
   * Finds or creates the actor for name+key. `init` runs inside the creation lock for a new
   * record; if it throws, the record is removed again and the error propagates.
   */
  async getOrCreate(
    namespace: string,
    name: string,
    key: string[],
    input: unknown,
    mode: "getOrCreate" | "create",
    init: (record: ActorRecord) => Promise<void>,
  ): Promise<{ record: ActorRecord; created: boolean }> {
    const lockKey = JSON.stringify([namespace, name, key]);
    return this.#createLock.run(lockKey, async () => {
      const existing = await this.lookup(namespace, name, key);
      if (existing) {
        if (mode === "create") {
          throw err(Errors.actorAlreadyExists, undefined, { actorId: existing.actorId });
        }
        return { record: existing, created: false };
      }
      const record: ActorRecord = {
        actorId: newActorId(),
        name,
        key,
        namespace,
        createdAt: Date.now(),
        initialized: false,
      };
      if (input !== undefined) record.input = input;
      await this.#store.batch([
        { type: "put", key: actorKey(record.actorId), value: toBytes(record) },
        { type: "put", key: indexKey(namespace, name, key), value: textEncoder.encode(record.actorId) },
      ]);
      try {
        await init(record);
      } catch (e) {
        await this.#store.batch([
          { type: "del", key: actorKey(record.actorId) },
          { type: "del", key: indexKey(namespace, name, key) },
        ]);
        throw e;
      }
      return { record, created: true };
    });
  }

  /** Ops that mark a record initialized (input dropped); the caller adds them to its batch. */
  initializedOps(record: ActorRecord): BatchOp[] {
    const next: ActorRecord = { ...record, initialized: true };
    delete next.input;
    return [{ type: "put", key: actorKey(record.actorId), value: toBytes(next) }];
  }

  /** Ops that tombstone a record and free its name+key. */
  destroyedOps(record: ActorRecord): BatchOp[] {
    const next: ActorRecord = { ...record, destroyedAt: Date.now() };
    delete next.input;
    return [
      { type: "put", key: actorKey(record.actorId), value: toBytes(next) },
      { type: "del", key: indexKey(record.namespace, record.name, record.key) },
    ];
  }

  async list(
    namespace: string,
    options: ListOptions,
  ): Promise<{ records: ActorRecord[]; cursor: string | null }> {
    if (options.name !== undefined && options.key !== undefined) {
      const record = await this.lookup(namespace, options.name, options.key);
      return { records: record ? [record] : [], cursor: null };
    }
    const bounds = prefixRange(
      options.name === undefined
        ? [Subspace.actorIndex, namespace]
        : [Subspace.actorIndex, namespace, options.name],
    );
    const range: { gt?: Uint8Array; gte?: Uint8Array; lt: Uint8Array; limit: number } = {
      lt: bounds.lt,
      limit: options.limit + 1,
    };
    if (options.cursor) range.gt = decodeCursor(options.cursor, bounds);
    else range.gte = bounds.gte;
    const ids: string[] = [];
    const keys: Uint8Array[] = [];
    for await (const [k, v] of this.#store.range(range)) {
      keys.push(k);
      ids.push(textDecoder.decode(v));
    }
    const more = ids.length > options.limit;
    if (more) {
      ids.length = options.limit;
      keys.length = options.limit;
    }
    const values = await this.#store.getMany(ids.map(actorKey));
    const records: ActorRecord[] = [];
    for (const v of values) if (v) records.push(fromBytes<ActorRecord>(v));
    const last = keys[keys.length - 1];
    return { records, cursor: more && last ? Buffer.from(last).toString("base64url") : null };
  }
}

function decodeCursor(cursor: string, bounds: { gte: Uint8Array; lt: Uint8Array }): Uint8Array {
  const bytes = new Uint8Array(Buffer.from(cursor, "base64url"));
  // A cursor must be a key within this listing's range; anything else is a client mistake.
  const inRange =
    Buffer.compare(bytes, bounds.gte) >= 0 &&
    Buffer.compare(bytes, bounds.lt) < 0 &&
    (() => {
      try {
        unpackKey(bytes);
        return true;
      } catch {
        return false;
      }
    })();
  if (!inRange) throw err(Errors.badRequest, "The cursor is not valid for this listing");
  return bytes;
}
