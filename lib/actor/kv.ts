/** `c.kv`: the actor's own key-value space, with the limits checked before anything is written. */
import { Errors, err } from "../errors.js";
import type { ActorServices, KvOp } from "../engine/types.js";
import type { ActorKv, KvEntry } from "./context.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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
    const rows = await this.#services.kvList(p, options);
    return rows.map(([key, value]) => ({ key, value }));
  }
}
