/**
 * Loading the engine configuration. Sources, later wins:
 *
 *   defaults < files (in order) < ENCLAVE__* environment variables < programmatic options
 *
 * Files come from `--config` paths (files or directories, repeatable), else
 * `ENCLAVE_CONFIG_PATH` (several paths separated by the platform's path delimiter), else
 * `/etc/enclave/` if it exists. Plain objects merge deeply; arrays and other values replace.
 * Every mistake becomes one ConfigError listing every problem found, each naming the file or
 * variable it came from.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import JSON5 from "json5";
import YAML from "yaml";
import type { z } from "zod";
import { ConfigError, type ConfigIssue } from "./errors.js";
import { engineConfigJsonSchema } from "./json-schema.js";
import { EngineConfigSchema, SECRET_PATHS, type EngineConfig, type EngineConfigInput } from "./schema.js";
import {
  isSection,
  keysOf,
  matchKey,
  nodeAt,
  schemaRoot,
  upperSnake,
  type SchemaNode,
} from "./schema-tree.js";

/** File extensions a configuration file may have (lower case). */
export const CONFIG_FILE_EXTENSIONS: readonly string[] = [".json", ".jsonc", ".json5", ".yaml", ".yml"];

/** Read when neither `--config` nor `ENCLAVE_CONFIG_PATH` is given, if it exists. */
export const DEFAULT_CONFIG_DIR = "/etc/enclave";

/** Environment variables starting with this prefix set configuration keys. */
export const ENV_PREFIX = "ENCLAVE__";

/** What redacted secrets are replaced with. */
export const REDACTED = "[redacted]";

export type Env = Readonly<Record<string, string | undefined>>;

type PlainObject = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Files

let validator: ValidateFunction | undefined;

/** The ajv validator, compiled once from the generated JSON Schema. */
function validateFile(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    // What the JSON Schema calls "uri" is what WHATWG URL accepts; zod checks the rest.
    ajv.addFormat("uri", { type: "string", validate: (s: string) => URL.canParse(s) });
    validator = ajv.compile(engineConfigJsonSchema());
  }
  return validator;
}

/**
 * Reads one configuration file (`.json`, `.jsonc`, `.json5`, `.yaml`, `.yml`) and checks it
 * against the JSON Schema. Throws a ConfigError with path-precise issues, e.g.
 * `config file /x/a.yaml: /gateway/port must be <= 65535`. A top-level `$schema` key is
 * allowed and dropped. An empty file is an empty configuration.
 */
export function readConfigFile(file: string): EngineConfigInput {
  const abs = path.resolve(file);
  const source = `config file ${abs}`;
  const fail = (message: string): never => {
    throw new ConfigError([{ path: "", message, source }]);
  };

  const ext = path.extname(abs).toLowerCase();
  if (!CONFIG_FILE_EXTENSIONS.includes(ext)) {
    fail(
      `unsupported file type ${ext ? `"${ext}"` : "(no extension)"}; use one of ${CONFIG_FILE_EXTENSIONS.join(", ")}`,
    );
  }

  let text = "";
  try {
    text = readFileSync(abs, "utf8");
  } catch (error) {
    fail(`cannot read: ${fsReason(error)}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const data = parseConfigText(text, ext, fail);
  const validate = validateFile();
  if (!validate(data)) {
    throw new ConfigError((validate.errors ?? []).map((e) => ajvIssue(e, source)));
  }
  const result = { ...(data as PlainObject) };
  delete result.$schema;
  return result as EngineConfigInput;
}

function parseConfigText(text: string, ext: string, fail: (message: string) => never): unknown {
  if (ext === ".yaml" || ext === ".yml") {
    const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    const problem = doc.errors[0] ?? doc.warnings[0];
    // Only the first line: the rest is a source excerpt, which could hold a secret.
    if (problem) fail(`cannot parse YAML: ${firstLine(problem.message)}`);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    return value ?? {};
  }
  if (text.trim() === "") return {};
  try {
    return JSON5.parse(text);
  } catch (error) {
    const kind = ext === ".json" ? "JSON" : ext === ".jsonc" ? "JSONC" : "JSON5";
    const message = error instanceof Error ? error.message.replace(/^JSON5: /, "") : String(error);
    return fail(`cannot parse ${kind}: ${firstLine(message)}`);
  }
}

const TYPE_WORDS: Record<string, string> = {
  integer: "an integer",
  number: "a number",
  string: "a string",
  boolean: "a boolean (true or false)",
  array: "a list",
  object: "an object (a mapping of keys to values)",
};

function ajvIssue(e: ErrorObject, source: string): ConfigIssue {
  const at = e.instancePath || "/";
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const node = nodeAt(pointerKeys(e.instancePath));
      const known = node ? keysOf(node) : [];
      return {
        path: `${e.instancePath}/${escapePointer(key)}`,
        message: `unknown key "${key}" at ${at}${known.length ? ` (known keys: ${known.join(", ")})` : ""}`,
        source,
      };
    }
    case "enum": {
      const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ");
      return { path: at, message: `${at} must be one of ${allowed}`, source };
    }
    case "type": {
      const type = String(params.type);
      if (e.instancePath === "") {
        return { path: at, message: `the top level must be ${TYPE_WORDS.object}`, source };
      }
      return { path: at, message: `${at} must be ${TYPE_WORDS[type] ?? type}`, source };
    }
    case "format":
      return {
        path: at,
        message: `${at} must be a valid ${params.format === "uri" ? "URL" : params.format}`,
        source,
      };
    default:
      return { path: at, message: `${at} ${e.message ?? "is not valid"}`, source };
  }
}

function pointerKeys(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

function firstLine(message: string): string {
  return message.split("\n", 1)[0]!.trim();
}

function fsReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

// ---------------------------------------------------------------------------------------------
// Which files

export interface ConfigPathsOptions {
  /** `--config` values: files or directories, in order. Empty means "not given". */
  configPaths?: readonly string[] | undefined;
  env?: Env | undefined;
  /** Read when nothing else names a path and it exists; `/etc/enclave` unless overridden. */
  defaultConfigDir?: string | undefined;
}

/**
 * The configuration files to read, in order, as absolute paths: the `--config` paths, else
 * those in `ENCLAVE_CONFIG_PATH`, else `/etc/enclave/` if it exists. A directory contributes
 * its `*.json|jsonc|json5|yaml|yml` files (not dotfiles, not subdirectories) in lexical
 * order. A named path that does not exist is an error.
 */
export function configPathsFrom(options: ConfigPathsOptions = {}): string[] {
  const env = options.env ?? process.env;
  let named: string[] = [];
  let via = "";
  if (options.configPaths && options.configPaths.length > 0) {
    named = [...options.configPaths];
    via = "--config";
  } else {
    named = (env.ENCLAVE_CONFIG_PATH ?? "").split(path.delimiter).filter((p) => p.trim() !== "");
    via = "ENCLAVE_CONFIG_PATH";
  }

  if (named.length === 0) {
    const dir = path.resolve(options.defaultConfigDir ?? DEFAULT_CONFIG_DIR);
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      // absent: no files
    }
    return isDir ? filesIn(dir, `config directory ${dir}`) : [];
  }

  const files: string[] = [];
  const issues: ConfigIssue[] = [];
  for (const p of named) {
    const abs = path.resolve(p);
    let isDir: boolean;
    try {
      isDir = statSync(abs).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === "ENOENT" || code === "ENOTDIR" ? "does not exist" : fsReason(error);
      issues.push({ path: "", message: `${abs} ${reason}`, source: via });
      continue;
    }
    if (!isDir) {
      files.push(abs);
      continue;
    }
    try {
      files.push(...filesIn(abs, via));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return files;
}

/** A directory's configuration files, lexical (code unit) order. Symlinks are followed. */
function filesIn(dir: string, source: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new ConfigError([{ path: "", message: `cannot list ${dir}: ${fsReason(error)}`, source }]);
  }
  const out: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith(".")) continue; // dotfiles, editor droppings, Kubernetes' ..data
    if (!CONFIG_FILE_EXTENSIONS.includes(path.extname(name).toLowerCase())) continue;
    const full = path.join(dir, name);
    try {
      if (!statSync(full).isFile()) continue;
    } catch {
      // A dangling symlink: keep it, so reading it reports the problem.
    }
    out.push(full);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Environment

interface EnvSetting {
  variable: string;
  path: string[];
  value: unknown;
}

/** Parses `ENCLAVE__*` variables; returns the settings and the problems, without throwing. */
function parseEnv(env: Env): { settings: EnvSetting[]; issues: ConfigIssue[] } {
  const settings: EnvSetting[] = [];
  const issues: ConfigIssue[] = [];
  const byPath = new Map<string, EnvSetting & { raw: string }>();

  for (const variable of Object.keys(env).sort()) {
    const raw = env[variable];
    if (!variable.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const source = `environment variable ${variable}`;
    const segments = variable.slice(ENV_PREFIX.length).split("__");

    let node: SchemaNode = schemaRoot();
    const keys: string[] = [];
    let problem: ConfigIssue | undefined;
    for (const segment of segments) {
      const here = keys.join(".");
      if (segment === "") {
        problem = { path: here, message: "empty name segment (check for a doubled or trailing __)", source };
        break;
      }
      const key = isSection(node) ? matchKey(node, segment) : undefined;
      if (key === undefined) {
        const known = isSection(node) ? keysOf(node) : [];
        problem = {
          path: [...keys, segment].join("."),
          message:
            `unknown key "${segment}" at ${here || "the top level"}` +
            (known.length ? ` (known keys: ${known.join(", ")})` : ` (${here} is not a section)`),
          source,
        };
        break;
      }
      keys.push(key);
      node = node.properties![key]!;
    }
    if (!problem && isSection(node)) {
      problem = {
        path: keys.join("."),
        message: `names the section "${keys.join(".")}", not a key; set one of its keys: ${keysOf(node)
          .map((k) => `${variable}__${upperSnake(k)}`)
          .join(", ")}`,
        source,
      };
    }
    if (problem) {
      issues.push(problem);
      continue;
    }

    const coerced = coerceEnvValue(raw, node, keys);
    if ("error" in coerced) {
      issues.push({ path: keys.join("."), message: coerced.error, source });
      continue;
    }
    const dotted = keys.join(".");
    const earlier = byPath.get(dotted);
    if (earlier) {
      if (earlier.raw !== raw) {
        issues.push({
          path: dotted,
          message: `sets ${dotted}, as ${earlier.variable} does, to a different value; set only one`,
          source,
        });
      }
      continue;
    }
    const setting = { variable, path: keys, value: coerced.value };
    byPath.set(dotted, { ...setting, raw });
    settings.push(setting);
  }
  return { settings, issues };
}

function coerceEnvValue(
  raw: string,
  node: SchemaNode,
  keys: string[],
): { value: unknown } | { error: string } {
  const secret = SECRET_PATHS.includes(keys.join("."));
  const shown = secret ? "" : `, got ${JSON.stringify(raw)}`;
  switch (node.type) {
    case "integer":
    case "number": {
      const text = raw.trim();
      const value = Number(text);
      if (text === "" || !Number.isFinite(value)) return { error: `expected a number${shown}` };
      return { value };
    }
    case "boolean": {
      const text = raw.trim().toLowerCase();
      if (text === "true" || text === "1") return { value: true };
      if (text === "false" || text === "0") return { value: false };
      return { error: `expected true, false, 1 or 0${shown}` };
    }
    case "array": {
      const text = raw.trim();
      let items: unknown[];
      if (text.startsWith("[")) {
        try {
          const parsed: unknown = JSON.parse(text);
          if (!Array.isArray(parsed)) throw new Error("not an array");
          items = parsed;
        } catch {
          return { error: `expected a JSON array or comma-separated values${shown}` };
        }
      } else {
        items = text === "" ? [] : text.split(",").map((s) => s.trim());
        items = items.filter((s) => s !== "");
      }
      const itemNode = node.items ?? {};
      const out: unknown[] = [];
      for (const item of items) {
        if (typeof item !== "string") {
          out.push(item);
          continue;
        }
        const c = coerceEnvValue(item, itemNode, keys);
        if ("error" in c) return { error: `list item: ${c.error}` };
        out.push(c.value);
      }
      return { value: out };
    }
    default:
      return { value: raw };
  }
}

/**
 * The configuration the `ENCLAVE__*` environment variables give. `ENCLAVE__GATEWAY__PORT=7000`
 * sets `gateway.port`; segments in UPPER_SNAKE map to camelCase keys (`FILE_SYSTEM` ->
 * `fileSystem`), exact key names work too (`ENCLAVE__storage__fileSystem__path`). Values are
 * coerced to the key's type: numbers, booleans (`true/false/1/0`), lists (comma-separated or a
 * JSON array), strings as is. A variable naming an unknown key is an error naming it.
 * `ENCLAVE_CONFIG_PATH`, `ENCLAVE_ENDPOINT` and other single-underscore names are not keys.
 */
export function envOverrides(env: Env = process.env): EngineConfigInput {
  const { settings, issues } = parseEnv(env);
  if (issues.length > 0) throw new ConfigError(issues);
  const out: PlainObject = {};
  for (const s of settings) setPath(out, s.path, s.value);
  return out as EngineConfigInput;
}

// ---------------------------------------------------------------------------------------------
// Everything together

export interface LoadConfigOptions extends ConfigPathsOptions {
  /** Programmatic options (`registry.start(options)`, CLI flags): they win over everything. */
  overrides?: EngineConfigInput | undefined;
}

export interface LoadedConfig {
  /** The effective configuration, defaults applied. Holds secrets: log `redactConfig(config)`. */
  config: EngineConfig;
  /**
   * What contributed, lowest first: each file read (absolute path), `env:NAME` for each
   * environment variable used, `options` when programmatic options set anything, and
   * `adminTokenFile:PATH` when the admin token was read from a file.
   */
  sources: string[];
  /** For each key not left at its default (dotted path): where its value came from. */
  origins: Record<string, string>;
}

/**
 * Loads the effective configuration: defaults < files < environment < `overrides`. Reads
 * `auth.adminTokenFile` into `auth.adminToken` (setting both is an error). Throws a
 * ConfigError listing every problem.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const files = configPathsFrom({ ...options, env });

  const merged: PlainObject = {};
  const origins = new Map<string, string>();
  const sources: string[] = [];
  const issues: ConfigIssue[] = [];

  for (const file of files) {
    try {
      mergeInto(merged, readConfigFile(file) as PlainObject, `config file ${file}`, origins, []);
      sources.push(file);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
    }
  }

  const fromEnv = parseEnv(env);
  issues.push(...fromEnv.issues);
  for (const s of fromEnv.settings) {
    const patch: PlainObject = {};
    setPath(patch, s.path, s.value);
    mergeInto(merged, patch, `environment variable ${s.variable}`, origins, []);
    sources.push(`env:${s.variable}`);
  }
  if (issues.length > 0) throw new ConfigError(issues);

  if (options.overrides !== undefined) {
    if (!isPlainObject(options.overrides)) {
      throw new ConfigError([{ path: "", message: "options must be an object", source: "options" }]);
    }
    if (mergeInto(merged, options.overrides, "options", origins, [])) sources.push("options");
  }

  let config = parseWithZod(merged, origins);

  const tokenFile = config.auth.adminTokenFile;
  if (tokenFile !== undefined) {
    const fileOrigin = origins.get("auth.adminTokenFile") ?? "configuration";
    if (config.auth.adminToken !== undefined) {
      const tokenOrigin = origins.get("auth.adminToken") ?? "configuration";
      throw new ConfigError([
        {
          path: "auth",
          message:
            `auth.adminToken (from ${tokenOrigin}) and auth.adminTokenFile (from ${fileOrigin}) are both set; ` +
            "set only one",
          source: "configuration",
        },
      ]);
    }
    const abs = path.resolve(tokenFile);
    let token = "";
    try {
      token = readFileSync(abs, "utf8");
    } catch (error) {
      throw new ConfigError([
        {
          path: "auth.adminTokenFile",
          message: `auth.adminTokenFile: cannot read ${abs}: ${fsReason(error)}`,
          source: fileOrigin,
        },
      ]);
    }
    token = token.replace(/^\uFEFF/, "").replace(/[\r\n]+$/, "");
    if (token === "") {
      throw new ConfigError([
        { path: "auth.adminTokenFile", message: `auth.adminTokenFile: ${abs} is empty`, source: fileOrigin },
      ]);
    }
    const auth = (merged.auth ??= {}) as PlainObject;
    auth.adminToken = token;
    origins.set("auth.adminToken", `admin token file ${abs}`);
    sources.push(`adminTokenFile:${abs}`);
    config = parseWithZod(merged, origins);
  }

  return { config, sources, origins: Object.fromEntries(origins) };
}

function parseWithZod(input: PlainObject, origins: ReadonlyMap<string, string>): EngineConfig {
  const result = EngineConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((issue) => zodIssue(issue, origins)));
}

function zodIssue(issue: z.core.$ZodIssue, origins: ReadonlyMap<string, string>): ConfigIssue {
  const keys = issue.path.map(String);
  const dotted = keys.join(".");
  if (issue.code === "unrecognized_keys") {
    const names = issue.keys;
    const node = nodeAt(keys);
    const known = node ? keysOf(node) : [];
    return {
      path: [...keys, names[0] ?? ""].join("."),
      message:
        `unknown key${names.length > 1 ? "s" : ""} ${names.map((k) => `"${k}"`).join(", ")} at ` +
        `${dotted || "the top level"}${known.length ? ` (known keys: ${known.join(", ")})` : ""}`,
      source: originOf([...keys, names[0] ?? ""], origins),
    };
  }
  return {
    path: dotted,
    message: `${dotted || "(top level)"}: ${issue.message}`,
    source: originOf(keys, origins),
  };
}

/** Where the value at a path came from: the nearest recorded key at or above it. */
function originOf(keys: readonly string[], origins: ReadonlyMap<string, string>): string {
  for (let n = keys.length; n > 0; n--) {
    const found = origins.get(keys.slice(0, n).join("."));
    if (found) return found;
  }
  // A key below it (e.g. a section that is wrong as a whole because of one leaf).
  const prefix = keys.length ? `${keys.join(".")}.` : "";
  for (const [key, origin] of origins) if (key.startsWith(prefix)) return origin;
  return "configuration";
}

// ---------------------------------------------------------------------------------------------
// Merging and redaction

function isPlainObject(value: unknown): value is PlainObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Own-property assignment, so `__proto__` stays a (rejected) key instead of a prototype. */
function define(target: PlainObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Deep-merges `source` into `target`: plain objects merge, everything else (arrays included)
 * replaces; `undefined` values are skipped. Records each leaf's origin. Returns whether it set
 * anything.
 */
function mergeInto(
  target: PlainObject,
  source: PlainObject,
  origin: string,
  origins: Map<string, string>,
  prefix: string[],
): boolean {
  let touched = false;
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const keys = [...prefix, key];
    const dotted = keys.join(".");
    if (isPlainObject(value)) {
      let child = Object.hasOwn(target, key) ? target[key] : undefined;
      if (!isPlainObject(child)) {
        child = {};
        define(target, key, child);
        forgetOrigins(origins, dotted);
      }
      if (mergeInto(child as PlainObject, value, origin, origins, keys)) touched = true;
    } else {
      define(target, key, Array.isArray(value) ? structuredClone(value) : value);
      forgetOrigins(origins, dotted);
      origins.set(dotted, origin);
      touched = true;
    }
  }
  return touched;
}

function forgetOrigins(origins: Map<string, string>, dotted: string): void {
  origins.delete(dotted);
  for (const key of [...origins.keys()]) if (key.startsWith(`${dotted}.`)) origins.delete(key);
}

function setPath(target: PlainObject, keys: readonly string[], value: unknown): void {
  let node = target;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) {
      define(node, key, value);
      return;
    }
    let child = Object.hasOwn(node, key) ? node[key] : undefined;
    if (!isPlainObject(child)) {
      child = {};
      define(node, key, child);
    }
    node = child as PlainObject;
  });
}

/**
 * A deep copy with every secret (SECRET_PATHS) that is set replaced by `[redacted]`: for
 * `enclave config show` and logs.
 */
export function redactConfig<T>(config: T): T {
  const copy = structuredClone(config);
  if (!isPlainObject(copy)) return copy;
  for (const secret of SECRET_PATHS) {
    const keys = secret.split(".");
    let node: unknown = copy;
    for (const key of keys.slice(0, -1)) {
      node = isPlainObject(node) && Object.hasOwn(node, key) ? node[key] : undefined;
    }
    const last = keys[keys.length - 1]!;
    if (isPlainObject(node) && Object.hasOwn(node, last) && node[last] !== undefined) node[last] = REDACTED;
  }
  return copy;
}
