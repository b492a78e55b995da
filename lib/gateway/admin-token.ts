/**
 * Where the admin token comes from. Configured (value or file) wins; `--dev` uses the fixed
 * development token with a loud warning; otherwise the engine generates a strong token on first
 * start and writes it once to DATA_DIR/admin-token (mode 0600). It is never logged.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { DEV_ADMIN_TOKEN, type EngineConfig } from "../config/index.js";

export interface AdminTokenSource {
  token: string;
  source: "config" | "dev" | "generated" | "file";
  /** The file holding a generated token. */
  path?: string;
}

export const ADMIN_TOKEN_FILE = "admin-token";

export async function resolveAdminToken(config: EngineConfig, log: Logger): Promise<AdminTokenSource> {
  if (config.auth.adminToken) return { token: config.auth.adminToken, source: "config" };
  if (config.dev) {
    log.warn(
      "DEVELOPMENT MODE: the admin token is the fixed, publicly known development token. Anyone who can reach this port has full control. Never use --dev outside a development machine.",
    );
    return { token: DEV_ADMIN_TOKEN, source: "dev" };
  }
  if (config.storage.driver === "memory") {
    // Nothing on disk to hold it: make one for this process only.
    return { token: randomBytes(32).toString("base64url"), source: "generated" };
  }
  const dir = config.storage.fileSystem.path;
  const path = join(dir, ADMIN_TOKEN_FILE);
  try {
    const token = (await readFile(path, "utf8")).trim();
    if (token.length >= 16) return { token, source: "file", path };
    throw new Error(
      `${path} does not hold a valid token (at least 16 characters); remove it to generate a new one`,
    );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  await mkdir(dir, { recursive: true });
  const token = randomBytes(32).toString("base64url");
  // `wx`: never overwrite a token another process just wrote.
  await writeFile(path, `${token}\n`, { mode: 0o600, flag: "wx" });
  log.info({ path }, "generated the admin token and wrote it to this file (readable by this user only)");
  return { token, source: "generated", path };
}
