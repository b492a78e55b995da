/**
 * Backups on disk and on the wire.
 *
 * A backup directory is a LevelDB store of its own (the same layout as a data directory, so
 * classic-level opens it as is) plus `manifest.json`:
 *
 *     { "format": "enclave-backup", "formatVersion": 1, "engineVersion": "0.1.0",
 *       "createdAt": "2030-01-31T12:00:00.000Z", "entries": 1234, "sha256": "<64 hex>",
 *       "source": "engine" | "data-directory" }
 *
 * `sha256` is the SHA-256 of every entry in key order, each encoded as in the backup stream
 * (u32 big-endian key length, key, u32 value length, value). `createdAt` is when the snapshot
 * was taken. The manifest is written last, and the directory appears under its name only when
 * complete (it is built in a hidden sibling directory and renamed).
 *
 * The stream format of `GET /admin/backup` is documented in lib/gateway/routes/admin.ts.
 */
import { createHash, randomBytes, type Hash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import {
  BACKUP_MAGIC,
  BACKUP_STREAM_VERSION,
  BACKUP_TRAILER_MARK,
  type BackupStreamHeader,
} from "../gateway/routes/admin.js";
import { EnclaveError } from "../errors.js";
import { LevelStore, type BatchOp, type StoreKey, type StoreValue } from "../store/index.js";
import { CliError, UsageError } from "./io.js";

export const MANIFEST_FILE = "manifest.json";
export const MANIFEST_FORMAT = "enclave-backup";
export const MANIFEST_VERSION = 1;

export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  formatVersion: number;
  engineVersion: string;
  /** ISO-8601: when the snapshot was taken. */
  createdAt: string;
  entries: number;
  sha256: string;
  source: "engine" | "data-directory";
}

export type Entry = [StoreKey, StoreValue];

// ---------------------------------------------------------------------------------------------
// Digest of entries

/** Count and SHA-256 of entries, framed as in the stream: u32 klen, key, u32 vlen, value. */
export class EntryDigest {
  count = 0;
  readonly #hash: Hash = createHash("sha256");
  readonly #len = Buffer.allocUnsafe(4);

  add(key: Uint8Array, value: Uint8Array): void {
    this.count++;
    this.#len.writeUInt32BE(key.byteLength, 0);
    this.#hash.update(this.#len);
    this.#hash.update(key);
    this.#len.writeUInt32BE(value.byteLength, 0);
    this.#hash.update(this.#len);
    this.#hash.update(value);
  }

  hex(): string {
    return this.#hash.digest("hex");
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the backup stream

export class BackupStreamError extends CliError {
  constructor(message: string) {
    super(`the backup stream is not valid: ${message}`);
    this.name = "BackupStreamError";
  }
}

/** A single frame larger than this is treated as corruption, not buffered. */
const MAX_FRAME_BYTES = 512 * 1024 * 1024;
const HEADER_MAX_BYTES = 64 * 1024;

/** Pulls exact byte counts out of a chunked stream without concatenating everything. */
class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #chunks: Buffer[] = [];
  #length = 0;
  #done = false;

  constructor(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    if (Symbol.asyncIterator in chunks) {
      this.#it = chunks[Symbol.asyncIterator]();
    } else {
      const sync = chunks[Symbol.iterator]();
      this.#it = { next: async () => sync.next() };
    }
  }

  /** True once `n` bytes are buffered; false if the stream ends first. */
  async ensure(n: number): Promise<boolean> {
    while (this.#length < n) {
      if (this.#done) return false;
      const next = await this.#it.next();
      if (next.done) {
        this.#done = true;
        return false;
      }
      const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      if (chunk.byteLength > 0) {
        this.#chunks.push(chunk);
        this.#length += chunk.byteLength;
      }
    }
    return true;
  }

  /** The next `n` bytes (call `ensure(n)` first). */
  take(n: number): Buffer {
    const first = this.#chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first && first.byteLength >= n) {
      const out = first.subarray(0, n);
      if (first.byteLength === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      this.#length -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.byteLength, n - offset);
      c.copy(out, offset, 0, k);
      offset += k;
      if (k === c.byteLength) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#length -= n;
    return out;
  }

  async close(): Promise<void> {
    await this.#it.return?.();
  }
}

export interface StreamSummary {
  header: BackupStreamHeader;
  count: number;
}

/**
 * Decodes a backup stream. Yields its entries; the header is passed to `onHeader` before the
 * first entry. Throws BackupStreamError on a bad magic, a truncated stream (no trailer), a
 * count or checksum that does not match, or bytes after the trailer.
 */
export async function* decodeBackupStream(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  onHeader: (header: BackupStreamHeader) => void,
): AsyncGenerator<Entry, StreamSummary> {
  const reader = new ByteReader(chunks);
  const hash = createHash("sha256");
  const need = async (n: number, what: string) => {
    if (!(await reader.ensure(n))) {
      throw new BackupStreamError(
        `it ended in the middle of ${what} (the engine stopped or the connection broke)`,
      );
    }
  };
  try {
    await need(BACKUP_MAGIC.byteLength, "the magic bytes");
    const magic = reader.take(BACKUP_MAGIC.byteLength);
    if (!magic.equals(BACKUP_MAGIC)) throw new BackupStreamError("it does not start with ENCLAVE-BACKUP/1");
    hash.update(magic);

    await need(4, "the header");
    const headerLen = reader.take(4);
    const n = headerLen.readUInt32BE(0);
    if (n > HEADER_MAX_BYTES) throw new BackupStreamError(`its header claims ${n} bytes`);
    await need(n, "the header");
    const headerBytes = reader.take(n);
    hash.update(headerLen);
    hash.update(headerBytes);
    let header: BackupStreamHeader;
    try {
      header = JSON.parse(headerBytes.toString("utf8")) as BackupStreamHeader;
    } catch {
      throw new BackupStreamError("its header is not JSON");
    }
    if (header.format !== BACKUP_STREAM_VERSION) {
      throw new BackupStreamError(
        `stream format ${String(header.format)} is not supported (this enclave reads format ${BACKUP_STREAM_VERSION}); use the enclave CLI of the engine's version`,
      );
    }
    onHeader(header);

    let count = 0;
    for (;;) {
      await need(4, "an entry");
      const keyLenBytes = reader.take(4);
      const keyLen = keyLenBytes.readUInt32BE(0);
      if (keyLen === BACKUP_TRAILER_MARK) {
        await need(40, "the trailer");
        const trailer = reader.take(40);
        const claimed = trailer.readBigUInt64BE(0);
        const digest = trailer.subarray(8, 40);
        if (claimed !== BigInt(count)) {
          throw new BackupStreamError(`the trailer counts ${claimed} entries, the stream held ${count}`);
        }
        if (!digest.equals(hash.digest()))
          throw new BackupStreamError("the SHA-256 in the trailer does not match");
        if (await reader.ensure(1)) throw new BackupStreamError("there are bytes after the trailer");
        return { header, count };
      }
      if (keyLen > MAX_FRAME_BYTES) throw new BackupStreamError(`an entry claims a ${keyLen}-byte key`);
      await need(keyLen + 4, "an entry");
      const key = reader.take(keyLen);
      const valueLenBytes = reader.take(4);
      const valueLen = valueLenBytes.readUInt32BE(0);
      if (valueLen > MAX_FRAME_BYTES) throw new BackupStreamError(`an entry claims a ${valueLen}-byte value`);
      await need(valueLen, "an entry");
      const value = reader.take(valueLen);
      hash.update(keyLenBytes);
      hash.update(key);
      hash.update(valueLenBytes);
      hash.update(value);
      count++;
      yield [key, value];
    }
  } finally {
    await reader.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Local stores

const LEVELDB_FILE = /^(CURRENT|LOCK|LOG|LOG\.old|MANIFEST-\d+|\d+\.(log|ldb|sst|dbtmp))$/;

/** Whether a file name is one LevelDB owns. */
export function isStoreFile(name: string): boolean {
  return LEVELDB_FILE.test(name);
}

/** Whether `dir` holds a LevelDB store (its CURRENT file). */
export function hasStore(dir: string): boolean {
  return existsSync(path.join(dir, "CURRENT"));
}

/**
 * Opens a local store, turning "locked by another process" into a clear CliError. `inUse` is
 * the message for that case.
 */
export async function openLocal(dir: string, inUse: string): Promise<LevelStore> {
  try {
    return await LevelStore.open(dir);
  } catch (e) {
    if (e instanceof EnclaveError && e.group === "store" && e.code === "unavailable")
      throw new CliError(inUse);
    throw new CliError(`cannot open the store in ${dir}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Whether a store has at least one entry. */
export async function isEmptyStore(store: LevelStore): Promise<boolean> {
  for await (const _ of store.range({ limit: 1 })) return false;
  return true;
}

/** Count and digest of every entry of a store. */
export async function digestStore(store: LevelStore): Promise<{ entries: number; sha256: string }> {
  const digest = new EntryDigest();
  for await (const [k, v] of store.range({})) digest.add(k, v);
  return { entries: digest.count, sha256: digest.hex() };
}

const BATCH_ENTRIES = 1000;
const BATCH_BYTES = 4 * 1024 * 1024;

/** Writes entries into a store in synced batches; returns their count and digest. */
export async function writeEntries(
  store: LevelStore,
  entries: AsyncIterable<Entry>,
): Promise<{ entries: number; sha256: string }> {
  const digest = new EntryDigest();
  let ops: BatchOp[] = [];
  let bytes = 0;
  for await (const [key, value] of entries) {
    digest.add(key, value);
    ops.push({ type: "put", key, value });
    bytes += key.byteLength + value.byteLength;
    if (ops.length >= BATCH_ENTRIES || bytes >= BATCH_BYTES) {
      await store.batch(ops);
      ops = [];
      bytes = 0;
    }
  }
  if (ops.length > 0) await store.batch(ops);
  return { entries: digest.count, sha256: digest.hex() };
}

// ---------------------------------------------------------------------------------------------
// Directories

/** `PARENT/.NAME.TAG-RANDOM`, beside `dir` (same file system, so rename is atomic). */
export function siblingPath(dir: string, tag: string): string {
  return path.join(path.dirname(dir), `.${path.basename(dir)}.${tag}-${randomBytes(6).toString("hex")}`);
}

/** Entries of a directory, or undefined if it does not exist. Throws if it is not a directory. */
export async function listDir(dir: string, what: string): Promise<string[] | undefined> {
  let s;
  try {
    s = await stat(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CliError(`cannot read ${what} ${dir}: ${(e as Error).message}`);
  }
  if (!s.isDirectory()) throw new UsageError(`${what} ${dir} is not a directory`);
  return readdir(dir);
}

/** fsync a directory, so a rename in it is durable. Best effort where not supported. */
export async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch {
    // Some platforms and file systems cannot fsync a directory.
  } finally {
    await fh?.close();
  }
}

export async function writeFileSynced(file: string, text: string, mode = 0o644): Promise<void> {
  const fh = await open(file, "wx", mode);
  try {
    await fh.writeFile(text, "utf8");
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function removeQuietly(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}

/** `rename`, creating the parent first. */
export async function moveInto(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  await rename(from, to);
}

// ---------------------------------------------------------------------------------------------
// Manifest

export async function readManifest(dir: string): Promise<BackupManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new UsageError(`${dir} is not a complete enclave backup: it has no ${MANIFEST_FILE}`);
    }
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let m: Partial<BackupManifest>;
  try {
    m = JSON.parse(text) as Partial<BackupManifest>;
  } catch {
    throw new CliError(`${file} is not valid JSON`);
  }
  if (m.format !== MANIFEST_FORMAT) throw new CliError(`${file} is not an enclave backup manifest`);
  if (m.formatVersion !== MANIFEST_VERSION) {
    throw new CliError(
      `${file} has backup format version ${String(m.formatVersion)}; this enclave reads version ${MANIFEST_VERSION}`,
    );
  }
  if (
    !Number.isSafeInteger(m.entries) ||
    (m.entries as number) < 0 ||
    !/^[0-9a-f]{64}$/.test(String(m.sha256))
  ) {
    throw new CliError(`${file} is damaged: it lacks a valid entry count or sha256`);
  }
  return m as BackupManifest;
}
