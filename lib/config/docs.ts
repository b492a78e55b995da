/**
 * The table of configuration keys in docs/configuration.md, generated from the JSON Schema
 * (and so from the zod schema). `npx tsx lib/config/generate-schema.ts` rewrites it; a test
 * fails when it is stale.
 */
import { SECRET_PATHS } from "./schema.js";
import { envVarName, leaves, type SchemaNode } from "./schema-tree.js";

export const DOCS_TABLE_BEGIN = "<!-- BEGIN GENERATED config-keys: npx tsx lib/config/generate-schema.ts -->";
export const DOCS_TABLE_END = "<!-- END GENERATED config-keys -->";

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function code(value: string): string {
  return `\`${value}\``;
}

function describeType(node: SchemaNode): string {
  if (node.enum) return `one of ${node.enum.map((v) => code(String(v))).join(", ")}`;
  if (node.type === "array") {
    const item = node.items ? describeType(node.items) : "";
    return item === "string" ? "list of strings" : item ? `list of (${item})` : "list";
  }
  const parts: string[] = [];
  if (node.type === "string" && node.format === "uri") parts.push("URL");
  else if (typeof node.type === "string") parts.push(node.type);
  const max = node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER ? node.maximum : undefined;
  if (node.exclusiveMinimum !== undefined) {
    parts.push(max === undefined ? `> ${node.exclusiveMinimum}` : `> ${node.exclusiveMinimum}, ≤ ${max}`);
  } else if (node.minimum !== undefined) {
    parts.push(max === undefined ? `≥ ${node.minimum}` : `${node.minimum}–${max}`);
  } else if (max !== undefined) {
    parts.push(`≤ ${max}`);
  }
  if (node.minLength !== undefined && node.minLength > 1) parts.push(`≥ ${node.minLength} chars`);
  return parts.join(", ");
}

function describeDefault(node: SchemaNode): string {
  if (node.default === undefined) return "(unset)";
  if (typeof node.default === "number") return code(String(node.default));
  if (typeof node.default === "string") return code(node.default);
  return code(JSON.stringify(node.default));
}

/** One markdown table row per configuration key: key, variable, type, default, meaning. */
export function configReferenceTable(): string {
  const rows = [
    "| Key | Environment variable | Type | Default | Meaning |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const { path, node } of leaves()) {
    const key = path.join(".");
    const meaning = (node.description ?? "") + (SECRET_PATHS.includes(key) ? " (redacted in output)" : "");
    rows.push(
      `| ${code(key)} | ${code(envVarName(path))} | ${cell(describeType(node))} | ${cell(describeDefault(node))} | ${cell(meaning)} |`,
    );
  }
  return rows.join("\n") + "\n";
}

/** `markdown` with the text between the markers replaced by the current table. */
export function withConfigReferenceTable(markdown: string): string {
  const begin = markdown.indexOf(DOCS_TABLE_BEGIN);
  const end = markdown.indexOf(DOCS_TABLE_END);
  if (begin < 0 || end < begin) {
    throw new Error(`docs/configuration.md lacks the markers ${DOCS_TABLE_BEGIN} ... ${DOCS_TABLE_END}`);
  }
  return (
    markdown.slice(0, begin + DOCS_TABLE_BEGIN.length) +
    "\n\n" +
    configReferenceTable() +
    "\n" +
    markdown.slice(end)
  );
}
