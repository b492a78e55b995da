import { KernelError } from "./errno.js";
import { DeviceHandle, DirHandleImpl, FileHandleImpl, type FileOps } from "./handles.js";
import type { Inode } from "./inode.js";
import { MemoryMount, toStat, type Mount } from "./inode.js";
import { PATH_MAX, resolvePath, splitPath } from "./path.js";
import type { DirEntry, FileHandle, FileType, OpenOptions, Stat, Vfs } from "./types.js";

/** Linux's limit on symlinks followed in one lookup. */
const MAX_SYMLINK_FOLLOWS = 40;
/** Largest file the VFS will hold (the largest typed array every engine allows). */
const MAX_FILE_SIZE = 2 ** 31 - 1;
/** Past this, spare capacity grows by at most this much instead of doubling. */
const MAX_GROWTH = 8 * 1024 * 1024;

const encoder = new TextEncoder();

export interface VfsLimits {
  /** File bytes (and symlink targets) across writable mounts; past it, writes fail with ENOSPC. */
  maxFilesystemBytes?: number;
  /** Inodes across writable mounts; past it, creates fail with ENOSPC. */
  maxInodes?: number;
}

interface Frame {
  node: Inode;
  name: string;
}

/**
 * Where a walk ended: `stack` is the directory chain from the root to the parent, `name` the last
 * component and `child` what it names (undefined when missing). A path ending at a directory by
 * ".." or "/" gives `name` "." and `child` equal to the stack top.
 */
interface Walk {
  stack: Frame[];
  name: string;
  child: Inode | undefined;
  /** The path ended with "/" (the last component must be a directory). */
  slash: boolean;
}

interface MountInfo {
  path: string;
  depth: number;
}

/**
 * The workspace filesystem: a mount table over inode trees. Every call is synchronous; lookups
 * walk from the root keeping the physical chain of directories, so ".." and symlinks resolve the
 * way POSIX resolves them and a symlink can be confined to the mount that holds it.
 */
export class KernelVfs implements Vfs, FileOps {
  readonly rootMount: Mount;
  private readonly mountedOn = new Map<Inode, Mount>();
  private readonly mountInfo = new Map<Mount, MountInfo>();
  private readonly limits: VfsLimits;

  constructor(options: { root?: Mount; limits?: VfsLimits } = {}) {
    this.rootMount = options.root ?? new MemoryMount();
    this.mountInfo.set(this.rootMount, { path: "/", depth: 0 });
    this.limits = options.limits ?? {};
  }

  /** Mounts `mount` on the directory `path`, creating the directory (and parents) if missing. */
  mount(path: string, mount: Mount): void {
    const abs = resolvePath("/", path);
    if (abs === "/") throw new KernelError("EBUSY", "mount", path);
    if (this.mountInfo.has(mount)) throw new KernelError("EBUSY", "mount", path, "already mounted");
    if (!this.exists(abs)) this.mkdir(abs, { recursive: true });
    const w = this.walk(abs, true, "mount");
    const dir = w.child;
    if (dir === undefined || w.name === "." || dir.type !== "directory") {
      throw new KernelError("ENOTDIR", "mount", path);
    }
    if (dir === dir.mount.root) throw new KernelError("EBUSY", "mount", path, "already a mount point");
    const real = this.realpath(abs);
    this.mountedOn.set(dir, mount);
    this.mountInfo.set(mount, { path: real, depth: real.split("/").length - 1 });
  }

  /** The mounts with their paths, root first. */
  mounts(): { path: string; mount: Mount }[] {
    return [...this.mountInfo].map(([mount, info]) => ({ path: info.path, mount }));
  }

  // ---- lookups ----

  private walk(path: string, followLast: boolean, syscall: string): Walk {
    const parts = splitPath(path, syscall);
    const slash = path.endsWith("/") || path.endsWith("/.");
    // Components still to visit, last first; `floors` holds, per component, the stack depth a
    // symlink target may not climb above (-1 for components of the path itself).
    const names: string[] = [];
    const floors: number[] = [];
    for (let i = parts.length - 1; i >= 0; i--) {
      names.push(parts[i]!);
      floors.push(-1);
    }
    const stack: Frame[] = [{ node: this.rootMount.root, name: "" }];
    let follows = 0;
    while (names.length > 0) {
      const name = names.pop()!;
      const floor = floors.pop()!;
      const last = names.length === 0;
      const dir = stack[stack.length - 1]!.node;
      if (name === "..") {
        if (floor > 0 && stack.length - 1 <= floor) {
          throw new KernelError("EACCES", syscall, path, "symlink target leaves its mount");
        }
        if (stack.length > 1) stack.pop();
        continue;
      }
      if (dir.type !== "directory") throw new KernelError("ENOTDIR", syscall, path);
      if ((dir.mode & 0o100) === 0) throw new KernelError("EACCES", syscall, path);
      let child = dir.entries!.get(name);
      if (child !== undefined && child.type === "directory") {
        const mounted = this.mountedOn.get(child);
        if (mounted !== undefined) child = mounted.root;
      }
      if (child !== undefined && child.type === "symlink" && (!last || followLast || slash)) {
        if (++follows > MAX_SYMLINK_FOLLOWS) throw new KernelError("ELOOP", syscall, path);
        const target = child.link!;
        if (target === "") throw new KernelError("ENOENT", syscall, path);
        const info = this.mountInfo.get(child.mount);
        if (info === undefined) throw new KernelError("EACCES", syscall, path);
        let rest = target;
        if (target.startsWith("/")) {
          if (info.depth > 0) {
            if (target !== info.path && !target.startsWith(info.path + "/")) {
              throw new KernelError("EACCES", syscall, path, "symlink target leaves its mount");
            }
            rest = target.slice(info.path.length);
          }
          if (stack[info.depth]?.node !== child.mount.root) throw new KernelError("EACCES", syscall, path);
          stack.length = info.depth + 1;
        }
        const targetParts = rest === "" ? [] : splitPath(rest, syscall);
        for (let i = targetParts.length - 1; i >= 0; i--) {
          names.push(targetParts[i]!);
          floors.push(info.depth);
        }
        continue;
      }
      if (last) {
        if (slash && child !== undefined && child.type !== "directory") {
          throw new KernelError("ENOTDIR", syscall, path);
        }
        return { stack, name, child, slash };
      }
      if (child === undefined) throw new KernelError("ENOENT", syscall, path);
      if (child.type !== "directory") throw new KernelError("ENOTDIR", syscall, path);
      stack.push({ node: child, name });
    }
    return { stack, name: ".", child: stack[stack.length - 1]!.node, slash };
  }

  private lookup(path: string, follow: boolean, syscall: string): Inode {
    const child = this.walk(path, follow, syscall).child;
    if (child === undefined) throw new KernelError("ENOENT", syscall, path);
    return child;
  }

  private parentOf(w: Walk): Inode {
    return w.stack[w.stack.length - 1]!.node;
  }

  // ---- permission and limit checks ----

  private checkWritableDir(dir: Inode, syscall: string, path: string): void {
    if (dir.mount.readOnly) throw new KernelError("EROFS", syscall, path);
    if ((dir.mode & 0o300) !== 0o300) throw new KernelError("EACCES", syscall, path);
  }

  private checkWritable(node: Inode, syscall: string, path: string): void {
    if (node.mount.readOnly) throw new KernelError("EROFS", syscall, path);
    if ((node.mode & 0o200) === 0) throw new KernelError("EACCES", syscall, path);
  }

  private checkReadable(node: Inode, syscall: string, path: string): void {
    if ((node.mode & 0o400) === 0) throw new KernelError("EACCES", syscall, path);
  }

  /** Fails with ENOSPC, before anything changes, if growing `mount` would pass a limit. */
  private reserve(mount: Mount, bytes: number, inodes: number, syscall: string, path?: string): void {
    if (!mount.counted) return;
    const { maxFilesystemBytes, maxInodes } = this.limits;
    if (maxFilesystemBytes === undefined && maxInodes === undefined) return;
    const used = this.usage();
    if (maxFilesystemBytes !== undefined && bytes > 0 && used.bytes + bytes > maxFilesystemBytes) {
      throw new KernelError("ENOSPC", syscall, path);
    }
    if (maxInodes !== undefined && inodes > 0 && used.inodes + inodes > maxInodes) {
      throw new KernelError("ENOSPC", syscall, path);
    }
  }

  usage(): { bytes: number; inodes: number } {
    let bytes = 0;
    let inodes = 0;
    for (const mount of this.mountInfo.keys()) {
      if (!mount.counted) continue;
      bytes += mount.bytes;
      inodes += mount.inodes;
    }
    return { bytes, inodes };
  }

  // ---- tree mutations (every one reports to the mount) ----

  private createIn(dir: Inode, name: string, type: FileType, mode: number, syscall: string, path: string) {
    this.checkWritableDir(dir, syscall, path);
    this.reserve(dir.mount, 0, 1, syscall, path);
    const node = dir.mount.newInode(type, mode, Date.now());
    this.addEntry(dir, name, node);
    return node;
  }

  private addEntry(dir: Inode, name: string, node: Inode): void {
    dir.entries!.set(name, node);
    if (node.type === "directory") dir.nlink++;
    dir.mtimeMs = dir.ctimeMs = Date.now();
    dir.mount.noteEntry(dir, name);
    dir.mount.noteMeta(dir);
    node.mount.noteMeta(node);
  }

  /** Removes `dir`'s entry `name` (naming `node`), freeing `node` when its last link goes. */
  private removeEntry(dir: Inode, name: string, node: Inode): void {
    dir.entries!.delete(name);
    dir.mtimeMs = dir.ctimeMs = Date.now();
    const mount = node.mount;
    if (node.type === "directory") {
      dir.nlink--;
      node.nlink = 0;
    } else {
      node.nlink--;
    }
    node.ctimeMs = dir.mtimeMs;
    mount.noteEntry(dir, name);
    mount.noteMeta(dir);
    if (node.nlink === 0) {
      mount.inodes--;
      mount.bytes -= node.size;
      mount.noteFree(node);
    } else {
      mount.noteMeta(node);
    }
  }

  writeAt(node: Inode, data: Uint8Array, position: number): number {
    if (node.type !== "file") throw new KernelError("EINVAL", "write");
    if (node.mount.readOnly) throw new KernelError("EROFS", "write");
    if (!Number.isSafeInteger(position) || position < 0) throw new KernelError("EINVAL", "write");
    if (data.length === 0) return 0;
    const end = position + data.length;
    if (end > MAX_FILE_SIZE) throw new KernelError("EFBIG", "write");
    const grow = end - node.size;
    if (grow > 0 && node.nlink > 0) this.reserve(node.mount, grow, 0, "write");
    this.ensureCapacity(node, end);
    node.data!.set(data, position);
    if (grow > 0) this.resize(node, end);
    node.mtimeMs = node.ctimeMs = Date.now();
    node.mount.noteData(node, position, end);
    node.mount.noteMeta(node);
    return data.length;
  }

  truncateNode(node: Inode, size: number): void {
    if (node.type === "directory") throw new KernelError("EISDIR", "truncate");
    if (node.type !== "file") throw new KernelError("EINVAL", "truncate");
    if (node.mount.readOnly) throw new KernelError("EROFS", "truncate");
    if (!Number.isSafeInteger(size) || size < 0) throw new KernelError("EINVAL", "truncate");
    if (size > MAX_FILE_SIZE) throw new KernelError("EFBIG", "truncate");
    const old = node.size;
    if (size > old && node.nlink > 0) this.reserve(node.mount, size - old, 0, "truncate");
    if (size > old) {
      this.ensureCapacity(node, size);
    } else if (node.data !== null) {
      // Bytes past the end must read as zeros if the file grows again.
      node.data.fill(0, size, old);
      if (size === 0 && node.data.length > 4096) node.data = null;
    }
    this.resize(node, size);
    node.mtimeMs = node.ctimeMs = Date.now();
    node.mount.noteData(node, Math.min(old, size), Math.max(old, size));
    node.mount.noteMeta(node);
  }

  private ensureCapacity(node: Inode, size: number): void {
    const data = node.data;
    if (data !== null && data.length >= size) return;
    const cap = data === null ? 0 : data.length;
    const next = Math.min(MAX_FILE_SIZE, Math.max(size, cap + Math.min(cap, MAX_GROWTH), 64));
    const grown = new Uint8Array(next);
    if (data !== null) grown.set(data.subarray(0, node.size));
    node.data = grown;
  }

  private resize(node: Inode, size: number): void {
    if (node.nlink > 0) node.mount.bytes += size - node.size;
    node.size = size;
  }

  /** Replaces a file's contents with a copy of `bytes`. */
  private replaceData(node: Inode, bytes: Uint8Array, syscall: string, path: string): void {
    const grow = bytes.length - node.size;
    if (grow > 0) this.reserve(node.mount, grow, 0, syscall, path);
    const old = node.size;
    node.data = bytes.length === 0 ? null : bytes.slice();
    this.resize(node, bytes.length);
    node.mtimeMs = node.ctimeMs = Date.now();
    node.mount.noteData(node, 0, Math.max(old, bytes.length));
    node.mount.noteMeta(node);
  }

  listDir(node: Inode): DirEntry[] {
    if (node.type !== "directory") throw new KernelError("ENOTDIR", "readdir");
    if ((node.mode & 0o400) === 0) throw new KernelError("EACCES", "readdir");
    const out: DirEntry[] = [];
    for (const [name, child] of node.entries!) out.push({ name, type: child.type, ino: child.ino });
    return out;
  }

  // ---- the Vfs interface ----

  stat(path: string): Stat {
    return toStat(this.lookup(path, true, "stat"));
  }

  lstat(path: string): Stat {
    return toStat(this.lookup(path, false, "lstat"));
  }

  exists(path: string): boolean {
    try {
      return this.walk(path, true, "access").child !== undefined;
    } catch {
      return false;
    }
  }

  readFile(path: string): Uint8Array {
    const node = this.lookup(path, true, "open");
    if (node.type === "directory") throw new KernelError("EISDIR", "read", path);
    this.checkReadable(node, "open", path);
    if (node.type !== "file" || node.data === null) return new Uint8Array(0);
    return node.data.slice(0, node.size);
  }

  writeFile(
    path: string,
    data: Uint8Array | string,
    options: { mode?: number; append?: boolean } = {},
  ): void {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    const w = this.walk(path, true, "open");
    let node = w.child;
    if (node === undefined) {
      if (w.slash) throw new KernelError("EISDIR", "open", path);
      const dir = this.parentOf(w);
      // Space for the data is checked before the file exists: a refused write leaves no empty file behind.
      this.reserve(dir.mount, bytes.length, 1, "write", path);
      node = this.createIn(dir, w.name, "file", options.mode ?? 0o644, "open", path);
    } else {
      if (node.type === "directory") throw new KernelError("EISDIR", "open", path);
      if (node.type === "chardev") return;
      this.checkWritable(node, "open", path);
    }
    if (options.append) this.writeAt(node, bytes, node.size);
    else this.replaceData(node, bytes, "write", path);
  }

  mkdir(path: string, options: { recursive?: boolean; mode?: number } = {}): void {
    const mode = options.mode ?? 0o755;
    if (options.recursive) {
      this.mkdirp(resolvePath("/", path), mode);
      return;
    }
    const w = this.walk(path, false, "mkdir");
    if (w.child !== undefined) throw new KernelError("EEXIST", "mkdir", path);
    this.createIn(this.parentOf(w), w.name, "directory", mode, "mkdir", path);
  }

  private mkdirp(abs: string, mode: number): void {
    let w: Walk;
    try {
      w = this.walk(abs, true, "mkdir");
    } catch (err) {
      if (!(err instanceof KernelError) || err.code !== "ENOENT" || abs === "/") throw err;
      this.mkdirp(abs.slice(0, Math.max(1, abs.lastIndexOf("/"))), mode);
      w = this.walk(abs, true, "mkdir");
    }
    if (w.child !== undefined) {
      if (w.child.type !== "directory") throw new KernelError("EEXIST", "mkdir", abs);
      return;
    }
    this.createIn(this.parentOf(w), w.name, "directory", mode, "mkdir", abs);
  }

  readdir(path: string): DirEntry[] {
    const node = this.lookup(path, true, "scandir");
    if (node.type !== "directory") throw new KernelError("ENOTDIR", "scandir", path);
    if ((node.mode & 0o400) === 0) throw new KernelError("EACCES", "scandir", path);
    return this.listDir(node);
  }

  /** A walk ending at a removable entry: not ".", not a mount point, parent writable. */
  private removable(path: string, syscall: string): { dir: Inode; name: string; node: Inode } {
    const w = this.walk(path, false, syscall);
    const node = w.child;
    if (node === undefined) throw new KernelError("ENOENT", syscall, path);
    if (w.name === ".")
      throw new KernelError(node === this.rootMount.root ? "EBUSY" : "EINVAL", syscall, path);
    if (node === node.mount.root) throw new KernelError("EBUSY", syscall, path);
    const dir = this.parentOf(w);
    this.checkWritableDir(dir, syscall, path);
    return { dir, name: w.name, node };
  }

  rmdir(path: string): void {
    const { dir, name, node } = this.removable(path, "rmdir");
    if (node.type !== "directory") throw new KernelError("ENOTDIR", "rmdir", path);
    if (node.entries!.size > 0) throw new KernelError("ENOTEMPTY", "rmdir", path);
    this.removeEntry(dir, name, node);
  }

  unlink(path: string): void {
    const { dir, name, node } = this.removable(path, "unlink");
    if (node.type === "directory") throw new KernelError("EISDIR", "unlink", path);
    this.removeEntry(dir, name, node);
  }

  rm(path: string, options: { recursive?: boolean; force?: boolean } = {}): void {
    let target: { dir: Inode; name: string; node: Inode };
    try {
      target = this.removable(path, "rm");
    } catch (err) {
      if (options.force && err instanceof KernelError && err.code === "ENOENT") return;
      throw err;
    }
    const { dir, name, node } = target;
    if (node.type === "directory") {
      if (!options.recursive) throw new KernelError("EISDIR", "rm", path);
      this.emptyTree(node, path);
    }
    this.removeEntry(dir, name, node);
  }

  private emptyTree(dir: Inode, path: string): void {
    this.checkWritableDir(dir, "rm", path);
    for (const [name, child] of [...dir.entries!]) {
      const childPath = `${path}/${name}`;
      if (child.type === "directory") {
        if (this.mountedOn.has(child)) throw new KernelError("EBUSY", "rm", childPath);
        this.emptyTree(child, childPath);
      }
      this.removeEntry(dir, name, child);
    }
  }

  rename(from: string, to: string): void {
    const a = this.walk(from, false, "rename");
    const b = this.walk(to, false, "rename");
    const src = a.child;
    if (src === undefined) throw new KernelError("ENOENT", "rename", from);
    if (a.name === "." || b.name === ".") throw new KernelError("EBUSY", "rename", from);
    if (src === src.mount.root) throw new KernelError("EBUSY", "rename", from);
    const dst = b.child;
    if (dst !== undefined && dst === dst.mount.root) throw new KernelError("EBUSY", "rename", to);
    const srcDir = this.parentOf(a);
    const dstDir = this.parentOf(b);
    if (srcDir.mount !== dstDir.mount) throw new KernelError("EXDEV", "rename", from);
    this.checkWritableDir(srcDir, "rename", from);
    this.checkWritableDir(dstDir, "rename", to);
    if (dst === src) return;
    if (src.type === "directory") {
      if (b.stack.some((frame) => frame.node === src)) throw new KernelError("EINVAL", "rename", from);
      if (dst !== undefined && dst.type !== "directory") throw new KernelError("ENOTDIR", "rename", to);
      if (dst !== undefined && dst.entries!.size > 0) throw new KernelError("ENOTEMPTY", "rename", to);
    } else if (dst !== undefined && dst.type === "directory") {
      throw new KernelError("EISDIR", "rename", to);
    }
    if (dst !== undefined) this.removeEntry(dstDir, b.name, dst);
    srcDir.entries!.delete(a.name);
    if (src.type === "directory") srcDir.nlink--;
    srcDir.mtimeMs = srcDir.ctimeMs = Date.now();
    srcDir.mount.noteEntry(srcDir, a.name);
    srcDir.mount.noteMeta(srcDir);
    this.addEntry(dstDir, b.name, src);
    src.ctimeMs = Date.now();
  }

  symlink(target: string, linkPath: string): void {
    if (target.includes("\0")) throw new KernelError("EINVAL", "symlink", linkPath);
    if (target === "") throw new KernelError("ENOENT", "symlink", linkPath);
    const size = encoder.encode(target).length;
    if (size > PATH_MAX) throw new KernelError("ENAMETOOLONG", "symlink", linkPath);
    const w = this.walk(linkPath, false, "symlink");
    if (w.child !== undefined) throw new KernelError("EEXIST", "symlink", linkPath);
    const dir = this.parentOf(w);
    this.reserve(dir.mount, size, 0, "symlink", linkPath);
    const node = this.createIn(dir, w.name, "symlink", 0o777, "symlink", linkPath);
    node.link = target;
    this.resize(node, size);
    node.mount.noteMeta(node);
  }

  readlink(path: string): string {
    const node = this.lookup(path, false, "readlink");
    if (node.type !== "symlink") throw new KernelError("EINVAL", "readlink", path);
    return node.link!;
  }

  link(existing: string, newPath: string): void {
    const src = this.lookup(existing, false, "link");
    if (src.type === "directory") throw new KernelError("EPERM", "link", existing);
    const w = this.walk(newPath, false, "link");
    if (w.child !== undefined) throw new KernelError("EEXIST", "link", newPath);
    const dir = this.parentOf(w);
    if (dir.mount !== src.mount) throw new KernelError("EXDEV", "link", existing);
    this.checkWritableDir(dir, "link", newPath);
    src.nlink++;
    src.ctimeMs = Date.now();
    this.addEntry(dir, w.name, src);
  }

  chmod(path: string, mode: number): void {
    const node = this.lookup(path, true, "chmod");
    if (node.mount.readOnly) throw new KernelError("EROFS", "chmod", path);
    node.mode = mode & 0o7777;
    node.ctimeMs = Date.now();
    node.mount.noteMeta(node);
  }

  utimes(path: string, atimeMs: number, mtimeMs: number): void {
    const node = this.lookup(path, true, "utime");
    if (node.mount.readOnly) throw new KernelError("EROFS", "utime", path);
    node.atimeMs = atimeMs;
    node.mtimeMs = mtimeMs;
    node.ctimeMs = Date.now();
    node.mount.noteMeta(node);
  }

  truncate(path: string, size: number): void {
    const node = this.lookup(path, true, "truncate");
    if (node.type === "directory") throw new KernelError("EISDIR", "truncate", path);
    this.checkWritable(node, "truncate", path);
    this.truncateNode(node, size);
  }

  realpath(path: string): string {
    const w = this.walk(path, true, "realpath");
    if (w.child === undefined) throw new KernelError("ENOENT", "realpath", path);
    let out = "";
    for (let i = 1; i < w.stack.length; i++) out += "/" + w.stack[i]!.name;
    if (w.name !== ".") out += "/" + w.name;
    return out === "" ? "/" : out;
  }

  open(path: string, options: OpenOptions): FileHandle {
    const write = options.write === true;
    const read = options.read ?? !write;
    const exclusive = options.create === true && options.exclusive === true;
    const w = this.walk(path, !options.noFollow && !exclusive, "open");
    let node = w.child;
    let created = false;
    if (node === undefined) {
      if (!options.create) throw new KernelError("ENOENT", "open", path);
      if (w.slash || options.directory) throw new KernelError("EISDIR", "open", path);
      node = this.createIn(this.parentOf(w), w.name, "file", options.mode ?? 0o644, "open", path);
      created = true;
    } else if (exclusive) {
      throw new KernelError("EEXIST", "open", path);
    } else if (node.type === "symlink") {
      throw new KernelError("ELOOP", "open", path);
    }
    if (options.directory && node.type !== "directory") throw new KernelError("ENOTDIR", "open", path);
    const abs = resolvePath("/", path);
    if (node.type === "directory") {
      if (write) throw new KernelError("EISDIR", "open", path);
      return new DirHandleImpl(this, node, abs);
    }
    if (node.type === "chardev") return new DeviceHandle(node.link ?? "null", node, abs);
    if (node.type !== "file") throw new KernelError("ENOSYS", "open", path);
    if (!created) {
      if (read) this.checkReadable(node, "open", path);
      if (write) this.checkWritable(node, "open", path);
    }
    if (write && options.truncate && node.size > 0) this.truncateNode(node, 0);
    return new FileHandleImpl(this, node, abs, read, write, options.append === true);
  }

  // ---- kernel helpers beyond the Vfs contract ----

  /** Creates a character device ("null", "zero", "random") at `path`. */
  mknod(path: string, device: "null" | "zero" | "random", mode = 0o666): void {
    const w = this.walk(path, false, "mknod");
    if (w.child !== undefined) throw new KernelError("EEXIST", "mknod", path);
    const node = this.createIn(this.parentOf(w), w.name, "chardev", mode, "mknod", path);
    node.link = device;
    node.mount.noteMeta(node);
  }

  /**
   * The bytes of an executable file without a copy (EACCES unless it is a file with the exec
   * bit). `immutable` is true on read-only mounts, where the buffer never changes and can key
   * a cache of compiled modules.
   */
  executable(path: string): { bytes: Uint8Array; immutable: boolean; path: string } {
    const w = this.walk(path, true, "execve");
    const node = w.child;
    if (node === undefined) throw new KernelError("ENOENT", "execve", path);
    if (node.type !== "file" || (node.mode & 0o100) === 0) throw new KernelError("EACCES", "execve", path);
    const data = node.data ?? new Uint8Array(0);
    const bytes = data.length === node.size ? data : data.subarray(0, node.size);
    return { bytes, immutable: node.mount.readOnly, path: resolvePath("/", path) };
  }
}
