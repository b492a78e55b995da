/**
 * Admin routes that are not part of the namespace API.
 *
 * `GET /admin/backup` (admin token) streams every key/value pair of the store, read from ONE
 * store iterator: LevelDB takes an implicit snapshot when the iterator is created, so the
 * stream is a consistent point-in-time view while writes continue. The snapshot is taken before
 * the response status is sent, so a store that cannot be read is a normal error response.
 *
 * Stream format ("enclave backup stream", version 1), content type
 * `application/vnd.enclave.backup`; all integers big-endian:
 *
 *     magic    17 bytes  "ENCLAVE-BACKUP/1\n"
 *     header   u32 length, then that many bytes of UTF-8 JSON:
 *              { "format": 1, "engineVersion": "x.y.z", "createdAt": EPOCH_MS }
 *     entry*   u32 key length (< 0xFFFFFFFF), key bytes, u32 value length, value bytes
 *              (in ascending key order, every key of the store)
 *     trailer  u32 0xFFFFFFFF, u64 entry count, 32 bytes SHA-256 of every byte before the
 *              trailer (magic, header and entries)
 *
 * Nothing follows the trailer. A stream without a trailer is incomplete (the engine stopped or
 * the connection broke mid-way): the response status is already 200 by then, so the only
 * signal is the missing trailer; readers must treat that as a failed backup.
 */
import { createHash, type Hash } from "node:crypto";
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { VERSION } from "../../version.js";
import type { StoreKey, StoreValue } from "../../store/index.js";
import type { GatewayDeps } from "../server.js";

export const BACKUP_CONTENT_TYPE = "application/vnd.enclave.backup";
export const BACKUP_STREAM_VERSION = 1;
export const BACKUP_MAGIC: Uint8Array = new TextEncoder().encode("ENCLAVE-BACKUP/1\n");
/** The key-length value that marks the trailer. */
export const BACKUP_TRAILER_MARK = 0xffffffff;

export interface BackupStreamHeader {
  format: number;
  engineVersion: string;
  /** When the snapshot was taken, epoch ms. */
  createdAt: number;
}

/** One entry as it travels: u32 key length, key, u32 value length, value. */
export function encodeEntryFrame(key: StoreKey, value: StoreValue): Buffer {
  const frame = Buffer.allocUnsafe(8 + key.byteLength + value.byteLength);
  frame.writeUInt32BE(key.byteLength, 0);
  frame.set(key, 4);
  frame.writeUInt32BE(value.byteLength, 4 + key.byteLength);
  frame.set(value, 8 + key.byteLength);
  return frame;
}

function encodeHeader(header: BackupStreamHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const out = Buffer.allocUnsafe(4 + json.byteLength);
  out.writeUInt32BE(json.byteLength, 0);
  out.set(json, 4);
  return out;
}

function encodeTrailer(count: number, digest: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + 8 + 32);
  out.writeUInt32BE(BACKUP_TRAILER_MARK, 0);
  out.writeBigUInt64BE(BigInt(count), 4);
  out.set(digest, 12);
  return out;
}

/** Coalesce small frames into chunks of about this size before they reach the socket. */
const CHUNK_BYTES = 64 * 1024;

/**
 * The whole stream for one snapshot. `first` is the iterator's first result, already read (so
 * the snapshot exists before the response starts).
 */
async function* backupStream(
  header: BackupStreamHeader,
  iterator: AsyncIterator<[StoreKey, StoreValue]>,
  first: IteratorResult<[StoreKey, StoreValue]>,
): AsyncGenerator<Buffer> {
  const hash: Hash = createHash("sha256");
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const push = (bytes: Buffer): Buffer | undefined => {
    hash.update(bytes);
    pending.push(bytes);
    pendingBytes += bytes.byteLength;
    if (pendingBytes < CHUNK_BYTES) return undefined;
    const chunk = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return chunk;
  };

  push(Buffer.from(BACKUP_MAGIC));
  push(encodeHeader(header));
  let count = 0;
  try {
    for (let next = first; !next.done; next = await iterator.next()) {
      const [key, value] = next.value;
      count++;
      const chunk = push(encodeEntryFrame(key, value));
      if (chunk) yield chunk;
    }
  } finally {
    // Stops the store iterator (and releases its snapshot) if the client goes away early.
    await iterator.return?.();
  }
  const rest = Buffer.concat(pending, pendingBytes);
  yield Buffer.concat([rest, encodeTrailer(count, hash.digest())]);
}

export function adminRoutes(app: FastifyInstance, deps: GatewayDeps): void {
  app.get("/admin/backup", { config: { auth: "admin" } }, async (_request, reply) => {
    const iterator = deps.engine.store.range({})[Symbol.asyncIterator]();
    // Creating the store iterator takes the snapshot; reading the first entry surfaces a
    // closed or broken store as an ordinary error response instead of a truncated stream.
    const createdAt = Date.now();
    let first: IteratorResult<[StoreKey, StoreValue]>;
    try {
      first = await iterator.next();
    } catch (e) {
      await iterator.return?.().catch(() => undefined);
      throw e;
    }
    const header: BackupStreamHeader = { format: BACKUP_STREAM_VERSION, engineVersion: VERSION, createdAt };
    const stream = Readable.from(backupStream(header, iterator, first), { objectMode: false });
    stream.on("error", (e) => deps.log.error({ err: e }, "backup stream failed; the client gets no trailer"));
    deps.log.info("backup stream started");
    return reply
      .header("content-type", BACKUP_CONTENT_TYPE)
      .header("cache-control", "no-store")
      .header("x-content-type-options", "nosniff")
      .send(stream);
  });
}
