/**
 * Every error the engine can return, declared once (as fastify keeps its coded errors in one
 * file). The wire shape is `{ group, code, message, metadata? }`; `status` is the HTTP status.
 * docs/errors.md is generated from this table by `npm run docs:errors` and checked for drift.
 */

export interface ErrorSpec {
  readonly group: string;
  readonly code: string;
  readonly status: number;
  readonly message: string;
}

function spec(group: string, code: string, status: number, message: string): ErrorSpec {
  return { group, code, status, message };
}

export const Errors = {
  // request: problems with what the caller sent
  badRequest: spec("request", "invalid", 400, "The request is not valid"),
  malformedJson: spec("request", "malformed_json", 400, "The request body is not valid JSON"),
  bodyTooLarge: spec("request", "body_too_large", 413, "The request body is larger than the limit"),
  unsupportedMediaType: spec(
    "request",
    "unsupported_media_type",
    415,
    "The request body must be application/json",
  ),
  routeNotFound: spec("request", "route_not_found", 404, "No such route"),
  methodNotAllowed: spec("request", "method_not_allowed", 405, "Method not allowed on this route"),
  upgradeRequired: spec("request", "upgrade_required", 426, "This route takes a WebSocket upgrade"),
  urlTooLong: spec("request", "url_too_long", 414, "A segment of the URL path is longer than the limit"),
  headersTooLarge: spec("request", "headers_too_large", 431, "The request headers are larger than the limit"),
  requestTimeout: spec("request", "timeout", 408, "The request was not received in time"),

  // auth
  unauthenticated: spec("auth", "unauthenticated", 401, "A valid credential is required"),
  forbidden: spec("auth", "forbidden", 403, "This credential may not do that"),

  // namespaces
  namespaceNotFound: spec("namespace", "not_found", 404, "No such namespace"),
  namespaceAlreadyExists: spec(
    "namespace",
    "already_exists",
    409,
    "A namespace with this name already exists",
  ),
  namespaceNotEmpty: spec(
    "namespace",
    "not_empty",
    409,
    "The namespace still has actors; destroy them first",
  ),
  namespaceProtected: spec("namespace", "protected", 409, "The default namespace cannot be deleted"),
  invalidNamespace: spec(
    "namespace",
    "invalid_name",
    400,
    "A namespace name is 1-63 characters of a-z, 0-9 and -, starting with a letter or digit",
  ),

  // tokens
  tokenNotFound: spec("token", "not_found", 404, "No such token"),

  // actors: the directory
  actorNotFound: spec("actor", "not_found", 404, "No such actor"),
  actorAlreadyExists: spec("actor", "already_exists", 409, "An actor with this name and key already exists"),
  actorTypeNotFound: spec("actor", "type_not_found", 404, "No actor type of that name is registered"),
  actorDestroyed: spec("actor", "destroyed", 410, "The actor has been destroyed"),
  invalidKey: spec("actor", "invalid_key", 400, "The actor key is not valid"),

  // actors: the runtime
  actionNotFound: spec("actor", "action_not_found", 404, "The actor has no action of that name"),
  actionTimedOut: spec("actor", "action_timed_out", 504, "The action did not finish within its timeout"),
  internal: spec("actor", "internal_error", 500, "Internal error"),
  connectionRejected: spec("actor", "connection_rejected", 403, "The actor rejected the connection"),
  noRequestHandler: spec("actor", "no_request_handler", 404, "The actor does not handle raw HTTP requests"),
  stopping: spec("actor", "stopping", 503, "The engine is shutting down; retry against a running engine"),
  invalidSchedule: spec("actor", "invalid_schedule", 400, "The scheduled call is not valid"),
  stateNotSerializable: spec(
    "actor",
    "state_not_serializable",
    500,
    "The actor state cannot be serialized (only JSON values and Uint8Array are allowed)",
  ),

  // limits
  keyTooLarge: spec("limit", "key_too_large", 400, "The actor key is larger than the limit"),
  inputTooLarge: spec("limit", "input_too_large", 413, "The actor input is larger than the limit"),
  stateTooLarge: spec("limit", "state_too_large", 413, "The actor state is larger than the limit"),
  kvKeyTooLarge: spec("limit", "kv_key_too_large", 400, "The KV key is larger than the limit"),
  kvValueTooLarge: spec("limit", "kv_value_too_large", 413, "The KV value is larger than the limit"),
  kvBatchTooLarge: spec("limit", "kv_batch_too_large", 413, "The KV batch is larger than the limit"),
  messageTooLarge: spec("limit", "message_too_large", 413, "The message is larger than the limit"),
  tooManyAlarms: spec("limit", "too_many_alarms", 400, "The actor has too many scheduled calls"),

  // runners (runner mode: actor code hosted by apps connected to a standalone engine)
  noRunner: spec(
    "runner",
    "no_runner",
    503,
    "No connected runner hosts this actor type; retry when one has connected",
  ),
  runnerLost: spec(
    "runner",
    "runner_lost",
    503,
    "The runner hosting the actor went away; retry (the actor starts again on a runner)",
  ),
  runnerProtocolMismatch: spec(
    "runner",
    "protocol_mismatch",
    400,
    "The runner and the engine speak different runner protocol versions",
  ),
  runnerProtocolError: spec(
    "runner",
    "protocol_error",
    400,
    "The runner or the engine sent a message that does not follow the runner protocol",
  ),

  // store
  storeUnavailable: spec("store", "unavailable", 503, "The store is not open"),

  // workspace: the VM's errno-style errors, the code being the errno name clients branch on
  wsNotFound: spec("workspace", "ENOENT", 404, "No such file, directory or command"),
  wsExists: spec("workspace", "EEXIST", 409, "The path already exists"),
  wsNotDirectory: spec("workspace", "ENOTDIR", 400, "A component of the path is not a directory"),
  wsIsDirectory: spec("workspace", "EISDIR", 400, "The path is a directory"),
  wsNotEmpty: spec("workspace", "ENOTEMPTY", 409, "The directory is not empty"),
  wsAccess: spec("workspace", "EACCES", 403, "Permission denied inside the workspace"),
  wsPermission: spec("workspace", "EPERM", 403, "The operation is not permitted inside the workspace"),
  wsReadOnly: spec("workspace", "EROFS", 403, "The path is on a read-only mount"),
  wsInvalid: spec("workspace", "EINVAL", 400, "The argument is not valid for this operation"),
  wsLoop: spec("workspace", "ELOOP", 400, "Too many levels of symbolic links"),
  wsCrossMount: spec("workspace", "EXDEV", 400, "The operation cannot cross mounts"),
  wsNameTooLong: spec("workspace", "ENAMETOOLONG", 400, "The path or a name in it is too long"),
  wsNoSpace: spec("workspace", "ENOSPC", 507, "The workspace filesystem limit is reached"),
  wsTooManyProcesses: spec("workspace", "EAGAIN", 429, "The workspace process limit is reached"),
  wsNoSuchProcess: spec("workspace", "ESRCH", 404, "No such process"),
  wsNoMemory: spec("workspace", "ENOMEM", 507, "The workspace memory limit is reached"),
  wsNotExecutable: spec("workspace", "ENOEXEC", 400, "The file is not an executable program"),
  wsIo: spec("workspace", "EIO", 400, "The workspace operation failed"),
  wsNoSuchShell: spec("workspace", "no_such_shell", 404, "No such shell; open one with openShell"),
  wsPortNotListening: spec(
    "workspace",
    "port_not_listening",
    502,
    "Nothing in the workspace listens on that port",
  ),
  wsFetchTimeout: spec(
    "workspace",
    "fetch_timeout",
    504,
    "The server in the workspace did not answer in time",
  ),
  wsBadResponse: spec(
    "workspace",
    "bad_response",
    502,
    "The server in the workspace sent an invalid or too large response",
  ),
  wsPreviewNotFound: spec(
    "workspace",
    "preview_not_found",
    404,
    "No such preview URL, or it expired or was revoked",
  ),
  wsTunnelUnsupported: spec(
    "workspace",
    "tunnel_unsupported",
    501,
    "This connection cannot be carried to an actor hosted by a runner",
  ),
  wsConnectionRefused: spec("workspace", "ECONNREFUSED", 502, "The connection was refused"),
  wsSoftwareMissing: spec(
    "workspace",
    "software_missing",
    503,
    "The workspace software is not built on this engine (npm run build:software)",
  ),

  // user: the code and message come from the actor's UserError
  user: spec("user", "user_error", 400, "The actor raised an error"),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof Errors;

/** The JSON body of every error response. */
export interface WireError {
  group: string;
  code: string;
  message: string;
  metadata?: unknown;
}

/** An error with a catalogue entry; the gateway turns it into a response as is. */
export class EnclaveError extends Error {
  readonly group: string;
  readonly code: string;
  readonly status: number;
  readonly metadata: unknown;

  constructor(spec: ErrorSpec, message?: string, metadata?: unknown) {
    super(message ?? spec.message);
    this.name = "EnclaveError";
    this.group = spec.group;
    this.code = spec.code;
    this.status = spec.status;
    this.metadata = metadata;
  }

  toWire(): WireError {
    const out: WireError = { group: this.group, code: this.code, message: this.message };
    if (this.metadata !== undefined) out.metadata = this.metadata;
    return out;
  }
}

export interface UserErrorOptions {
  /** Machine-readable code the client can branch on; defaults to `user_error`. */
  code?: string;
  /** JSON-serializable details passed to the client as is. */
  metadata?: unknown;
}

/**
 * An error an actor throws on purpose: it reaches the client intact (group `user`, its code,
 * message and metadata). Any other error thrown by actor code is reported as an internal error.
 */
export class UserError extends Error {
  readonly code: string;
  readonly metadata: unknown;

  constructor(message: string, options: UserErrorOptions = {}) {
    super(message);
    this.name = "UserError";
    this.code = options.code ?? "user_error";
    this.metadata = options.metadata;
  }

  toWire(): WireError {
    const out: WireError = { group: "user", code: this.code, message: this.message };
    if (this.metadata !== undefined) out.metadata = this.metadata;
    return out;
  }
}

export function err(spec: ErrorSpec, message?: string, metadata?: unknown): EnclaveError {
  return new EnclaveError(spec, message, metadata);
}
