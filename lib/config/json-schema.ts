/**
 * The JSON Schema of the engine configuration, generated from the zod schema (the source of
 * truth). `schemas/engine-config.schema.json` is this object written to disk by
 * `npx tsx lib/config/generate-schema.ts`; a test fails when the two drift apart.
 */
import { z } from "zod";
import { EngineConfigSchema } from "./schema.js";

export const ENGINE_CONFIG_SCHEMA_ID = "https://enclave.dev/schemas/engine-config.schema.json";

export type JsonSchema = z.core.JSONSchema.JSONSchema;

/**
 * The JSON Schema (draft 2020-12) of what a configuration file may hold. Built with
 * `io: "input"`, so keys with defaults are not required; every object has
 * `additionalProperties: false`. A top-level `$schema` key is allowed (and ignored by the
 * loader) so editors can find this schema from a file.
 */
export function engineConfigJsonSchema(): JsonSchema {
  const generated = z.toJSONSchema(EngineConfigSchema, { io: "input", target: "draft-2020-12" });
  const { $schema: _dialect, properties, ...rest } = generated;
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: ENGINE_CONFIG_SCHEMA_ID,
    title: "Enclave engine configuration",
    description:
      "Configuration of the Enclave engine (enclave start, registry.start). Sources, later wins: defaults < files < ENCLAVE__* environment variables < programmatic options.",
    ...rest,
    properties: {
      $schema: {
        type: "string",
        description: "URI of this JSON Schema, for editors; ignored by the engine",
      },
      ...properties,
    },
  };
}
