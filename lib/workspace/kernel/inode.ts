import { KernelError } from "./errno.js";
import type { FileType, Stat } from "./types.js";

/** The one user every workspace runs as. */
export const USER_ID = 1000;
export const GROUP_ID = 1000;

/** `Stat.size` reported for directories (what Linux filesystems commonly show). */
const DIRECTORY_SIZE = 4096;

let nextDev = 1;

/**
 * One file, directory, symlink or device. Plain fields and one shape for every type so the
 * engine keeps them compact; the mount it lives in is the place mutations are reported to.
 */
export class Inode {
  readonly ino: number;
  readonly type: FileType;
  readonly mount: Mount;
  mode: number;
  nlink: number;
  uid = USER_ID;
  gid = GROUP_ID;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  /** Bytes in use: file length, or the symlink target's length. */
  size = 0;
  /** File bytes; may be longer than `size` (spare capacity for appends). */
  data: Uint8Array | null = null;
  /** Directory entries. */
  entries: Map<string, Inode> | null = null;
  /** Symlink target, or the device name of a chardev ("null", "zero", "random"). */
  link: string | null = null;

  constructor(mount: Mount, ino: number, type: FileType, mode: number, now: number) {
    this.mount = mount;
    this.ino = ino;
    this.type = type;
    this.mode = mode & 0o7777;
    this.nlink = type === "directory" ? 2 : 1;
    this.atimeMs = this.mtimeMs = this.ctimeMs = this.birthtimeMs = now;
    if (type === "directory") this.entries = new Map();
  }
}

/**
 * A mounted filesystem: a tree of inodes with its own inode numbers. The VFS calls the `note*`
 * hooks after every mutation so persistent mounts can track what to write; in-memory mounts
 * ignore them.
 */
export class Mount {
  readonly dev = nextDev++;
  readonly readOnly: boolean;
  /** Whether usage (and `maxFilesystemBytes`) counts this mount: writable mounts only. */
  readonly counted: boolean;
  root: Inode;
  /** File bytes and inodes held (kept by the VFS). */
  bytes = 0;
  inodes = 1;
  protected nextIno = 2;

  constructor(options: { readOnly?: boolean; now?: number; rootMode?: number } = {}) {
    this.readOnly = options.readOnly ?? false;
    this.counted = !this.readOnly;
    this.root = new Inode(this, 1, "directory", options.rootMode ?? 0o755, options.now ?? Date.now());
  }

  newInode(type: FileType, mode: number, now: number): Inode {
    // Inode numbers are stored as u32 by persistent mounts and never reused.
    if (this.nextIno > 0xffffffff)
      throw new KernelError("ENOSPC", "create", undefined, "out of inode numbers");
    this.inodes++;
    return new Inode(this, this.nextIno++, type, mode, now);
  }

  /** Metadata (mode, times, size, nlink) changed. */
  noteMeta(_node: Inode): void {}
  /** The entry `name` of `dir` was added, removed or replaced. */
  noteEntry(_dir: Inode, _name: string): void {}
  /** Bytes [start, end) of a file changed (its size may have changed too). */
  noteData(_node: Inode, _start: number, _end: number): void {}
  /** The inode lost its last link. */
  noteFree(_node: Inode): void {}
}

/** A writable in-memory filesystem (the root, /tmp). */
export class MemoryMount extends Mount {}

export function toStat(node: Inode): Stat {
  return {
    dev: node.mount.dev,
    ino: node.ino,
    type: node.type,
    mode: node.mode,
    nlink: node.nlink,
    uid: node.uid,
    gid: node.gid,
    size: node.type === "directory" ? DIRECTORY_SIZE : node.size,
    atimeMs: node.atimeMs,
    mtimeMs: node.mtimeMs,
    ctimeMs: node.ctimeMs,
    birthtimeMs: node.birthtimeMs,
  };
}
