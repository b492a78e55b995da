/**
 * `enclave/client`: a typed client for the engine's HTTP and WebSocket API. Depends on nothing
 * but the wire contract, so it runs in browsers as well as in Node.
 */
export { createClient } from "./client.js";
export type {
  ActorAccessor,
  ActorInput,
  AnyRegistry,
  Client,
  ClientBase,
  ClientOptions,
  CreateOptions,
  HandleOptions,
} from "./client.js";
export type { ActionArgs, ActionResult, ActorHandle, ActorHandleBase, ActorKey } from "./handle.js";
export type {
  ActorConnection,
  ActorConnectionBase,
  ConnectionOptions,
  ConnectionStatus,
  EventListener,
} from "./connection.js";
export { ActorError } from "./errors.js";
export type { ActorErrorInit } from "./errors.js";
export { parseEndpoint } from "./endpoint.js";
export type { Endpoint, EndpointOptions } from "./endpoint.js";
export type { FetchLike } from "./transport.js";
