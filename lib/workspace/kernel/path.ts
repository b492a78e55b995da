import { KernelError } from "./errno.js";

/** Linux limits: PATH_MAX and NAME_MAX (bytes). */
export const PATH_MAX = 4096;
export const NAME_MAX = 255;

const encoder = new TextEncoder();

function byteLength(s: string): number {
  // One UTF-16 unit is at most 3 UTF-8 bytes, so short strings need no encoding.
  return s.length * 3 <= NAME_MAX ? s.length : encoder.encode(s).length;
}

/**
 * Checks a path string (NUL bytes, empty, too long) and splits it into its components,
 * dropping empty ones and "." but keeping ".." (which only a walk can resolve correctly,
 * because of symlinks).
 */
export function splitPath(path: string, syscall?: string): string[] {
  if (path.length === 0) throw new KernelError("ENOENT", syscall, path);
  if (path.includes("\0")) throw new KernelError("EINVAL", syscall, path, "path contains a NUL byte");
  if (path.length > PATH_MAX / 3 && encoder.encode(path).length > PATH_MAX) {
    throw new KernelError("ENAMETOOLONG", syscall, path);
  }
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path.charCodeAt(i) === 47) {
      if (i > start) {
        const part = path.slice(start, i);
        if (part !== ".") {
          if (part.length > NAME_MAX / 3 && byteLength(part) > NAME_MAX) {
            throw new KernelError("ENAMETOOLONG", syscall, path);
          }
          parts.push(part);
        }
      }
      start = i + 1;
    }
  }
  return parts;
}

/**
 * Joins `path` to `cwd` and normalises it lexically ("." and ".." removed, "/.." is "/").
 * For display and for turning relative paths absolute; the VFS resolves symlinks itself.
 */
export function resolvePath(cwd: string, path: string): string {
  const full = path.startsWith("/") ? path : cwd.endsWith("/") ? cwd + path : `${cwd}/${path}`;
  const out: string[] = [];
  for (const part of full.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

/** The directory part of an absolute normalised path ("/" for "/x" and "/"). */
export function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** The last component of a path ("" for "/"). */
export function basename(path: string): string {
  const trimmed = path.endsWith("/") && path.length > 1 ? path.slice(0, -1) : path;
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}
