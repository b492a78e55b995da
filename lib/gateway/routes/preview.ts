/**
 * `ANY /gateway/{actorId}/preview/{token}/*`: signed preview URLs. The token is the only
 * credential (auth "none" for the gateway); it is checked against the store first, so a guessed,
 * malformed, revoked or expired token gets 404 without waking anything. A valid one wakes the
 * workspace and is proxied into its port through the actor's `/port/{port}/...` handler.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { checkPreviewToken } from "../../engine/previews.js";
import { EnclaveError, Errors } from "../../errors.js";
import type { GatewayDeps } from "../server.js";

const PREVIEW_PATH = /^\/gateway\/[^/]*\/preview\/[^/]*(\/.*)?$/;

// Never forwarded into the VM: credentials for the gateway and the hop itself.
const DROPPED = new Set([
  "authorization",
  "cookie-enclave",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
]);

export async function previewRoutes(app: FastifyInstance, { engine }: GatewayDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  const handler = async (
    req: FastifyRequest<{ Params: { id: string; token: string } }>,
    reply: FastifyReply,
  ) => {
    const target = await checkPreviewToken(engine, req.params.id, req.params.token);
    if (!target) throw new EnclaveError(Errors.wsPreviewNotFound);
    const live = await engine.acquire(target.namespace, target.actorId);
    const q = req.url.indexOf("?");
    const rawPath = q === -1 ? req.url : req.url.slice(0, q);
    const rest = PREVIEW_PATH.exec(rawPath)?.[1] ?? "/";
    const url = new URL(`http://actor/port/${target.port}${rest}${q === -1 ? "" : req.url.slice(q)}`);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (DROPPED.has(name) || value === undefined) continue;
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

  const methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
  app.route({
    method: [...methods],
    url: "/gateway/:id/preview/:token/*",
    config: { auth: "none" },
    handler,
  });
  app.route({ method: [...methods], url: "/gateway/:id/preview/:token", config: { auth: "none" }, handler });
}
