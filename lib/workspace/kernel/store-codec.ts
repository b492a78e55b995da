import type { FileType, Stat } from "./types.js";

/**
 * Record layout of a store-backed mount. Every key is the mount's prefix, a one-byte tag, then
 * fixed-width big-endian integers (and, for entries, the UTF-8 name), so keys sort by inode and
 * chunk index:
 *   [0x00]                          -> format version (u8)
 *   [0x01][ino u32]                 -> inode record (below)
 *   [0x02][dir ino u32][name utf-8] -> child ino (u32)
 *   [0x03][ino u32][index u32]      -> file bytes [index * 64 KiB, +64 KiB)
 * Inode record (big-endian): version u8, type u8, mode u16, nlink u32, uid u32, gid u32,
 * size f64, atime f64, mtime f64, ctime f64, birthtime f64, then the symlink target or device
 * name in UTF-8.
 */
export const FORMAT_VERSION = 1;
export const CHUNK_SIZE = 64 * 1024;

export const TAG_HEADER = 0;
export const TAG_INODE = 1;
export const TAG_ENTRY = 2;
export const TAG_CHUNK = 3;

const RECORD_FIXED = 56;
/** Largest file size a record may claim (the VFS's file size limit). */
const MAX_RECORD_SIZE = 2 ** 31 - 1;
const TYPE_CODES: Record<FileType, number> = {
  file: 1,
  directory: 2,
  symlink: 3,
  fifo: 4,
  chardev: 5,
  socket: 6,
};
const TYPES: (FileType | undefined)[] = [
  undefined,
  "file",
  "directory",
  "symlink",
  "fifo",
  "chardev",
  "socket",
];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function withTag(prefix: Uint8Array, tag: number, extra: number): { key: Uint8Array; view: DataView } {
  const key = new Uint8Array(prefix.length + 1 + extra);
  key.set(prefix);
  key[prefix.length] = tag;
  return { key, view: new DataView(key.buffer, prefix.length + 1) };
}

export function headerKey(prefix: Uint8Array): Uint8Array {
  return withTag(prefix, TAG_HEADER, 0).key;
}

export function inodeKey(prefix: Uint8Array, ino: number): Uint8Array {
  const { key, view } = withTag(prefix, TAG_INODE, 4);
  view.setUint32(0, ino);
  return key;
}

export function entryKey(prefix: Uint8Array, dirIno: number, name: string): Uint8Array {
  const nameBytes = encoder.encode(name);
  const { key, view } = withTag(prefix, TAG_ENTRY, 4 + nameBytes.length);
  view.setUint32(0, dirIno);
  key.set(nameBytes, prefix.length + 5);
  return key;
}

export function chunkKey(prefix: Uint8Array, ino: number, index: number): Uint8Array {
  const { key, view } = withTag(prefix, TAG_CHUNK, 8);
  view.setUint32(0, ino);
  view.setUint32(4, index);
  return key;
}

export type DecodedKey =
  | { tag: typeof TAG_HEADER }
  | { tag: typeof TAG_INODE; ino: number }
  | { tag: typeof TAG_ENTRY; ino: number; name: string }
  | { tag: typeof TAG_CHUNK; ino: number; index: number };

/** Parses a key of this mount (undefined for keys of other prefixes or malformed ones). */
export function decodeKey(prefix: Uint8Array, key: Uint8Array): DecodedKey | undefined {
  if (key.length <= prefix.length) return undefined;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return undefined;
  const tag = key[prefix.length];
  const rest = key.length - prefix.length - 1;
  const view = new DataView(key.buffer, key.byteOffset + prefix.length + 1, rest);
  switch (tag) {
    case TAG_HEADER:
      return rest === 0 ? { tag } : undefined;
    case TAG_INODE:
      return rest === 4 ? { tag, ino: view.getUint32(0) } : undefined;
    case TAG_ENTRY:
      return rest > 4
        ? { tag, ino: view.getUint32(0), name: decoder.decode(key.subarray(prefix.length + 5)) }
        : undefined;
    case TAG_CHUNK:
      return rest === 8 ? { tag, ino: view.getUint32(0), index: view.getUint32(4) } : undefined;
    default:
      return undefined;
  }
}

/** What a store mount keeps of an inode: its stat minus what the mount assigns, plus a link target. */
export type InodeRecord = Omit<Stat, "dev" | "ino"> & { link: string | null };

export function encodeInode(r: InodeRecord): Uint8Array {
  const link = r.link === null ? new Uint8Array(0) : encoder.encode(r.link);
  const out = new Uint8Array(RECORD_FIXED + link.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, FORMAT_VERSION);
  view.setUint8(1, TYPE_CODES[r.type]);
  view.setUint16(2, r.mode);
  view.setUint32(4, r.nlink);
  view.setUint32(8, r.uid);
  view.setUint32(12, r.gid);
  view.setFloat64(16, r.size);
  view.setFloat64(24, r.atimeMs);
  view.setFloat64(32, r.mtimeMs);
  view.setFloat64(40, r.ctimeMs);
  view.setFloat64(48, r.birthtimeMs);
  out.set(link, RECORD_FIXED);
  return out;
}

/** Undefined for records this version cannot read. */
export function decodeInode(bytes: Uint8Array): InodeRecord | undefined {
  if (bytes.length < RECORD_FIXED) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (view.getUint8(0) !== FORMAT_VERSION) return undefined;
  const type = TYPES[view.getUint8(1)];
  if (type === undefined) return undefined;
  const size = view.getFloat64(16);
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_RECORD_SIZE) return undefined;
  return {
    type,
    mode: view.getUint16(2) & 0o7777,
    nlink: view.getUint32(4),
    uid: view.getUint32(8),
    gid: view.getUint32(12),
    size,
    atimeMs: view.getFloat64(24),
    mtimeMs: view.getFloat64(32),
    ctimeMs: view.getFloat64(40),
    birthtimeMs: view.getFloat64(48),
    link: type === "symlink" || type === "chardev" ? decoder.decode(bytes.subarray(RECORD_FIXED)) : null,
  };
}

export function encodeIno(ino: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, ino);
  return out;
}

export function decodeIno(bytes: Uint8Array): number | undefined {
  return bytes.length === 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0) : undefined;
}
