/** Calling actors over HTTP: actions, and the actor's own raw request handler. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ActionCaller } from "../../engine/types.js";
import { Errors, err } from "../../errors.js";
import { encodeWire, reviveWire } from "../../wire/index.js";
import type { GatewayDeps } from "../server.js";

const actionSchema = {
  params: {
    type: "object",
    required: ["id", "action"],
    properties: {
      id: { type: "string", minLength: 1, maxLength: 64 },
      action: { type: "string", minLength: 1, maxLength: 128 },
    },
  },
  body: {
    anyOf: [
      { type: "null" },
      {
        type: "object",
        additionalProperties: false,
        properties: { args: { type: "array" } },
      },
    ],
  },
} as const;

/** The header an HTTP action carries the client's connection params in (URI-encoded JSON). */
export const CONN_PARAMS_HEADER = "x-enclave-conn-params";

/**
 * The caller of an HTTP action, for the actor's onBeforeConnect. The headers are built only if
 * the hook reads them (most actors have no hook; this is the hot path).
 */
function httpCaller(req: FastifyRequest): ActionCaller {
  const raw = req.headers[CONN_PARAMS_HEADER];
  let params: unknown;
  if (typeof raw === "string") {
    try {
      params = reviveWire(JSON.parse(decodeURIComponent(raw)) as unknown);
    } catch {
      throw err(Errors.badRequest, `The ${CONN_PARAMS_HEADER} header must be URI-encoded JSON`);
    }
  }
  let headers: Record<string, string> | undefined;
  return {
    params,
    get headers() {
      if (headers === undefined) {
        headers = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (k === "authorization" || k === CONN_PARAMS_HEADER || v === undefined) continue;
          headers[k] = Array.isArray(v) ? v.join(", ") : v;
        }
      }
      return headers;
    },
  };
}

export function actionRoutes(app: FastifyInstance, { engine }: GatewayDeps): void {
  app.post<{ Params: { id: string; action: string }; Body: { args?: unknown[] } | null }>(
    "/gateway/:id/action/:action",
    { config: { auth: "public" }, schema: actionSchema },
    async (req, reply) => {
      // The whole body is walked so nesting depth counts the same as on a WebSocket.
      const args = reviveWire(req.body)?.args ?? [];
      const output = await engine.action(
        req.namespace,
        req.params.id,
        req.params.action,
        args,
        httpCaller(req),
      );
      // Serialized here so Uint8Array outputs become { $bytes } (fastify's serializer would not).
      return reply.type("application/json; charset=utf-8").send(encodeWire({ output: output ?? null }));
    },
  );
}

const RAW_REQUEST_PATH = /^\/gateway\/[^/]*\/request(\/.*)?$/;

/** Raw requests get their own encapsulated context: bodies pass through as bytes, any type. */
export async function requestRoutes(app: FastifyInstance, { engine }: GatewayDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  const handler = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const live = await engine.acquire(req.namespace, req.params.id);
    // The path after `/request`, exactly as sent (still percent-encoded: `%2F` stays one segment).
    const q = req.url.indexOf("?");
    const rawPath = q === -1 ? req.url : req.url.slice(0, q);
    const rest = RAW_REQUEST_PATH.exec(rawPath)?.[1] ?? "";
    // Prefixed, not resolved against a base: `//host/x` must stay a path, not become a host.
    const url = new URL(`http://actor${rest || "/"}${q === -1 ? "" : req.url.slice(q)}`);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      // The credential was for the gateway; the actor never sees it.
      if (name === "authorization" || value === undefined) continue;
      headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    const init: RequestInit = { method: req.method, headers };
    if (req.body instanceof Buffer && req.method !== "GET" && req.method !== "HEAD") init.body = req.body;
    const res = await live.request(new Request(url, init));
    reply.code(res.status);
    res.headers.forEach((value, name) => {
      if (name !== "content-length" && name !== "transfer-encoding") reply.header(name, value);
    });
    return reply.send(Buffer.from(await res.arrayBuffer()));
  };

  app.route({
    method: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    url: "/gateway/:id/request/*",
    config: { auth: "public" },
    handler,
  });
  app.route({
    method: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    url: "/gateway/:id/request",
    config: { auth: "public" },
    handler,
  });
}
