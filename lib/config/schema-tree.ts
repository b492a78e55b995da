/**
 * Walking the generated JSON Schema: which keys exist where, what type a leaf has, and the
 * environment variable name of each key. The environment loader, error messages and the
 * docs table all use this, so they agree with the schema by construction.
 */
import { engineConfigJsonSchema } from "./json-schema.js";

/** The subset of JSON Schema the engine configuration uses. */
export interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
}

/** Keys that the JSON Schema allows for editors but that are not configuration. */
const META_KEYS = new Set(["$schema"]);

let root: SchemaNode | undefined;

export function schemaRoot(): SchemaNode {
  root ??= engineConfigJsonSchema() as SchemaNode;
  return root;
}

export function isSection(node: SchemaNode): boolean {
  return node.type === "object" && node.properties !== undefined;
}

/** The configuration keys directly under a section (without `$schema`). */
export function keysOf(node: SchemaNode): string[] {
  return Object.keys(node.properties ?? {}).filter((k) => !META_KEYS.has(k));
}

/** The schema node at a path of keys, or undefined when there is no such key. */
export function nodeAt(path: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = schemaRoot();
  for (const key of path) {
    if (!node || !isSection(node) || META_KEYS.has(key) || !Object.hasOwn(node.properties!, key)) {
      return undefined;
    }
    node = node.properties![key];
  }
  return node;
}

export interface Leaf {
  path: string[];
  node: SchemaNode;
}

/** Every configuration key that holds a value (not a section), in schema order. */
export function leaves(node: SchemaNode = schemaRoot(), prefix: string[] = []): Leaf[] {
  const out: Leaf[] = [];
  for (const key of keysOf(node)) {
    const child = node.properties![key]!;
    const path = [...prefix, key];
    if (isSection(child)) out.push(...leaves(child, path));
    else out.push({ path, node: child });
  }
  return out;
}

/** `fileSystem` -> `FILE_SYSTEM`, `sleepTimeoutMs` -> `SLEEP_TIMEOUT_MS`. */
export function upperSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** `["storage", "fileSystem", "path"]` -> `ENCLAVE__STORAGE__FILE_SYSTEM__PATH`. */
export function envVarName(path: readonly string[]): string {
  return ["ENCLAVE", ...path.map(upperSnake)].join("__");
}

/**
 * How an environment segment is compared with a key: case and underscores are ignored, so
 * `FILE_SYSTEM`, `fileSystem` and `filesystem` all name `fileSystem`.
 */
export function normalizeKey(segment: string): string {
  return segment.replace(/_/g, "").toLowerCase();
}

/** The key of a section an environment segment names, if any. */
export function matchKey(node: SchemaNode, segment: string): string | undefined {
  if (keysOf(node).includes(segment)) return segment;
  const wanted = normalizeKey(segment);
  return keysOf(node).find((k) => normalizeKey(k) === wanted);
}

/** A short type name for docs and messages. */
export function typeName(node: SchemaNode): string {
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (node.type === "array") return `${node.items ? typeName(node.items) : "value"}[]`;
  if (typeof node.type === "string") return node.type;
  return "value";
}
