/**
 * The wire contract shared by the gateway and every client (see docs/api.md). Changing a shape
 * here is a protocol change: bump API_VERSION.
 */
import type { WireError } from "../errors.js";

export const API_VERSION = 1;
export const RUNNER_PROTOCOL_VERSION = 1;

export type ActorStatus = "running" | "sleeping" | "destroyed";

/** An actor as the API returns it. Times are epoch milliseconds. */
export interface WireActor {
  actorId: string;
  name: string;
  key: string[];
  namespace: string;
  status: ActorStatus;
  createdAt: number;
}

export interface GetOrCreateRequest {
  name: string;
  key: string | string[];
  input?: unknown;
}
export interface GetOrCreateResponse {
  actor: WireActor;
  created: boolean;
}
export interface CreateResponse {
  actor: WireActor;
}
export interface ListActorsResponse {
  actors: WireActor[];
  cursor: string | null;
}
export interface ActionRequest {
  args?: unknown[];
}
export interface ActionResponse {
  output: unknown;
}

/** Messages a client sends on `GET /gateway/{id}/connect`. */
export type ClientMessage =
  | { t: "action"; id: number; name: string; args: unknown[] }
  | { t: "sub"; event: string }
  | { t: "unsub"; event: string };

/** Messages the engine sends on `GET /gateway/{id}/connect`. */
export type ServerMessage =
  | { t: "init"; actorId: string; connectionId: string }
  | { t: "result"; id: number; output: unknown }
  | { t: "error"; id?: number; error: WireError }
  | { t: "event"; name: string; args: unknown[] };

/** WebSocket subprotocol carrying a token, for browsers that cannot set headers. */
export const TOKEN_SUBPROTOCOL_PREFIX = "enclave.token.";
/** Subprotocol naming the JSON message format; always offered by clients. */
export const WS_PROTOCOL = "enclave.v1";

/** Close codes used by the gateway. */
export const CloseCodes = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  tooLarge: 1009,
  rejected: 4003,
  notFound: 4004,
  destroyed: 4010,
  stopping: 4503,
} as const;

/**
 * Property names a client handle or connection uses for itself; an actor action may not take
 * one (checked by `actor()`), so typed action methods never collide with them.
 */
export const RESERVED_ACTION_NAMES: ReadonlySet<string> = new Set([
  "resolve",
  "action",
  "connect",
  "fetch",
  "getGatewayUrl",
  "on",
  "once",
  "onStatusChange",
  "onError",
  "status",
  "dispose",
  "then",
  "constructor",
  "toString",
  "toJSON",
  "valueOf",
]);
