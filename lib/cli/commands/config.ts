/**
 * `enclave config show` (the effective configuration, secrets redacted, with where each value
 * came from) and `enclave config validate FILE` (checks one file, or each file of a directory).
 */
import { statSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import YAML from "yaml";
import {
  ConfigError,
  EngineConfigSchema,
  configPathsFrom,
  loadConfig,
  readConfigFile,
  redactConfig,
  type ConfigIssue,
} from "../../config/index.js";
import { UsageError, line, printJson, type CliIo } from "../io.js";
import { collect, configError } from "../options.js";

export function registerConfig(program: Command, io: CliIo): void {
  const config = program
    .command("config")
    .description("show or check the engine configuration")
    .addHelpText(
      "after",
      [
        "",
        "Sources, later wins: defaults < files (--config, else $ENCLAVE_CONFIG_PATH,",
        "else /etc/enclave/) < ENCLAVE__* environment variables.",
      ].join("\n"),
    );

  config
    .command("show")
    .description("print the effective configuration (secrets redacted) and where each value came from")
    .option(
      "--config <path>",
      "a config file or directory (repeatable; default $ENCLAVE_CONFIG_PATH, else /etc/enclave/)",
      collect,
    )
    .option("--json", "print JSON: { config, sources, origins }")
    .action((options: { config?: string[]; json?: boolean }) => {
      let loaded: ReturnType<typeof loadConfig>;
      try {
        loaded = loadConfig({ configPaths: options.config ?? [], env: io.env });
      } catch (e) {
        throw configError(e);
      }
      const redacted = redactConfig(loaded.config);
      if (options.json) {
        printJson(io.stdout, { config: redacted, sources: loaded.sources, origins: loaded.origins });
        return;
      }
      io.stdout.write(showYaml(redacted, loaded.sources, loaded.origins));
    });

  config
    .command("validate")
    .description("check a configuration file (or each file of a directory) against the schema")
    .argument("<file>", "a .json, .jsonc, .json5, .yaml or .yml file, or a directory of them")
    .action((file: string) => {
      const abs = path.resolve(file);
      let files: string[];
      let isDir = false;
      try {
        isDir = statSync(abs).isDirectory();
      } catch {
        // readConfigFile reports the missing file with its path
      }
      if (isDir) {
        files = configPathsFrom({ configPaths: [abs], env: {} });
        if (files.length === 0) throw new UsageError(`${abs} holds no configuration files`);
      } else {
        files = [abs];
      }
      const issues: ConfigIssue[] = [];
      for (const f of files) issues.push(...validateFile(f));
      if (issues.length > 0) throw configError(new ConfigError(issues));
      for (const f of files) line(io.stdout, `${f}: valid`);
    });
}

/**
 * Every problem with one file: the JSON Schema (types, ranges, unknown keys), then what only
 * the zod schema knows (URL schemes, both adminToken and adminTokenFile). Paths are JSON
 * pointers into the file.
 */
export function validateFile(file: string): ConfigIssue[] {
  let data: Record<string, unknown>;
  try {
    data = readConfigFile(file) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  const source = `config file ${path.resolve(file)}`;
  const result = EngineConfigSchema.safeParse(data);
  const issues: ConfigIssue[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const pointer = issue.path.length === 0 ? "/" : `/${issue.path.map(String).join("/")}`;
      issues.push({ path: pointer, message: `${pointer} ${issue.message}`, source });
    }
  }
  const auth = data.auth as Record<string, unknown> | undefined;
  if (auth && auth.adminToken !== undefined && auth.adminTokenFile !== undefined) {
    issues.push({
      path: "/auth",
      message: "/auth sets both adminToken and adminTokenFile; set only one",
      source,
    });
  }
  return issues;
}

/** The redacted configuration as YAML, each explicitly set key annotated with its source. */
export function showYaml(
  config: unknown,
  sources: readonly string[],
  origins: Record<string, string>,
): string {
  const doc = new YAML.Document(config);
  for (const [dotted, origin] of Object.entries(origins)) {
    const node = doc.getIn(dotted.split("."), true) as { comment?: string | null } | undefined;
    if (node && typeof node === "object") node.comment = ` ${origin}`;
  }
  doc.commentBefore = [
    " Effective enclave configuration (secrets redacted).",
    ` Sources, lowest first: defaults${sources.length ? `, ${sources.join(", ")}` : ""}`,
    " Keys without a comment have their default value.",
  ].join("\n");
  return doc.toString({ lineWidth: 0 });
}
