/**
 * Raw HTTP to an actor's onRequest handler, shared by `/gateway/{id}/request/*` and preview
 * URLs: the part of the path after the route's prefix, the headers minus the ones the gateway
 * keeps to itself, the body as bytes; the answer copied back as is.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { LiveActor } from "../../engine/types.js";

/** Registers a parser that hands every body over as bytes (raw routes take any content type). */
export function takeRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
}

/**
 * The path (still percent-encoded: `%2F` stays one segment) and query after `prefix`, which
 * must match the start of the request path and capture the rest as group 1.
 */
export function pathAfter(req: FastifyRequest, prefix: RegExp): string {
  const q = req.url.indexOf("?");
  const rawPath = q === -1 ? req.url : req.url.slice(0, q);
  return `${prefix.exec(rawPath)?.[1] || "/"}${q === -1 ? "" : req.url.slice(q)}`;
}

/** Sends `req` to the actor as a Request for `http://actor{path}` and copies the answer back. */
export async function forwardToActor(
  live: LiveActor,
  req: FastifyRequest,
  reply: FastifyReply,
  path: string,
  dropped: ReadonlySet<string>,
): Promise<FastifyReply> {
  // Prefixed, not resolved against a base: `//host/x` must stay a path, not become a host.
  const url = new URL(`http://actor${path}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (dropped.has(name) || value === undefined) continue;
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
}
