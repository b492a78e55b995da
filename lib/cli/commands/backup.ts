/**
 * `enclave backup DIR`: a consistent point-in-time snapshot of the store.
 *
 * - Running engine (the normal case: its data directory is locked): streams
 *   `GET /admin/backup` (one store iterator = one snapshot) over the admin API.
 * - `--data DATA_DIR` (engine stopped): reads the store directly.
 *
 * DIR becomes a LevelDB store plus manifest.json (see ../snapshot.ts). It is built in a hidden
 * sibling directory, checked (entry count and SHA-256 read back from disk), and renamed into
 * place, so DIR never holds a partial backup. A non-empty DIR is refused.
 */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import path from "node:path";
import type { Command } from "commander";
import type { BackupStreamHeader } from "../../gateway/routes/admin.js";
import { VERSION } from "../../version.js";
import { CliError, UsageError, line, printJson, type CliIo } from "../io.js";
import { resolveRemote, type RemoteOptions } from "../remote.js";
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  decodeBackupStream,
  digestStore,
  hasStore,
  listDir,
  moveInto,
  openLocal,
  removeQuietly,
  siblingPath,
  syncDir,
  writeEntries,
  writeFileSynced,
  type BackupManifest,
  type Entry,
} from "../snapshot.js";

interface BackupOptions extends RemoteOptions {
  json?: boolean;
}

export function registerBackup(program: Command, io: CliIo): void {
  program
    .command("backup")
    .description("write a consistent snapshot of the store to DIR (a running engine, or --data offline)")
    .argument("<dir>", "where to write the backup: must not exist, or be empty")
    .option(
      "--endpoint <url>",
      "the running engine's URL (default: $ENCLAVE_ENDPOINT, else http://127.0.0.1:6420)",
    )
    .option("--admin-token-file <file>", "file holding the admin token (default: $ENCLAVE_ADMIN_TOKEN)")
    .option("--data <dir>", "back up a STOPPED engine's data directory directly instead")
    .option("--json", "print the manifest as JSON")
    .addHelpText(
      "after",
      [
        "",
        "A running engine locks its data directory: the backup is streamed from",
        "GET /admin/backup, one point-in-time snapshot taken while writes continue.",
        "Every write acknowledged before the backup starts is in it.",
        "DIR becomes a LevelDB store plus manifest.json (entry count, SHA-256).",
        "Restore with `enclave restore DIR --data DATA_DIR` while the engine is",
        "stopped.",
      ].join("\n"),
    )
    .action(async (dir: string, options: BackupOptions) => {
      if (options.data !== undefined && options.endpoint !== undefined) {
        throw new UsageError(
          "give --endpoint (back up a running engine) or --data (a stopped engine's data directory), not both",
        );
      }
      const target = path.resolve(dir);
      const existing = await listDir(target, "backup directory");
      if (existing && existing.length > 0) {
        throw new UsageError(`the backup directory ${target} is not empty; choose a new or empty directory`);
      }

      const manifest =
        options.data !== undefined
          ? await backupOffline(path.resolve(options.data), target)
          : await backupOnline(options, target, io);

      if (options.json) {
        printJson(io.stdout, { directory: target, ...manifest });
        return;
      }
      line(io.stdout, `Backup written to ${target}`);
      line(io.stdout, `  entries:  ${manifest.entries}`);
      line(io.stdout, `  sha256:   ${manifest.sha256}`);
      line(io.stdout, `  taken at: ${manifest.createdAt} (engine ${manifest.engineVersion})`);
    });
}

async function backupOnline(options: BackupOptions, target: string, io: CliIo): Promise<BackupManifest> {
  const remote = resolveRemote(options, io);
  const res = await remote.stream("/admin/backup");
  if (!res.body) throw new CliError(`the engine at ${remote.baseUrl} sent an empty backup`);
  let header: BackupStreamHeader | undefined;
  const entries = decodeBackupStream(
    Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
    (h) => (header = h),
  );
  return writeBackup(target, entries, () => ({
    engineVersion: header?.engineVersion ?? "unknown",
    createdAt: new Date(header?.createdAt ?? Date.now()).toISOString(),
    source: "engine",
  }));
}

async function backupOffline(dataDir: string, target: string): Promise<BackupManifest> {
  if (!hasStore(dataDir)) throw new UsageError(`there is no store in ${dataDir} (no LevelDB CURRENT file)`);
  if (target === dataDir || target.startsWith(dataDir + path.sep)) {
    throw new UsageError("the backup directory must not be inside the data directory");
  }
  const store = await openLocal(
    dataDir,
    `the data directory ${dataDir} is in use by a running engine; back it up through the engine instead: ` +
      "enclave backup DIR --endpoint URL --admin-token-file FILE",
  );
  try {
    const createdAt = new Date().toISOString();
    // Nothing else can write while the lock is held: one pass is a consistent snapshot.
    return await writeBackup(target, store.range({}), () => ({
      engineVersion: VERSION,
      createdAt,
      source: "data-directory",
    }));
  } finally {
    await store.close();
  }
}

/**
 * Builds the backup beside `target` and renames it into place once its content has been read
 * back and matches. `meta` is asked after the entries are written (the stream's header is
 * known by then).
 */
async function writeBackup(
  target: string,
  entries: AsyncIterable<Entry>,
  meta: () => Pick<BackupManifest, "engineVersion" | "createdAt" | "source">,
): Promise<BackupManifest> {
  const temp = siblingPath(target, "partial");
  try {
    const store = await openLocal(temp, `${temp} is in use`);
    let written: { entries: number; sha256: string };
    try {
      written = await writeEntries(store, entries);
    } finally {
      await store.close();
    }
    // Read back what is on disk: the manifest describes the files, not our intentions.
    const check = await openLocal(temp, `${temp} is in use`);
    let onDisk: { entries: number; sha256: string };
    try {
      onDisk = await digestStore(check);
    } finally {
      await check.close();
    }
    if (onDisk.entries !== written.entries || onDisk.sha256 !== written.sha256) {
      throw new CliError(
        `the backup read back from disk does not match what was written (${onDisk.entries} vs ${written.entries} entries)`,
      );
    }
    const { engineVersion, createdAt, source } = meta();
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      formatVersion: MANIFEST_VERSION,
      engineVersion,
      createdAt,
      entries: written.entries,
      sha256: written.sha256,
      source,
    };
    await writeFileSynced(path.join(temp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await syncDir(temp);
    // rename() replaces an empty directory atomically, and fails if one appeared that is not.
    try {
      await moveInto(temp, target);
    } catch (e) {
      throw new CliError(`cannot move the finished backup to ${target}: ${(e as Error).message}`);
    }
    await syncDir(path.dirname(target));
    return manifest;
  } catch (e) {
    await removeQuietly(temp);
    throw e;
  }
}
