/**
 * How the suite starts `enclave` itself: from the built package (`node dist/lib/cli/main.js`)
 * or, in a source checkout, through tsx (`node --import tsx lib/cli/main.ts`), whichever this
 * module is part of.
 */
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/** True when this module runs from TypeScript source (tests, tsx), false from the built package. */
export const FROM_SOURCE = import.meta.url.endsWith(".ts");

/** The `enclave` bin of this same package. */
export const CLI_MAIN = fileURLToPath(new URL(`../cli/main.${FROM_SOURCE ? "ts" : "js"}`, import.meta.url));

/** Node flags needed to run CLI_MAIN: a TypeScript loader when running from source. */
export function nodeArgs(): string[] {
  if (!FROM_SOURCE) return [];
  const require = createRequire(import.meta.url);
  let loader: string;
  try {
    loader = pathToFileURL(require.resolve("tsx")).href;
  } catch {
    throw new Error(
      "running the conformance suite from TypeScript source needs tsx (a dev dependency); build the package or install tsx",
    );
  }
  return ["--import", loader];
}

/** `[node, ...flags, CLI_MAIN, ...args]` as a command and its arguments. */
export function enclaveCommand(args: readonly string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [...nodeArgs(), CLI_MAIN, ...args] };
}

/** A minimal environment for child processes: no ENCLAVE_* or NODE_OPTIONS from the caller. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
  };
  for (const k of ["TMPDIR", "LANG", "TZ"]) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return { ...env, ...extra };
}
