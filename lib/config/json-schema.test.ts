import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configReferenceTable } from "./docs.js";
import {
  DOCS_FILE,
  REGENERATE_COMMAND,
  renderDocsFile,
  renderSchemaFile,
  SCHEMA_FILE,
} from "./generate-schema.js";
import { engineConfigJsonSchema } from "./json-schema.js";
import { envVarName, leaves } from "./schema-tree.js";

function read(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

describe("generated configuration artefacts", () => {
  it("schemas/engine-config.schema.json matches the zod schema", async () => {
    const wanted = await renderSchemaFile();
    expect(
      read(SCHEMA_FILE) === wanted,
      `schemas/engine-config.schema.json is out of date with lib/config/schema.ts; run: ${REGENERATE_COMMAND}`,
    ).toBe(true);
  });

  it("the key table in docs/configuration.md matches the schema", async () => {
    const current = read(DOCS_FILE);
    const wanted = await renderDocsFile(current);
    expect(
      current === wanted,
      `the key table in docs/configuration.md is out of date; run: ${REGENERATE_COMMAND}`,
    ).toBe(true);
  });
});

describe("engineConfigJsonSchema", () => {
  const schema = engineConfigJsonSchema();

  it("has an id, a title and no required keys (defaults are not required)", () => {
    expect(schema.$id).toBe("https://enclave.dev/schemas/engine-config.schema.json");
    expect(schema.title).toBeTruthy();
    expect(JSON.stringify(schema)).not.toContain('"required"');
  });

  it("closes every object", () => {
    const open: string[] = [];
    const walk = (node: Record<string, unknown>, at: string) => {
      if (node.type === "object" && node.additionalProperties !== false) open.push(at || "/");
      const props = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
      for (const [k, v] of Object.entries(props)) walk(v, `${at}/${k}`);
    };
    walk(schema as Record<string, unknown>, "");
    expect(open).toEqual([]);
  });

  it("names the keys operators rely on", () => {
    const keys = leaves().map((l) => l.path.join("."));
    for (const key of [
      "storage.fileSystem.path",
      "gateway.host",
      "gateway.port",
      "auth.adminToken",
      "auth.adminTokenFile",
      "actors.sleepTimeoutMs",
      "metrics.enabled",
      "metrics.port",
      "telemetry.otel.enabled",
      "telemetry.otel.endpoint",
      "airgap.enforce",
      "airgap.allow",
      "log.level",
    ]) {
      expect(keys).toContain(key);
    }
    expect(envVarName(["storage", "fileSystem", "path"])).toBe("ENCLAVE__STORAGE__FILE_SYSTEM__PATH");
  });

  it("lists every key in the docs table", () => {
    const table = configReferenceTable();
    for (const { path } of leaves()) {
      expect(table).toContain(`\`${path.join(".")}\``);
      expect(table).toContain(`\`${envVarName(path)}\``);
    }
  });
});
