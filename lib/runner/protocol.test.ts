import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { EnclaveError } from "../errors.js";
import { encodeWire } from "../wire/codec.js";
import { RUNNER_PROTOCOL_VERSION } from "../wire/protocol.js";
import { REGENERATE_COMMAND, SCHEMA_FILE, renderSchemaFile } from "./generate-schema.js";
import { runnerProtocolJsonSchema } from "./json-schema.js";
import {
  EngineMessageSchema,
  RunnerMessageSchema,
  claimedVersion,
  mismatchMessage,
  parseEngineFrame,
  parseEngineMessage,
  parseRunnerFrame,
  parseRunnerMessage,
  type EngineMessage,
  type RunnerMessage,
} from "./protocol.js";

const bytes = (...b: number[]) => new Uint8Array(b);
const error = { group: "user", code: "nope", message: "no", metadata: { n: 1 } };
const record = {
  actorId: "a1",
  name: "counter",
  key: ["k"],
  namespace: "default",
  createdAt: 1,
  initialized: false,
  input: { start: 2 },
};

/** One sample of every message (and of the optional parts). */
const runnerSamples: RunnerMessage[] = [
  { t: "hello", protocolVersion: 1, types: ["counter", "chat"], runnerName: "app-1", runnerId: "r_1" },
  { t: "hello", protocolVersion: 1, types: [] },
  { t: "goodbye" },
  { t: "result", id: 1, output: { bin: bytes(1, 2), list: [1, "x", null] } },
  { t: "result", id: 2 },
  { t: "started", id: 3, sleepTimeout: 30_000 },
  { t: "response", id: 4, status: 201, headers: [["x-a", "1"]], body: bytes(104, 105) },
  { t: "error", id: 5, error, status: 400 },
  { t: "loadState", id: 6, actorId: "a1" },
  { t: "initialize", id: 7, actorId: "a1", state: bytes(123, 125) },
  {
    t: "write",
    id: 8,
    actorId: "a1",
    state: bytes(1),
    kv: [
      { type: "put", key: bytes(1), value: bytes(2) },
      { type: "del", key: bytes(3) },
    ],
  },
  { t: "write", id: 9, actorId: "a1", kv: [] },
  { t: "kvGet", id: 10, actorId: "a1", keys: [bytes(1), bytes(2)] },
  { t: "kvList", id: 11, actorId: "a1", prefix: bytes(), limit: 10, reverse: true },
  { t: "schedule", id: 12, actorId: "a1", at: 5, action: "tick", args: [1] },
  { t: "cancelScheduled", id: 13, actorId: "a1", callId: "c1" },
  { t: "listScheduled", id: 14, actorId: "a1" },
  { t: "requestSleep", actorId: "a1" },
  { t: "requestDestroy", actorId: "a1" },
  { t: "connSend", actorId: "a1", connId: "c1", name: "changed", args: [3, bytes(9)] },
  { t: "connClose", actorId: "a1", connId: "c1", code: 1000, reason: "bye" },
  { t: "pong", at: 7 },
  { t: "tunnelData", tunnelId: "t1", data: bytes(1, 2) },
  { t: "tunnelEnd", tunnelId: "t1" },
  { t: "tunnelClose", tunnelId: "t1", reason: "gone" },
];

const engineSamples: EngineMessage[] = [
  {
    t: "welcome",
    protocolVersion: 1,
    runnerId: "r_1",
    heartbeatMs: 5000,
    maxMessageBytes: 1024,
    limits: { stateBytes: 10 },
    actors: { sleepTimeoutMs: 1000, actionTimeoutMs: 2000 },
  },
  { t: "refused", error: { group: "runner", code: "protocol_mismatch", message: "m" } },
  { t: "start", id: 1, actor: record },
  { t: "action", id: 2, actorId: "a1", name: "increment", args: [1], connId: "c1" },
  { t: "action", id: 3, actorId: "a1", name: "get", args: [] },
  { t: "connect", id: 4, actorId: "a1", connId: "c1", params: { u: 1 }, headers: { "x-a": "b" } },
  { t: "disconnect", id: 5, actorId: "a1", connId: "c1" },
  { t: "request", id: 6, actorId: "a1", method: "POST", url: "http://actor/x", headers: [], body: bytes(1) },
  { t: "stop", id: 7, actorId: "a1", reason: "sleep" },
  { t: "subscribe", actorId: "a1", connId: "c1", event: "changed", on: true },
  { t: "ping", at: 1 },
  { t: "reply", id: 8, value: [bytes(1), null] },
  { t: "reply", id: 9 },
  { t: "replyError", id: 10, error, status: 400 },
  { t: "tunnelOpen", id: 11, actorId: "a1", tunnelId: "t1", target: "port:3000" },
  { t: "tunnelData", tunnelId: "t1", data: bytes(3) },
  { t: "tunnelEnd", tunnelId: "t1" },
  { t: "tunnelClose", tunnelId: "t1" },
];

function discriminators(schema: typeof RunnerMessageSchema | typeof EngineMessageSchema): string[] {
  return schema.options.map((o) => String(o.shape.t.value)).sort();
}

describe("runner protocol schema", () => {
  it("schemas/runner-protocol.schema.json matches the zod schemas", async () => {
    const wanted = await renderSchemaFile();
    let current = "";
    try {
      current = readFileSync(SCHEMA_FILE, "utf8");
    } catch {
      // missing: fails below
    }
    expect(
      current === wanted,
      `schemas/runner-protocol.schema.json is out of date with lib/runner/protocol.ts; run: ${REGENERATE_COMMAND}`,
    ).toBe(true);
  });

  it("the samples cover every message type", () => {
    expect([...new Set(runnerSamples.map((m) => m.t))].sort()).toEqual(discriminators(RunnerMessageSchema));
    expect([...new Set(engineSamples.map((m) => m.t))].sort()).toEqual(discriminators(EngineMessageSchema));
  });

  it("every message, as sent on the wire, is valid under the JSON Schema and parses back the same", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(runnerProtocolJsonSchema());
    for (const m of runnerSamples) {
      const text = encodeWire(m);
      expect(validate(JSON.parse(text)), `${text}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      expect(parseRunnerMessage(text)).toEqual(m);
    }
    for (const m of engineSamples) {
      const text = encodeWire(m);
      expect(validate(JSON.parse(text)), `${text}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      expect(parseEngineMessage(text)).toEqual(m);
    }
    // Binary arrives as Uint8Array, inside values too.
    const write = parseRunnerMessage(encodeWire(runnerSamples[10]));
    expect(write.t === "write" && write.state).toBeInstanceOf(Uint8Array);
    const result = parseRunnerMessage(encodeWire(runnerSamples[3])) as { output: { bin: unknown } };
    expect(result.output.bin).toEqual(bytes(1, 2));
  });

  it("a frame may carry a batch: a JSON array of messages, each validated, in order", () => {
    const batch = `[${encodeWire(runnerSamples[2])},${encodeWire(runnerSamples[21])}]`;
    expect(parseRunnerFrame(batch)).toEqual([runnerSamples[2], runnerSamples[21]]);
    expect(parseEngineFrame(encodeWire(engineSamples[10]))).toEqual([engineSamples[10]]);
    expect(() => parseRunnerFrame(`[${encodeWire(runnerSamples[2])},{"t":"nope"}]`)).toThrow(
      /does not follow/,
    );
  });

  it("refuses what does not follow the protocol with runner/protocol_error naming the problem", () => {
    const bad = [
      ["not json", /not valid JSON/],
      [JSON.stringify({ t: "nope" }), /does not follow protocol/],
      [JSON.stringify({ t: "pong", at: 1, extra: true }), /"pong".*extra/],
      [JSON.stringify({ t: "write", id: 1, actorId: "a", state: "text", kv: [] }), /"write".*state/],
      [JSON.stringify({ t: "hello", protocolVersion: 1, types: ["no spaces"] }), /"hello".*types/],
    ] as const;
    for (const [text, message] of bad) {
      let caught: unknown;
      try {
        parseRunnerMessage(text);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(EnclaveError);
      expect(caught).toMatchObject({ group: "runner", code: "protocol_error" });
      expect((caught as Error).message).toMatch(message);
    }
  });

  it("reads the version of a hello before validating it, and names both versions", () => {
    const future = JSON.stringify({ t: "hello", protocolVersion: 2, types: ["x"], somethingNew: {} });
    expect(() => parseRunnerMessage(future)).toThrow();
    expect(claimedVersion(future)).toEqual({ t: "hello", protocolVersion: 2 });
    expect(claimedVersion("[")).toBeUndefined();
    expect(mismatchMessage(2, RUNNER_PROTOCOL_VERSION)).toBe(
      `runner speaks protocol 2, this engine speaks ${RUNNER_PROTOCOL_VERSION}`,
    );
  });
});
