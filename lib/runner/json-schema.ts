/**
 * The JSON Schema of the runner protocol, generated from the zod schemas in protocol.ts (the
 * source of truth). `schemas/runner-protocol.schema.json` is this object written to disk by
 * `npx tsx lib/runner/generate-schema.ts`; a test fails when the two drift apart.
 */
import { z } from "zod";
import { RUNNER_PROTOCOL_VERSION } from "../wire/protocol.js";
import { Bytes, EngineMessageSchema, RunnerMessageSchema } from "./protocol.js";

export const RUNNER_PROTOCOL_SCHEMA_ID = "https://enclave.dev/schemas/runner-protocol.schema.json";

export type JsonSchema = z.core.JSONSchema.JSONSchema;

const BYTES_JSON: JsonSchema = {
  type: "object",
  properties: { $bytes: { type: "string", contentEncoding: "base64" } },
  required: ["$bytes"],
  additionalProperties: false,
};

/** The schema of every message on `GET /runners/connect`: one of RunnerMessage or EngineMessage. */
export function runnerProtocolJsonSchema(): JsonSchema {
  const generated = z.toJSONSchema(z.union([RunnerMessageSchema, EngineMessageSchema]), {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
    override: (ctx) => {
      // Binary is a Uint8Array in memory, { "$bytes": BASE64 } on the wire.
      if (ctx.zodSchema === Bytes) {
        const description = ctx.jsonSchema.description;
        for (const key of Object.keys(ctx.jsonSchema))
          delete (ctx.jsonSchema as Record<string, unknown>)[key];
        Object.assign(ctx.jsonSchema, BYTES_JSON, description ? { description } : {});
      }
    },
  });
  const { $schema: _dialect, ...rest } = generated;
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: RUNNER_PROTOCOL_SCHEMA_ID,
    title: `Enclave runner protocol, version ${RUNNER_PROTOCOL_VERSION}`,
    description:
      "JSON text messages on the WebSocket GET /runners/connect between an Enclave engine and a runner (see docs/runner-protocol.md). RunnerMessage goes from the runner to the engine, EngineMessage from the engine to the runner.",
    ...rest,
  };
}
