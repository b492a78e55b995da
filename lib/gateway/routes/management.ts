/** Namespaces and namespace tokens (admin only). A token's secret is in the create answer, once. */
import type { FastifyInstance } from "fastify";
import { Errors, err } from "../../errors.js";
import type { GatewayDeps } from "../server.js";

interface NamespaceBody {
  name: string;
  displayName?: string;
}
interface TokenBody {
  namespace: string;
  kind: "secret" | "public";
  name?: string;
  expiresAt?: number;
}

export function managementRoutes(app: FastifyInstance, { namespaces, tokens, egress }: GatewayDeps): void {
  // Every outbound connection and DNS lookup the engine process attempted (and, in air-gap
  // mode, refused). The conformance suite reads this to prove there was none.
  app.get("/admin/egress", { config: { auth: "admin" } }, async () => ({
    enforcing: egress.enforcing,
    stats: egress.stats(),
    attempts: egress.attempts(),
  }));

  app.get("/namespaces", { config: { auth: "admin" } }, async () => ({
    namespaces: await namespaces.list(),
  }));

  app.post<{ Body: NamespaceBody }>(
    "/namespaces",
    {
      config: { auth: "admin" },
      schema: {
        body: {
          type: "object",
          required: ["name"],
          additionalProperties: false,
          properties: {
            // Checked by the namespace catalogue, so any bad name (empty, too long) gets
            // namespace/invalid_name, not a generic validation error.
            name: { type: "string" },
            displayName: { type: "string", minLength: 1, maxLength: 200 },
          },
        },
      },
    },
    async (req, reply) => {
      const namespace = await namespaces.create(req.body.name, req.body.displayName);
      reply.code(201);
      return { namespace };
    },
  );

  app.delete<{ Params: { name: string } }>(
    "/namespaces/:name",
    { config: { auth: "admin" } },
    async (req) => {
      await namespaces.delete(req.params.name);
      await tokens.revokeNamespace(req.params.name);
      return { ok: true };
    },
  );

  app.get<{ Querystring: { namespace?: string } }>(
    "/tokens",
    {
      config: { auth: "admin" },
      schema: {
        querystring: { type: "object", properties: { namespace: { type: "string", maxLength: 63 } } },
      },
    },
    async (req) => ({ tokens: tokens.list(req.query.namespace) }),
  );

  app.post<{ Body: TokenBody }>(
    "/tokens",
    {
      config: { auth: "admin" },
      schema: {
        body: {
          type: "object",
          required: ["namespace", "kind"],
          additionalProperties: false,
          properties: {
            namespace: { type: "string", minLength: 1, maxLength: 63 },
            kind: { type: "string", enum: ["secret", "public"] },
            name: { type: "string", minLength: 1, maxLength: 200 },
            expiresAt: { type: "integer", minimum: 0 },
          },
        },
      },
    },
    async (req, reply) => {
      if (!(await namespaces.exists(req.body.namespace))) {
        throw err(Errors.namespaceNotFound, `No namespace named "${req.body.namespace}"`);
      }
      const created = await tokens.create(req.body);
      reply.code(201).header("cache-control", "no-store");
      return created;
    },
  );

  app.delete<{ Params: { id: string } }>("/tokens/:id", { config: { auth: "admin" } }, async (req) => {
    if (!(await tokens.revoke(req.params.id))) throw err(Errors.tokenNotFound);
    return { ok: true };
  });
}
