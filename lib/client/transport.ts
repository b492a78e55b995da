/** HTTP to the engine: credentials, `?namespace=`, wire encoding and error decoding. */
import { decodeWire, encodeWire } from "../wire/codec.js";
import { ActorError, connectionError, isWireError } from "./errors.js";
import { buildUrl, type Endpoint, type QueryValue } from "./endpoint.js";

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface JsonRequest {
  query?: Record<string, QueryValue>;
  body?: unknown;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export class Transport {
  readonly endpoint: Endpoint;
  readonly #fetch: FetchLike;

  constructor(endpoint: Endpoint, fetchImpl?: FetchLike) {
    this.endpoint = endpoint;
    const f = fetchImpl ?? (globalThis.fetch as FetchLike | undefined);
    if (f === undefined) throw new TypeError("no fetch implementation: pass createClient({ fetch })");
    this.#fetch = f;
  }

  url(path: string, query?: Record<string, QueryValue>): string {
    return buildUrl(this.endpoint, path, query);
  }

  /** Adds `Authorization: Bearer TOKEN` (replacing any the caller set). */
  withAuth(headers?: ConstructorParameters<typeof Headers>[0]): Headers {
    const out = new Headers(headers);
    const token = this.endpoint.token;
    if (token !== undefined) out.set("authorization", `Bearer ${token}`);
    return out;
  }

  /** A request whose 2xx body is wire JSON; anything else becomes an ActorError. */
  async json<T>(method: string, path: string, request: JsonRequest = {}): Promise<T> {
    const headers = this.withAuth({ accept: "application/json", ...request.headers });
    const init: RequestInit = { method, headers };
    if (request.signal !== undefined) init.signal = request.signal;
    if (request.body !== undefined) {
      headers.set("content-type", "application/json");
      init.body = encodeWire(request.body);
    }
    const response = await this.send(this.url(path, request.query), init);
    const text = await readText(response, method, path);
    if (!response.ok) throw errorFromBody(response.status, text);
    try {
      return decodeWire<T>(text);
    } catch {
      throw new ActorError({
        group: "client",
        code: "invalid_response",
        message: `${method} ${path}: the engine answered ${response.status} with a body that is not JSON`,
        status: response.status,
        retryable: false,
      });
    }
  }

  /** A raw request; network failures become a `connection` ActorError, responses are returned as is. */
  async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.#fetch(url, init);
    } catch (error) {
      if ((error as { name?: string } | null)?.name === "AbortError") throw error;
      const detail = describeCause(error);
      throw connectionError(
        "unreachable",
        `cannot reach the engine at ${this.endpoint.baseUrl}${detail ? `: ${detail}` : ""}`,
        error,
      );
    }
  }
}

async function readText(response: Response, method: string, path: string): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw connectionError("disconnected", `${method} ${path}: the response body was cut off`, error);
  }
}

/** An error response (`{ group, code, message, metadata? }`) as an ActorError. */
export function errorFromBody(status: number, text: string): ActorError {
  let body: unknown;
  try {
    body = decodeWire(text);
  } catch {
    body = undefined;
  }
  if (isWireError(body)) return ActorError.fromWire(body, status);
  return new ActorError({
    group: "http",
    code: `status_${status}`,
    message: `the engine answered HTTP ${status} without an error body`,
    status,
  });
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (cause && typeof cause.code === "string") return cause.code;
  if (cause && typeof cause.message === "string") return cause.message;
  return error instanceof Error ? error.message : "";
}
