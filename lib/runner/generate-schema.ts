/**
 * Writes schemas/runner-protocol.schema.json from the zod schemas in protocol.ts.
 *
 * Run from the repository root:  npx tsx lib/runner/generate-schema.ts [--check]
 * With --check it writes nothing and exits 1 when the file is out of date.
 * Output is formatted with the repository's Prettier settings, so `prettier --check` agrees.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runnerProtocolJsonSchema } from "./json-schema.js";

export const REGENERATE_COMMAND = "npx tsx lib/runner/generate-schema.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const SCHEMA_FILE = path.join(repoRoot, "schemas", "runner-protocol.schema.json");

/** The expected contents of schemas/runner-protocol.schema.json. */
export async function renderSchemaFile(): Promise<string> {
  // A development dependency: loaded only when generating or checking, never by the engine.
  const prettier = await import("prettier");
  const options = (await prettier.resolveConfig(SCHEMA_FILE)) ?? {};
  return prettier.format(`${JSON.stringify(runnerProtocolJsonSchema(), null, 2)}\n`, {
    ...options,
    filepath: SCHEMA_FILE,
  });
}

async function main(check: boolean): Promise<number> {
  const wanted = await renderSchemaFile();
  let current: string | undefined;
  try {
    current = readFileSync(SCHEMA_FILE, "utf8");
  } catch {
    current = undefined;
  }
  const name = path.relative(process.cwd(), SCHEMA_FILE);
  if (current === wanted) {
    console.log(`${name}: up to date`);
    return 0;
  }
  if (check) {
    console.error(`${name}: out of date; run ${REGENERATE_COMMAND}`);
    return 1;
  }
  mkdirSync(path.dirname(SCHEMA_FILE), { recursive: true });
  writeFileSync(SCHEMA_FILE, wanted);
  console.log(`${name}: written`);
  return 0;
}

const invokedPath = process.argv[1];
if (invokedPath && import.meta.url === pathToFileURL(path.resolve(invokedPath)).href) {
  process.exitCode = await main(process.argv.includes("--check"));
}
