/**
 * The filesystem actions of a workspace, over the kernel VFS. Arguments come from clients, so
 * each is checked here; kernel errors become `{ group: "workspace", code: errno }`.
 */
import { Errors, err } from "../errors.js";
import { vmCall } from "./errors.js";
import type { FileType, Vfs } from "./kernel/types.js";

export interface FileStat {
  type: FileType;
  size: number;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  ino: number;
  nlink: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  isFile: boolean;
  isDirectory: boolean;
  isSymbolicLink: boolean;
}

export interface TreeEntry {
  /** Absolute path. */
  path: string;
  type: FileType;
  size: number;
}

export interface WriteFileOptions {
  /** Permission bits for a new file (default 0o644). */
  mode?: number;
  /** Append instead of replacing. */
  append?: boolean;
  /** Create missing parent directories (default true; false gives ENOENT instead). */
  recursive?: boolean;
}

/** Most entries `readdirRecursive` returns (a clear error beyond, not an unbounded response). */
export const MAX_TREE_ENTRIES = 100_000;

const encoder = new TextEncoder();

/** A client-supplied path, absolute or relative to `home`; `what` names it in errors. */
export function homePath(p: unknown, home: string, what = "path"): string {
  if (typeof p !== "string" || p.length === 0)
    throw err(Errors.badRequest, `The ${what} must be a non-empty string`);
  if (p.includes("\0")) throw err(Errors.badRequest, `The ${what} must not contain NUL bytes`);
  return p.startsWith("/") ? p : `${home}/${p}`;
}

export class FsActions {
  readonly #vfs: Vfs;
  readonly #home: string;

  constructor(vfs: Vfs, home: string) {
    this.#vfs = vfs;
    this.#home = home;
  }

  /** Relative paths are relative to the home directory. */
  path(p: unknown, what = "path"): string {
    return homePath(p, this.#home, what);
  }

  readFile(path: string): Uint8Array {
    return vmCall(() => this.#vfs.readFile(this.path(path)));
  }

  writeFile(path: string, content: string | Uint8Array, options: WriteFileOptions = {}): void {
    const p = this.path(path);
    if (typeof content !== "string" && !(content instanceof Uint8Array)) {
      throw err(Errors.badRequest, "writeFile takes a string or bytes (Uint8Array) as content");
    }
    const mode = checkMode(options.mode);
    vmCall(() => {
      if (options.recursive !== false) {
        const parent = p.slice(0, p.lastIndexOf("/")) || "/";
        this.#vfs.mkdir(parent, { recursive: true });
      }
      const data = typeof content === "string" ? encoder.encode(content) : content;
      this.#vfs.writeFile(p, data, {
        ...(mode === undefined ? {} : { mode }),
        append: options.append === true,
      });
    });
  }

  mkdir(path: string, options: { recursive?: boolean; mode?: number } = {}): void {
    const mode = checkMode(options.mode);
    vmCall(() =>
      this.#vfs.mkdir(this.path(path), {
        recursive: options.recursive === true,
        ...(mode === undefined ? {} : { mode }),
      }),
    );
  }

  readdir(path: string): string[] {
    return vmCall(() =>
      this.#vfs
        .readdir(this.path(path))
        .map((e) => e.name)
        .sort(),
    );
  }

  readdirRecursive(path: string): TreeEntry[] {
    const root = this.path(path);
    return vmCall(() => {
      const out: TreeEntry[] = [];
      const walk = (dir: string): void => {
        const entries = this.#vfs
          .readdir(dir)
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        for (const e of entries) {
          const p = dir === "/" ? `/${e.name}` : `${dir}/${e.name}`;
          const st = this.#vfs.lstat(p);
          if (out.length >= MAX_TREE_ENTRIES) {
            throw err(
              Errors.badRequest,
              `More than ${MAX_TREE_ENTRIES} entries under ${root}; list a smaller tree`,
              {
                limit: MAX_TREE_ENTRIES,
              },
            );
          }
          out.push({ path: p, type: st.type, size: st.size });
          // Symlinks are listed, never followed (they could point back up the tree).
          if (st.type === "directory") walk(p);
        }
      };
      const st = this.#vfs.stat(root);
      if (st.type !== "directory") return [{ path: root, type: st.type, size: st.size }];
      walk(root === "/" ? "/" : root.replace(/\/+$/, ""));
      return out;
    });
  }

  stat(path: string): FileStat {
    return vmCall(() => {
      const s = this.#vfs.stat(this.path(path));
      return {
        type: s.type,
        size: s.size,
        mode: s.mode,
        ino: s.ino,
        nlink: s.nlink,
        atimeMs: s.atimeMs,
        mtimeMs: s.mtimeMs,
        ctimeMs: s.ctimeMs,
        birthtimeMs: s.birthtimeMs,
        isFile: s.type === "file",
        isDirectory: s.type === "directory",
        isSymbolicLink: s.type === "symlink",
      };
    });
  }

  exists(path: string): boolean {
    const p = this.path(path);
    return vmCall(() => this.#vfs.exists(p));
  }

  /** Renames; across mounts, copies then deletes (what `mv` does). */
  move(from: string, to: string): void {
    const a = this.path(from, "source path");
    const b = this.path(to, "destination path");
    vmCall(() => {
      try {
        this.#vfs.rename(a, b);
      } catch (e) {
        if ((e as { code?: string }).code !== "EXDEV") throw e;
        this.#copyTree(a, b);
        this.#vfs.rm(a, { recursive: true });
      }
    });
  }

  #copyTree(from: string, to: string): void {
    const st = this.#vfs.lstat(from);
    if (st.type === "symlink") this.#vfs.symlink(this.#vfs.readlink(from), to);
    else if (st.type === "directory") {
      this.#vfs.mkdir(to, { mode: st.mode });
      for (const e of this.#vfs.readdir(from)) this.#copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    } else this.#vfs.writeFile(to, this.#vfs.readFile(from), { mode: st.mode });
  }

  deleteFile(path: string, options: { recursive?: boolean } = {}): void {
    const p = this.path(path);
    vmCall(() => this.#vfs.rm(p, { recursive: options.recursive === true }));
  }
}

function checkMode(mode: unknown): number | undefined {
  if (mode === undefined) return undefined;
  if (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw err(Errors.badRequest, "mode must be permission bits between 0 and 0o7777");
  }
  return mode;
}
