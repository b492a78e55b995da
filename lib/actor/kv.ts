/** `c.kv`: the actor's own key-value space, with the limits checked before anything is written. */
import { Errors, err } from "../errors.js";
import type { ActorServices, KvOp } from "../engine/types.js";
import type { ActorKv, KvEntry } from "./context.js";
import { SYSTEM_KV_PREFIX, systemKvKey } from "../engine/system-keys.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Keys under this prefix belong to Enclave's own modules (workspace files, preview tokens), so
// that an actor's `c.kv` can never overwrite them.
export { SYSTEM_KV_PREFIX };

function isSystemKey(key: Uint8Array): boolean {
  if (key.length < SYSTEM_KV_PREFIX.length) return false;
  for (let i = 0; i < SYSTEM_KV_PREFIX.length; i++) if (key[i] !== SYSTEM_KV_PREFIX[i]) return false;
  return true;
}

type Bytes = string | Uint8Array;

function toBytes(v: Bytes, what: string): Uint8Array {
  if (typeof v === "string") return encoder.encode(v);
  if (v instanceof Uint8Array) return v;
  throw err(Errors.badRequest, `A KV ${what} must be a string or a Uint8Array`);
}

export class ActorKvImpl implements ActorKv {
  readonly #services: ActorServices;
  readonly #track: (p: Promise<void>) => Promise<void>;

  constructor(services: ActorServices, track: (p: Promise<void>) => Promise<void>) {
    this.#services = services;
    this.#track = track;
  }

  #key(k: Bytes): Uint8Array {
    const key = toBytes(k, "key");
    const max = this.#services.limits.kvKeyBytes;
    if (key.length === 0) throw err(Errors.badRequest, "A KV key must not be empty");
    if (isSystemKey(key))
      throw err(Errors.badRequest, 'KV keys starting with "\\u0000enclave\\u0000" are reserved');
    if (key.length > max)
      throw err(Errors.kvKeyTooLarge, `The KV key is ${key.length} bytes; the limit is ${max}`, {
        limit: max,
      });
    return key;
  }

  #value(v: Bytes): Uint8Array {
    const value = toBytes(v, "value");
    const max = this.#services.limits.kvValueBytes;
    if (value.length > max) {
      throw err(Errors.kvValueTooLarge, `The KV value is ${value.length} bytes; the limit is ${max}`, {
        limit: max,
      });
    }
    return value;
  }

  #checkBatch(ops: KvOp[]): void {
    const { kvBatchEntries, kvBatchBytes } = this.#services.limits;
    if (ops.length > kvBatchEntries) {
      throw err(
        Errors.kvBatchTooLarge,
        `The KV batch has ${ops.length} entries; the limit is ${kvBatchEntries}`,
        {
          limit: kvBatchEntries,
        },
      );
    }
    let size = 0;
    for (const op of ops) size += op.key.length + (op.type === "put" ? op.value.length : 0);
    if (size > kvBatchBytes) {
      throw err(Errors.kvBatchTooLarge, `The KV batch is ${size} bytes; the limit is ${kvBatchBytes}`, {
        limit: kvBatchBytes,
      });
    }
  }

  #write(ops: KvOp[]): Promise<void> {
    this.#checkBatch(ops);
    return this.#track(this.#services.write(undefined, ops));
  }

  async get(key: Bytes): Promise<Uint8Array | undefined> {
    const [v] = await this.#services.kvGet([this.#key(key)]);
    return v;
  }

  async getText(key: Bytes): Promise<string | undefined> {
    const v = await this.get(key);
    return v === undefined ? undefined : decoder.decode(v);
  }

  getMany(keys: Bytes[]): Promise<(Uint8Array | undefined)[]> {
    return this.#services.kvGet(keys.map((k) => this.#key(k)));
  }

  async put(key: Bytes, value: Bytes): Promise<void> {
    return this.#write([{ type: "put", key: this.#key(key), value: this.#value(value) }]);
  }

  async putMany(entries: [Bytes, Bytes][]): Promise<void> {
    return this.#write(entries.map(([k, v]) => ({ type: "put", key: this.#key(k), value: this.#value(v) })));
  }

  async delete(key: Bytes): Promise<void> {
    return this.#write([{ type: "del", key: this.#key(key) }]);
  }

  async deleteMany(keys: Bytes[]): Promise<void> {
    return this.#write(keys.map((k) => ({ type: "del", key: this.#key(k) })));
  }

  async list(prefix?: Bytes, options: { limit?: number; reverse?: boolean } = {}): Promise<KvEntry[]> {
    const p = prefix === undefined ? new Uint8Array(0) : toBytes(prefix, "prefix");
    if (isSystemKey(p)) return [];
    // Only a prefix that is itself a prefix of the system prefix can reach system keys.
    const overlaps = p.length < SYSTEM_KV_PREFIX.length && p.every((b, i) => b === SYSTEM_KV_PREFIX[i]);
    if (!overlaps) return (await this.#services.kvList(p, options)).map(([key, value]) => ({ key, value }));
    const { limit, ...rest } = options;
    const rows = (await this.#services.kvList(p, rest)).filter(([key]) => !isSystemKey(key));
    return (limit === undefined ? rows : rows.slice(0, limit)).map(([key, value]) => ({ key, value }));
  }
}

/**
 * Storage for Enclave's own modules inside an actor (workspace files, preview tokens): keys are
 * confined to the system prefix and the user-facing KV limits do not apply, because a flush of a
 * workspace's files must be one atomic write however many chunks it touches.
 */
export class SystemKv {
  readonly #services: ActorServices;
  readonly #track: (p: Promise<void>) => Promise<void>;
  readonly #prefix: Uint8Array;

  constructor(services: ActorServices, track: (p: Promise<void>) => Promise<void>, scope: string) {
    this.#services = services;
    this.#track = track;
    this.#prefix = systemKvKey(scope);
  }

  #full(key: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.#prefix.length + key.length);
    out.set(this.#prefix);
    out.set(key, this.#prefix.length);
    return out;
  }

  /** Every entry of this scope whose key starts with `prefix`, keys relative to the scope. */
  async list(prefix: Uint8Array = new Uint8Array(0)): Promise<[Uint8Array, Uint8Array][]> {
    const rows = await this.#services.kvList(this.#full(prefix), {});
    const n = this.#prefix.length;
    return rows.map(([k, v]) => [k.subarray(n), v]);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const [v] = await this.#services.kvGet([this.#full(key)]);
    return v;
  }

  /** Applies the ops atomically (`value: undefined` deletes); durable when it resolves. */
  commit(ops: { key: Uint8Array; value: Uint8Array | undefined }[]): Promise<void> {
    if (ops.length === 0) return Promise.resolve();
    const kv: KvOp[] = ops.map((op) =>
      op.value === undefined
        ? { type: "del", key: this.#full(op.key) }
        : { type: "put", key: this.#full(op.key), value: op.value },
    );
    return this.#track(this.#services.write(undefined, kv));
  }
}
