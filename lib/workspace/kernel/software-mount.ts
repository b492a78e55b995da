import type { Inode } from "./inode.js";
import { Mount } from "./inode.js";
import { splitPath } from "./path.js";

/** One entry of a software package, by its path inside the mount. */
export interface SoftwareFile {
  /** Path relative to the mount root ("bin/ls"; a leading "/" is ignored). */
  path: string;
  /** File contents; shared, never copied. Entries without data, linkTo or symlink are directories. */
  data?: Uint8Array;
  /** Permission bits (default 0o755 for directories and executables, else 0o644). */
  mode?: number;
  /** A hard link to another entry of the package (its path, as given). */
  linkTo?: string;
  /** A symlink with this target. */
  symlink?: string;
}

const encoder = new TextEncoder();

function looksExecutable(data: Uint8Array): boolean {
  return (
    (data[0] === 0 && data[1] === 0x61 && data[2] === 0x73 && data[3] === 0x6d) ||
    (data[0] === 0x23 && data[1] === 0x21)
  );
}

/**
 * A read-only mount of a software package. Files keep the caller's buffers (no copy), and the
 * tree never changes after creation, so one instance can be mounted by every workspace of an
 * engine: booting costs nothing per file.
 */
export class SoftwareMount extends Mount {
  constructor(files: SoftwareFile[], now = Date.now()) {
    super({ readOnly: true, now });
    const links: SoftwareFile[] = [];
    for (const file of files) {
      if (file.linkTo !== undefined) {
        links.push(file);
        continue;
      }
      const { dir, name } = this.parentDir(file.path, now);
      if (name === undefined) continue;
      const existing = dir.entries!.get(name);
      if (file.data === undefined && file.symlink === undefined) {
        if (existing === undefined)
          this.attach(dir, name, this.newInode("directory", file.mode ?? 0o755, now));
        else if (file.mode !== undefined) existing.mode = file.mode & 0o7777;
        continue;
      }
      if (existing !== undefined) throw new Error(`software mount: duplicate path ${file.path}`);
      if (file.symlink !== undefined) {
        const node = this.newInode("symlink", 0o777, now);
        node.link = file.symlink;
        node.size = encoder.encode(file.symlink).length;
        this.attach(dir, name, node);
      } else {
        const data = file.data!;
        const node = this.newInode("file", file.mode ?? (looksExecutable(data) ? 0o755 : 0o644), now);
        node.data = data;
        node.size = data.length;
        this.bytes += data.length;
        this.attach(dir, name, node);
      }
    }
    for (const file of links) {
      const target = this.find(file.linkTo!);
      if (target === undefined || target.type === "directory") {
        throw new Error(`software mount: ${file.path} links to missing file ${file.linkTo}`);
      }
      const { dir, name } = this.parentDir(file.path, now);
      if (name === undefined || dir.entries!.has(name)) {
        throw new Error(`software mount: duplicate path ${file.path}`);
      }
      target.nlink++;
      dir.entries!.set(name, target);
    }
  }

  private attach(dir: Inode, name: string, node: Inode): void {
    dir.entries!.set(name, node);
    if (node.type === "directory") dir.nlink++;
  }

  private find(path: string): Inode | undefined {
    let node: Inode | undefined = this.root;
    for (const part of splitPath(path)) node = node?.entries?.get(part);
    return node;
  }

  /** The parent directory of `path` (created as needed) and the last component. */
  private parentDir(path: string, now: number): { dir: Inode; name: string | undefined } {
    const parts = splitPath(path === "" ? "/" : path);
    if (parts.includes("..")) throw new Error(`software mount: ".." in ${path}`);
    let dir = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      let next = dir.entries!.get(parts[i]!);
      if (next === undefined) {
        next = this.newInode("directory", 0o755, now);
        this.attach(dir, parts[i]!, next);
      }
      if (next.type !== "directory")
        throw new Error(`software mount: ${parts[i]} in ${path} is not a directory`);
      dir = next;
    }
    return { dir, name: parts[parts.length - 1] };
  }
}

export function createSoftwareMount(files: SoftwareFile[]): SoftwareMount {
  return new SoftwareMount(files);
}
