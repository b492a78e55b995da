/**
 * Software packages: the unit the `software` option of `workspace()` takes. A package is a list
 * of read-only files laid out under /usr; its bytes are loaded once per engine and shared by
 * every workspace (never copied per VM).
 */

import type { SoftwareFile as KernelSoftwareFile } from "../kernel/index.js";

/**
 * A file of a package: the kernel's software-mount entry (data shared, never copied; `linkTo`
 * a hard link; `symlink`), with absolute paths under /usr instead of mount-relative ones.
 */
export type SoftwareFile = Omit<KernelSoftwareFile, "path" | "linkTo"> & {
  /** Absolute path under /usr, e.g. "/usr/bin/toybox". */
  path: string;
  /** A hard link to another file of the package, by its absolute path. */
  linkTo?: string;
  /** Explicit directory entry (parents are created anyway). */
  directory?: boolean;
};

export interface SoftwarePackage {
  readonly name: string;
  /** The commands it installs (for docs and `listSoftware`). */
  readonly commands: readonly string[];
  /** The files; called once per engine, the result cached. Throws with a clear message if unavailable. */
  files(): readonly SoftwareFile[];
}

export class SoftwareError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SoftwareError";
  }
}

/** A package from in-memory files: for vendors that ship their own WASI tools. */
export function definePackage(name: string, files: readonly SoftwareFile[]): SoftwarePackage {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
    throw new SoftwareError(
      `a software package name is lowercase letters, digits, ".", "_" or "-": "${name}"`,
    );
  }
  for (const f of files) {
    if (!f.path.startsWith("/usr/")) {
      throw new SoftwareError(
        `package ${name}: file ${f.path} is outside /usr (software is mounted read-only at /usr)`,
      );
    }
  }
  const commands = files
    .filter((f) => /^\/usr\/(local\/)?bin\/[^/]+$/.test(f.path))
    .map((f) => f.path.slice(f.path.lastIndexOf("/") + 1));
  return { name, commands, files: () => files };
}
