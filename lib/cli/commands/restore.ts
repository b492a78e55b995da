/**
 * `enclave restore DIR --data DATA_DIR [--force]`: offline only. The engine must be stopped:
 * the LevelDB lock on DATA_DIR proves it (a locked directory is refused).
 *
 * 1. Check the backup's manifest.json and DATA_DIR (not locked; empty store unless --force).
 * 2. Copy the backup's store files into a hidden sibling of DATA_DIR, open that copy and check
 *    its entry count and SHA-256 against the manifest.
 * 3. Carry DATA_DIR's own files over (admin-token: hard-linked, so the same file, untouched).
 * 4. Swap: rename DATA_DIR aside, rename the copy to DATA_DIR, delete the old one.
 *
 * A crash never leaves a half store at DATA_DIR: it holds the old store, or the new one (or,
 * between the two renames, nothing, with both complete stores beside it; see docs/operations.md).
 */
import { copyFile, chmod, link, lstat, mkdir, open, readlink, rename, symlink } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { VERSION } from "../../version.js";
import { CliError, UsageError, line, printJson, type CliIo } from "../io.js";
import {
  digestStore,
  hasStore,
  isEmptyStore,
  isStoreFile,
  listDir,
  openLocal,
  readManifest,
  removeQuietly,
  siblingPath,
  syncDir,
} from "../snapshot.js";

interface RestoreOptions {
  data: string;
  force?: boolean;
  json?: boolean;
}

export function registerRestore(program: Command, io: CliIo): void {
  program
    .command("restore")
    .description("replace a STOPPED engine's store with a backup (offline only)")
    .argument("<dir>", "a backup directory written by `enclave backup`")
    .requiredOption("--data <dir>", "the engine's data directory (storage.fileSystem.path)")
    .option("--force", "replace a data directory whose store is not empty")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      [
        "",
        "The engine must be stopped (its lock on DATA_DIR is checked). The backup's",
        "entry count and SHA-256 are verified before anything is replaced; the new",
        "store is built beside DATA_DIR and renamed into place. DATA_DIR/admin-token",
        "is kept as it is.",
      ].join("\n"),
    )
    .action(async (dir: string, options: RestoreOptions) => {
      const result = await restore(path.resolve(dir), path.resolve(options.data), options.force === true, io);
      if (options.json) {
        printJson(io.stdout, result);
        return;
      }
      line(io.stdout, `Restored ${result.entries} entries into ${result.dataDirectory}`);
      line(
        io.stdout,
        `  from:     ${result.backup} (taken ${result.createdAt}, engine ${result.engineVersion})`,
      );
      line(io.stdout, `  sha256:   ${result.sha256} (verified)`);
      if (result.replaced) line(io.stdout, "  the previous store was replaced (--force)");
    });
}

export interface RestoreResult {
  backup: string;
  dataDirectory: string;
  entries: number;
  sha256: string;
  createdAt: string;
  engineVersion: string;
  replaced: boolean;
}

async function restore(backup: string, dataDir: string, force: boolean, io: CliIo): Promise<RestoreResult> {
  if (backup === dataDir || dataDir.startsWith(backup + path.sep) || backup.startsWith(dataDir + path.sep)) {
    throw new UsageError("the backup directory and the data directory must be separate");
  }
  const backupFiles = await listDir(backup, "backup directory");
  if (backupFiles === undefined) throw new UsageError(`the backup directory ${backup} does not exist`);
  const manifest = await readManifest(backup);
  if (!hasStore(backup)) throw new UsageError(`${backup} is not an enclave backup: it holds no store`);
  if (manifest.engineVersion !== VERSION) {
    line(
      io.stderr,
      `enclave: note: the backup was taken by engine ${manifest.engineVersion}; this is ${VERSION}`,
    );
  }

  let replaced = false;
  // Build the new store beside DATA_DIR and verify it against the manifest, before DATA_DIR
  // is even opened (opening a LevelDB store lets it rewrite its own files).
  const temp = siblingPath(dataDir, "restore");
  try {
    await mkdir(temp, { recursive: true });
    for (const name of backupFiles) {
      if (!isStoreFile(name) || name === "LOCK" || name.startsWith("LOG")) continue;
      await copySynced(path.join(backup, name), path.join(temp, name));
    }
    const copy = await openLocal(temp, `${temp} is in use`);
    let found: { entries: number; sha256: string };
    try {
      found = await digestStore(copy);
    } finally {
      await copy.close();
    }
    if (found.entries !== manifest.entries || found.sha256 !== manifest.sha256) {
      throw new CliError(
        `the backup in ${backup} is damaged: it holds ${found.entries} entries with SHA-256 ${found.sha256}, ` +
          `its manifest says ${manifest.entries} entries with SHA-256 ${manifest.sha256}. Nothing was changed.`,
      );
    }

    // DATA_DIR: not in use (its lock), and an empty store unless --force. Its own files
    // (admin-token) are kept.
    const existing = await listDir(dataDir, "data directory");
    const keep: string[] = [];
    if (existing !== undefined) {
      for (const name of existing) {
        if (isStoreFile(name)) continue;
        const s = await lstat(path.join(dataDir, name));
        if (s.isDirectory()) {
          throw new UsageError(
            `the data directory holds a directory "${name}" that is not part of the store; move it away first`,
          );
        }
        keep.push(name);
      }
      if (hasStore(dataDir)) {
        const current = await openLocal(dataDir, inUse(dataDir));
        let empty: boolean;
        try {
          empty = await isEmptyStore(current);
        } finally {
          await current.close();
        }
        if (!empty && !force) {
          throw new UsageError(
            `the data directory ${dataDir} already holds a store with data; pass --force to replace it`,
          );
        }
        replaced = !empty;
      }
    }

    for (const name of keep) await carryOver(path.join(dataDir, name), path.join(temp, name));
    await syncDir(temp);

    if (existing === undefined) {
      await mkdir(path.dirname(dataDir), { recursive: true });
      await rename(temp, dataDir);
    } else {
      await swap(dataDir, temp);
    }
    await syncDir(path.dirname(dataDir));
  } catch (e) {
    await removeQuietly(temp);
    throw e;
  }
  return {
    backup,
    dataDirectory: dataDir,
    entries: manifest.entries,
    sha256: manifest.sha256,
    createdAt: manifest.createdAt,
    engineVersion: manifest.engineVersion,
    replaced,
  };
}

function inUse(dataDir: string): string {
  return `the data directory ${dataDir} is in use by a running engine; stop it first (restore works offline only)`;
}

/** Replaces `dataDir` with `fresh`: two renames, with a lock check on the old store between. */
async function swap(dataDir: string, fresh: string): Promise<void> {
  const old = siblingPath(dataDir, "replaced");
  await rename(dataDir, old);
  try {
    // An engine that started since the checks above would hold the lock now.
    if (hasStore(old)) await (await openLocal(old, inUse(dataDir))).close();
    await rename(fresh, dataDir);
  } catch (e) {
    await rename(old, dataDir).catch(() => undefined);
    throw e;
  }
  await removeQuietly(old);
}

async function copySynced(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  const fh = await open(to, "r+");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The same file at a new path: a hard link (same inode, mode, content), else a copy with its mode. */
async function carryOver(from: string, to: string): Promise<void> {
  const s = await lstat(from);
  if (s.isSymbolicLink()) {
    await symlink(await readlink(from), to);
    return;
  }
  try {
    await link(from, to);
  } catch {
    await copySynced(from, to);
    await chmod(to, s.mode & 0o7777);
  }
}
