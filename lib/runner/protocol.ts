/**
 * The runner protocol: JSON messages over one WebSocket at `GET /runners/connect`, between a
 * standalone engine and an app hosting actor code (a runner). These zod schemas are the source
 * of truth; `schemas/runner-protocol.schema.json` is generated from them (see
 * generate-schema.ts) and docs/runner-protocol.md describes them. Changing a shape here is a
 * protocol change: bump RUNNER_PROTOCOL_VERSION (lib/wire/protocol.ts).
 *
 * Binary values travel as `{ "$bytes": BASE64 }` (lib/wire codec); a received message is
 * revived (tags become Uint8Array) before it is validated, so `Bytes` fields are Uint8Array.
 */
import { z } from "zod";
import { Errors, err } from "../errors.js";
import { CloseCodes, RUNNER_PROTOCOL_VERSION } from "../wire/protocol.js";
import { reviveWire } from "../wire/codec.js";

export { RUNNER_PROTOCOL_VERSION };

/** Binary: a Uint8Array in memory, `{ "$bytes": BASE64 }` on the wire. */
export const Bytes = z
  .custom<Uint8Array>((v) => v instanceof Uint8Array, "Expected binary")
  .meta({
    id: "Bytes",
    description: 'Binary value: { "$bytes": BASE64 } on the wire',
  });

/** Any JSON value; binary inside it travels as `{ "$bytes": BASE64 }`. */
const Json = z.unknown().describe('Any JSON value (binary inside as { "$bytes": BASE64 })');

const RequestId = z
  .number()
  .int()
  .nonnegative()
  .describe("Request id chosen by the sender, unique among its requests in flight on this socket");
const ActorId = z.string().min(1).max(64).describe("The actor's id");
const ConnId = z.string().min(1).max(64).describe("A client connection's id (engine-assigned)");
const TypeName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,127}$/)
  .describe("An actor type name");
const RunnerIdText = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/)
  .describe("A runner id (engine-assigned)");

export const WireErrorSchema = z
  .strictObject({
    group: z.string(),
    code: z.string(),
    message: z.string(),
    metadata: Json.optional(),
  })
  .meta({
    id: "WireError",
    description: "An error as the API returns it: { group, code, message, metadata? }",
  });

const Status = z.number().int().min(400).max(599).describe("The HTTP status the error answers with");

export const KvOpSchema = z
  .discriminatedUnion("type", [
    z.strictObject({ type: z.literal("put"), key: Bytes, value: Bytes }),
    z.strictObject({ type: z.literal("del"), key: Bytes }),
  ])
  .meta({ id: "KvOp" });

export const WireActorRecord = z
  .strictObject({
    actorId: ActorId,
    name: TypeName,
    key: z.array(z.string()),
    namespace: z.string(),
    createdAt: z.number().describe("Epoch ms"),
    initialized: z.boolean().describe("false: run createState/onCreate and commit with `initialize`"),
    input: Json.optional().describe("The creation input; only while not initialized"),
  })
  .meta({ id: "ActorRecord" });

export const StopReasonSchema = z.enum(["sleep", "destroy", "shutdown"]);

const Headers = z.array(z.tuple([z.string(), z.string()])).describe("HTTP headers as [name, value] pairs");

// ---- runner -> engine --------------------------------------------------------------------------

export const Hello = z
  .strictObject({
    t: z.literal("hello"),
    protocolVersion: z
      .number()
      .int()
      .positive()
      .describe("The runner's protocol version; read before anything else"),
    types: z.array(TypeName).max(1000).describe("Actor types this runner hosts"),
    runnerName: z.string().min(1).max(128).optional().describe("A label for logs (e.g. the host name)"),
    runnerId: RunnerIdText.optional().describe("The id of a previous welcome, when reconnecting"),
    features: z
      .array(z.string().max(64))
      .max(32)
      .optional()
      .describe('Optional capabilities: "tunnel" = byte streams into actors (preview WebSockets)'),
  })
  .meta({ id: "Hello", description: "First message of a runner: who it is and what it hosts" });

export const Goodbye = z.strictObject({ t: z.literal("goodbye") }).meta({
  id: "Goodbye",
  description: "The runner is shutting down: stop placing actors here, drain, close",
});

export const Result = z
  .strictObject({ t: z.literal("result"), id: RequestId, output: Json.optional() })
  .meta({ id: "Result", description: "Success answer to action, connect, disconnect or stop" });

export const Started = z
  .strictObject({
    t: z.literal("started"),
    id: RequestId,
    sleepTimeout: z.number().int().nonnegative(),
  })
  .meta({ id: "Started", description: "Success answer to start: the actor is awake" });

export const ResponseMessage = z
  .strictObject({
    t: z.literal("response"),
    id: RequestId,
    status: z.number().int().min(200).max(599),
    headers: Headers,
    body: Bytes,
  })
  .meta({ id: "Response", description: "Success answer to request: the actor's HTTP response" });

export const ErrorAnswer = z
  .strictObject({ t: z.literal("error"), id: RequestId, error: WireErrorSchema, status: Status })
  .meta({ id: "Error", description: "Failure answer to any engine request" });

const call = <T extends string, S extends z.ZodRawShape>(t: T, shape: S, description: string) =>
  z
    .strictObject({ t: z.literal(t), id: RequestId, actorId: ActorId, ...shape })
    .meta({ id: t[0]!.toUpperCase() + t.slice(1), description });

export const LoadState = call("loadState", {}, "Service call: the actor's state (reply: Bytes or null)");
export const Initialize = call(
  "initialize",
  { state: Bytes },
  "Service call: commit the initial state and mark the actor initialized (reply: null)",
);
export const Write = call(
  "write",
  { state: Bytes.optional(), kv: z.array(KvOpSchema) },
  "Service call: commit a new state and/or KV ops atomically (reply: null, once durable)",
);
export const KvGet = call(
  "kvGet",
  { keys: z.array(Bytes) },
  "Service call: KV values (reply: array of Bytes or null)",
);
export const KvList = call(
  "kvList",
  {
    prefix: Bytes,
    limit: z.number().int().nonnegative().optional(),
    reverse: z.boolean().optional(),
  },
  "Service call: KV entries under a prefix (reply: array of [Bytes, Bytes])",
);
export const Schedule = call(
  "schedule",
  { at: z.number(), action: z.string(), args: z.array(Json) },
  "Service call: persist a scheduled call (reply: its id)",
);
export const CancelScheduled = call(
  "cancelScheduled",
  { callId: z.string() },
  "Service call: cancel a scheduled call (reply: boolean)",
);
export const ListScheduled = call(
  "listScheduled",
  {},
  "Service call: the pending scheduled calls (reply: array of { id, at, action, args, createdAt })",
);

export const RequestSleep = z
  .strictObject({ t: z.literal("requestSleep"), actorId: ActorId })
  .meta({ id: "RequestSleep", description: "Put the actor to sleep (idle past sleepTimeout, or c.sleep())" });
export const RequestDestroy = z
  .strictObject({ t: z.literal("requestDestroy"), actorId: ActorId })
  .meta({ id: "RequestDestroy", description: "Destroy the actor (c.destroy())" });
export const ConnSend = z
  .strictObject({
    t: z.literal("connSend"),
    actorId: ActorId,
    connId: ConnId,
    name: z.string(),
    args: z.array(Json),
  })
  .meta({ id: "ConnSend", description: "An event for one client connection" });
export const ConnClose = z
  .strictObject({
    t: z.literal("connClose"),
    actorId: ActorId,
    connId: ConnId,
    code: z.number().int().min(1000).max(4999),
    reason: z.string().max(123),
  })
  .meta({ id: "ConnClose", description: "Close one client connection" });
// Tunnels: byte streams into an actor (its onTunnel hook), e.g. a preview WebSocket into a
// workspace. Data, end and close travel both ways with the same messages; no answers.
const TunnelId = z.string().min(1).max(64);
export const TunnelData = z
  .strictObject({ t: z.literal("tunnelData"), tunnelId: TunnelId, data: Bytes })
  .meta({ id: "TunnelData", description: "Bytes on a tunnel (either direction)" });
export const TunnelEnd = z
  .strictObject({ t: z.literal("tunnelEnd"), tunnelId: TunnelId })
  .meta({ id: "TunnelEnd", description: "The sender will write no more on this tunnel (half close)" });
export const TunnelClose = z
  .strictObject({ t: z.literal("tunnelClose"), tunnelId: TunnelId, reason: z.string().max(200).optional() })
  .meta({ id: "TunnelClose", description: "The tunnel is gone (either direction)" });

export const Pong = z
  .strictObject({ t: z.literal("pong"), at: z.number() })
  .meta({ id: "Pong", description: "Answer to ping (echoes `at`)" });

export const RunnerMessageSchema = z
  .discriminatedUnion("t", [
    Hello,
    Goodbye,
    Result,
    Started,
    ResponseMessage,
    ErrorAnswer,
    LoadState,
    Initialize,
    Write,
    KvGet,
    KvList,
    Schedule,
    CancelScheduled,
    ListScheduled,
    RequestSleep,
    RequestDestroy,
    ConnSend,
    ConnClose,
    Pong,
    TunnelData,
    TunnelEnd,
    TunnelClose,
  ])
  .meta({ id: "RunnerMessage", description: "A message a runner sends to the engine" });

// ---- engine -> runner --------------------------------------------------------------------------

export const Welcome = z
  .strictObject({
    t: z.literal("welcome"),
    protocolVersion: z.number().int().positive(),
    runnerId: RunnerIdText,
    heartbeatMs: z.number().int().positive().describe("The engine pings this often"),
    maxMessageBytes: z
      .number()
      .int()
      .positive()
      .describe("Longest text frame the engine accepts; longer messages go as binary chunks"),
    limits: z.record(z.string(), z.number()).describe("The engine's limits (limits.* of its config)"),
    actors: z
      .strictObject({
        sleepTimeoutMs: z.number().int().positive(),
        actionTimeoutMs: z.number().int().positive(),
      })
      .describe("The engine's actor defaults (actors.* of its config)"),
  })
  .meta({ id: "Welcome", description: "The handshake succeeded" });

export const Refused = z
  .strictObject({ t: z.literal("refused"), error: WireErrorSchema })
  .meta({ id: "Refused", description: "The engine refuses the runner; the socket closes next" });

const request = <T extends string, S extends z.ZodRawShape>(
  t: T,
  id: string,
  shape: S,
  description: string,
) => z.strictObject({ t: z.literal(t), id: RequestId, ...shape }).meta({ id, description });

export const StartRequest = request(
  "start",
  "Start",
  { actor: WireActorRecord },
  "Boot an actor (createState/onCreate if not initialized, then onWake); answer: started",
);
export const ActionRequest = request(
  "action",
  "Action",
  {
    actorId: ActorId,
    name: z.string(),
    args: z.array(Json),
    connId: ConnId.optional(),
    caller: z
      .strictObject({ params: Json.optional(), headers: z.record(z.string(), z.string()) })
      .optional()
      .describe("An HTTP caller: onBeforeConnect(params) gates the action first"),
  },
  "Run an action; answer: result { output } after its writes were committed",
);
export const ConnectRequest = request(
  "connect",
  "Connect",
  {
    actorId: ActorId,
    connId: ConnId,
    params: Json.optional(),
    headers: z.record(z.string(), z.string()),
  },
  "Accept a client connection (onBeforeConnect, createConnState, onConnect); answer: result",
);
export const DisconnectRequest = request(
  "disconnect",
  "Disconnect",
  { actorId: ActorId, connId: ConnId },
  "A client connection closed (onDisconnect); answer: result",
);
export const HttpRequest = request(
  "request",
  "HttpRequest",
  {
    actorId: ActorId,
    method: z.string(),
    url: z.string(),
    headers: Headers,
    body: Bytes.optional(),
  },
  "A raw HTTP request for the actor's onRequest; answer: response",
);
export const StopRequest = request(
  "stop",
  "Stop",
  { actorId: ActorId, reason: StopReasonSchema },
  "Stop an actor (onSleep or onDestroy, final commit, connections closed); answer: result",
);

export const TunnelOpen = request(
  "tunnelOpen",
  "TunnelOpen",
  { actorId: ActorId, tunnelId: TunnelId, target: z.string().min(1).max(256) },
  'Open a byte stream into the actor (onTunnel); answer: result, then tunnel messages. Only to runners with the "tunnel" feature',
);
export const Subscribe = z
  .strictObject({
    t: z.literal("subscribe"),
    actorId: ActorId,
    connId: ConnId,
    event: z.string(),
    on: z.boolean(),
  })
  .meta({ id: "Subscribe", description: "A client connection (un)subscribes an event; no answer" });
export const Ping = z
  .strictObject({ t: z.literal("ping"), at: z.number() })
  .meta({ id: "Ping", description: "Heartbeat; answer: pong" });
export const Reply = z
  .strictObject({ t: z.literal("reply"), id: RequestId, value: Json.optional() })
  .meta({ id: "Reply", description: "Success answer to a service call" });
export const ReplyError = z
  .strictObject({ t: z.literal("replyError"), id: RequestId, error: WireErrorSchema, status: Status })
  .meta({ id: "ReplyError", description: "Failure answer to a service call" });

export const EngineMessageSchema = z
  .discriminatedUnion("t", [
    Welcome,
    Refused,
    StartRequest,
    ActionRequest,
    ConnectRequest,
    DisconnectRequest,
    HttpRequest,
    StopRequest,
    Subscribe,
    Ping,
    Reply,
    ReplyError,
    TunnelOpen,
    TunnelData,
    TunnelEnd,
    TunnelClose,
  ])
  .meta({ id: "EngineMessage", description: "A message the engine sends to a runner" });

export type RunnerMessage = z.output<typeof RunnerMessageSchema>;
export type EngineMessage = z.output<typeof EngineMessageSchema>;
export type HelloMessage = z.output<typeof Hello>;
export type WelcomeMessage = z.output<typeof Welcome>;
export type WireActorRecordType = z.output<typeof WireActorRecord>;
export type ServiceCall = Extract<
  RunnerMessage,
  {
    t:
      | "loadState"
      | "initialize"
      | "write"
      | "kvGet"
      | "kvList"
      | "schedule"
      | "cancelScheduled"
      | "listScheduled";
  }
>;

/** A runner message of type `T` without its request id (the sender adds it). */
export type RunnerMessageOf<T extends RunnerMessage["t"]> = Omit<Extract<RunnerMessage, { t: T }>, "id">;
/** An engine message of type `T` without its request id (the sender adds it). */
export type EngineMessageOf<T extends EngineMessage["t"]> = Omit<Extract<EngineMessage, { t: T }>, "id">;
/** Any engine request without its id. */
export type EngineRequest = { [T in EngineMessage["t"]]: EngineMessageOf<T> }[EngineMessage["t"]];
/** Any runner message without its id. */
export type RunnerRequest = { [T in RunnerMessage["t"]]: RunnerMessageOf<T> }[RunnerMessage["t"]];

/** Close codes of the runner socket. A runner does not reconnect after the fatal ones. */
export const RunnerCloseCodes = {
  normal: CloseCodes.normal,
  /** The engine is stopping; reconnect with backoff. */
  goingAway: CloseCodes.goingAway,
  /** The token was revoked; the next connection attempt gets 403 (fatal there). */
  tokenRevoked: CloseCodes.rejected,
  /** A message did not follow the protocol (fatal: a bug, not a network problem). */
  protocolError: 4400,
  /** No message from the peer for three heartbeats. */
  heartbeatTimeout: 4408,
  /** Another connection said hello with the same runner id (fatal for the old one). */
  replaced: 4409,
  /** Runner and engine speak different protocol versions (fatal). */
  protocolMismatch: 4426,
} as const;

export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  RunnerCloseCodes.protocolError,
  RunnerCloseCodes.replaced,
  RunnerCloseCodes.protocolMismatch,
]);

/** Deepest nesting accepted in a protocol message (values inside it included). */
const MAX_MESSAGE_DEPTH = 1024;

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join(".") : "(message)"}: ${i.message}`)
    .join("; ");
}

function validate<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const t = (raw as { t?: unknown } | null)?.t;
    throw err(
      Errors.runnerProtocolError,
      `${what}${typeof t === "string" ? ` "${t.slice(0, 32)}"` : ""} does not follow protocol ${RUNNER_PROTOCOL_VERSION}: ${describeIssues(parsed.error)}`,
    );
  }
  return parsed.data;
}

function parseJson(text: string, what: string): unknown {
  try {
    return reviveWire(JSON.parse(text) as unknown, MAX_MESSAGE_DEPTH);
  } catch (e) {
    throw err(Errors.runnerProtocolError, `${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * The messages a text frame (or a joined chunked message) carries: one message object, or a
 * JSON array of them (a batch). Each is validated; throws runner/protocol_error.
 */
function parseFrame<S extends z.ZodType>(schema: S, text: string, what: string): z.output<S>[] {
  const raw = parseJson(text, what);
  if (Array.isArray(raw)) return raw.map((m) => validate(schema, m, what));
  return [validate(schema, raw, what)];
}

/** Parses and validates one message from a runner; throws runner/protocol_error. */
export function parseRunnerMessage(text: string): RunnerMessage {
  return validate(RunnerMessageSchema, parseJson(text, "The runner's message"), "The runner's message");
}

/** Parses and validates one message from the engine; throws runner/protocol_error. */
export function parseEngineMessage(text: string): EngineMessage {
  return validate(EngineMessageSchema, parseJson(text, "The engine's message"), "The engine's message");
}

/** The messages of one frame from a runner (one, or a batch). */
export function parseRunnerFrame(text: string): RunnerMessage[] {
  return parseFrame(RunnerMessageSchema, text, "The runner's message");
}

/** The messages of one frame from the engine (one, or a batch). */
export function parseEngineFrame(text: string): EngineMessage[] {
  return parseFrame(EngineMessageSchema, text, "The engine's message");
}

/**
 * The protocol version a first message claims, read before the message is validated (a runner
 * of another version may send a hello this version would not accept), or undefined.
 */
export function claimedVersion(text: string): { t: unknown; protocolVersion: unknown } | undefined {
  try {
    const raw = JSON.parse(text) as unknown;
    if (raw === null || typeof raw !== "object") return undefined;
    const r = raw as Record<string, unknown>;
    return { t: r.t, protocolVersion: r.protocolVersion };
  } catch {
    return undefined;
  }
}

/** The message the engine and the runner show for a version mismatch: both versions, by name. */
export function mismatchMessage(runnerVersion: unknown, engineVersion: number): string {
  return `runner speaks protocol ${String(runnerVersion)}, this engine speaks ${engineVersion}`;
}
