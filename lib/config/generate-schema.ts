/**
 * Writes the generated configuration artefacts from the zod schema:
 *
 *   - schemas/engine-config.schema.json (the JSON Schema)
 *   - the key table in docs/configuration.md (between its GENERATED markers)
 *
 * Run from the repository root:  npx tsx lib/config/generate-schema.ts [--check]
 * With --check it writes nothing and exits 1 when a file is out of date.
 * Output is formatted with the repository's Prettier settings, so `prettier --check` agrees.
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { withConfigReferenceTable } from "./docs.js";
import { engineConfigJsonSchema } from "./json-schema.js";

export const REGENERATE_COMMAND = "npx tsx lib/config/generate-schema.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const SCHEMA_FILE = path.join(repoRoot, "schemas", "engine-config.schema.json");
export const DOCS_FILE = path.join(repoRoot, "docs", "configuration.md");

async function prettierFormat(text: string, file: string): Promise<string> {
  // A development dependency: loaded only when generating or checking, never by the engine.
  const prettier = await import("prettier");
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, filepath: file });
}

/** The expected contents of schemas/engine-config.schema.json. */
export async function renderSchemaFile(): Promise<string> {
  return prettierFormat(`${JSON.stringify(engineConfigJsonSchema(), null, 2)}\n`, SCHEMA_FILE);
}

/** The expected contents of docs/configuration.md, given its current contents. */
export async function renderDocsFile(current: string): Promise<string> {
  return prettierFormat(withConfigReferenceTable(current), DOCS_FILE);
}

function readOr(file: string, fallback: string | undefined): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}

async function main(check: boolean): Promise<number> {
  const outputs: { file: string; current: string | undefined; wanted: string }[] = [];
  outputs.push({
    file: SCHEMA_FILE,
    current: readOr(SCHEMA_FILE, undefined),
    wanted: await renderSchemaFile(),
  });
  const docs = readOr(DOCS_FILE, undefined);
  if (docs === undefined) {
    console.error(
      `${path.relative(process.cwd(), DOCS_FILE)} is missing; it holds the prose around the table`,
    );
    return 1;
  }
  outputs.push({ file: DOCS_FILE, current: docs, wanted: await renderDocsFile(docs) });

  let stale = 0;
  for (const { file, current, wanted } of outputs) {
    const name = path.relative(process.cwd(), file);
    if (current === wanted) {
      console.log(`${name}: up to date`);
      continue;
    }
    if (check) {
      console.error(`${name}: out of date; run ${REGENERATE_COMMAND}`);
      stale++;
    } else {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, wanted);
      console.log(`${name}: written`);
    }
  }
  return stale > 0 ? 1 : 0;
}

const invokedPath = process.argv[1];
if (invokedPath && import.meta.url === pathToFileURL(path.resolve(invokedPath)).href) {
  process.exitCode = await main(process.argv.includes("--check"));
}
