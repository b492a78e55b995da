import { KernelError } from "./errno.js";
import { toStat, type Inode } from "./inode.js";
import type { DirEntry, FileHandle, Stat, Whence } from "./types.js";

/** What open file handles need from the VFS: writes go through it for accounting and limits. */
export interface FileOps {
  writeAt(node: Inode, data: Uint8Array, position: number): number;
  truncateNode(node: Inode, size: number): void;
  listDir(node: Inode): DirEntry[];
}

/** Shared reference counting: the description is released when the last holder closes. */
abstract class RefCounted {
  private refs = 1;

  ref(): this {
    if (this.refs <= 0) throw new KernelError("EBADF", "dup");
    this.refs++;
    return this;
  }

  close(): void {
    if (this.refs <= 0) return;
    if (--this.refs === 0) this.release();
  }

  protected get closed(): boolean {
    return this.refs <= 0;
  }

  protected release(): void {}
}

function seekTo(current: number, size: number, offset: number, whence: Whence): number {
  const base = whence === "set" ? 0 : whence === "cur" ? current : size;
  const next = base + offset;
  if (!Number.isSafeInteger(next) || next < 0) throw new KernelError("EINVAL", "lseek");
  return next;
}

/** An open regular file. */
export class FileHandleImpl extends RefCounted implements FileHandle {
  readonly kind = "file";
  private offset = 0;

  constructor(
    private readonly ops: FileOps,
    readonly node: Inode,
    readonly path: string,
    readonly readable: boolean,
    readonly writable: boolean,
    private readonly append: boolean,
  ) {
    super();
  }

  read(buf: Uint8Array, position?: number): number {
    if (!this.readable || this.closed) throw new KernelError("EBADF", "read", this.path);
    const at = position ?? this.offset;
    const node = this.node;
    if (at >= node.size || node.data === null) return 0;
    const n = Math.min(buf.length, node.size - at);
    buf.set(node.data.subarray(at, at + n));
    if (position === undefined) this.offset += n;
    return n;
  }

  write(data: Uint8Array, position?: number): number {
    if (!this.writable || this.closed) throw new KernelError("EBADF", "write", this.path);
    const at = this.append ? this.node.size : (position ?? this.offset);
    const n = this.ops.writeAt(this.node, data, at);
    if (position === undefined || this.append) this.offset = at + n;
    return n;
  }

  seek(offset: number, whence: Whence): number {
    if (this.closed) throw new KernelError("EBADF", "lseek", this.path);
    this.offset = seekTo(this.offset, this.node.size, offset, whence);
    return this.offset;
  }

  stat(): Stat {
    return toStat(this.node);
  }

  truncate(size: number): void {
    if (!this.writable || this.closed) throw new KernelError("EBADF", "ftruncate", this.path);
    this.ops.truncateNode(this.node, size);
  }

  readdir(): DirEntry[] {
    throw new KernelError("ENOTDIR", "readdir", this.path);
  }

  readReady(): boolean {
    return true;
  }
}

/** An open directory: lists entries; reads and writes are EISDIR. */
export class DirHandleImpl extends RefCounted implements FileHandle {
  readonly kind = "directory";
  readonly readable = true;
  readonly writable = false;

  constructor(
    private readonly ops: FileOps,
    readonly node: Inode,
    readonly path: string,
  ) {
    super();
  }

  read(): number {
    throw new KernelError("EISDIR", "read", this.path);
  }

  write(): number {
    throw new KernelError("EISDIR", "write", this.path);
  }

  seek(): number {
    return 0;
  }

  stat(): Stat {
    return toStat(this.node);
  }

  truncate(): void {
    throw new KernelError("EISDIR", "ftruncate", this.path);
  }

  readdir(): DirEntry[] {
    if (this.closed) throw new KernelError("EBADF", "readdir", this.path);
    return this.ops.listDir(this.node);
  }

  readReady(): boolean {
    return true;
  }
}

const nullStat = (): Stat => ({
  dev: 0,
  ino: 0,
  type: "chardev",
  mode: 0o666,
  nlink: 1,
  uid: 0,
  gid: 0,
  size: 0,
  atimeMs: 0,
  mtimeMs: 0,
  ctimeMs: 0,
  birthtimeMs: 0,
});

/**
 * A character device: "null" (EOF, writes discarded), "zero" (zeros) or "random" (random bytes).
 * Also what `nullHandle()` hands out.
 */
export class DeviceHandle extends RefCounted implements FileHandle {
  readonly kind = "null";
  readonly readable = true;
  readonly writable = true;

  constructor(
    private readonly device: string = "null",
    private readonly node?: Inode,
    readonly path?: string,
  ) {
    super();
  }

  read(buf: Uint8Array): number {
    if (this.device === "null") return 0;
    if (this.device === "zero") buf.fill(0);
    else for (let i = 0; i < buf.length; i += 65536) crypto.getRandomValues(buf.subarray(i, i + 65536));
    return buf.length;
  }

  write(data: Uint8Array): number {
    return data.length;
  }

  seek(): number {
    return 0;
  }

  stat(): Stat {
    return this.node ? toStat(this.node) : nullStat();
  }

  truncate(): void {}

  readdir(): DirEntry[] {
    throw new KernelError("ENOTDIR", "readdir", this.path);
  }

  readReady(): boolean {
    return true;
  }
}
