/** The actor directory over HTTP: get-or-create, create, list, look up, destroy, force sleep. */
import type { FastifyInstance } from "fastify";
import type { ActorRecord } from "../../engine/index.js";
import type { Engine } from "../../engine/index.js";
import { Errors, err } from "../../errors.js";
import { reviveWire, type WireActor } from "../../wire/index.js";
import type { GatewayDeps } from "../server.js";

export function toWireActor(engine: Engine, record: ActorRecord): WireActor {
  return {
    actorId: record.actorId,
    name: record.name,
    key: record.key,
    namespace: record.namespace,
    status: engine.status(record),
    createdAt: record.createdAt,
  };
}

const keySchema = {
  anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }],
} as const;

const createBody = {
  type: "object",
  required: ["name", "key"],
  additionalProperties: false,
  properties: {
    name: { type: "string", minLength: 1, maxLength: 128 },
    key: keySchema,
    input: {},
  },
} as const;

const idParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", minLength: 1, maxLength: 64 } },
} as const;

interface CreateBody {
  name: string;
  key: string | string[];
  input?: unknown;
}

export function actorRoutes(app: FastifyInstance, { engine }: GatewayDeps): void {
  app.put<{ Body: CreateBody }>(
    "/actors",
    { config: { auth: "secret" }, schema: { body: createBody } },
    async (req) => {
      const body = reviveWire(req.body);
      const { record, created } = await engine.getOrCreate(
        req.namespace,
        body.name,
        body.key,
        body.input,
        "getOrCreate",
      );
      return { actor: toWireActor(engine, record), created };
    },
  );

  app.post<{ Body: CreateBody }>(
    "/actors",
    { config: { auth: "secret" }, schema: { body: createBody } },
    async (req, reply) => {
      const body = reviveWire(req.body);
      const { record } = await engine.getOrCreate(req.namespace, body.name, body.key, body.input, "create");
      reply.code(201);
      return { actor: toWireActor(engine, record) };
    },
  );

  app.get<{ Querystring: { name?: string; key?: string[]; cursor?: string; limit: number } }>(
    "/actors",
    {
      config: { auth: "secret" },
      schema: {
        querystring: {
          type: "object",
          properties: {
            namespace: { type: "string" },
            name: { type: "string", minLength: 1, maxLength: 128 },
            key: { type: "array", items: { type: "string" } },
            cursor: { type: "string", maxLength: 4096 },
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
          },
        },
      },
    },
    async (req) => {
      const { name, key, cursor, limit } = req.query;
      if (key !== undefined && name === undefined) {
        throw err(Errors.badRequest, "Filtering by `key` needs `name` too");
      }
      const opts: { name?: string; key?: string[]; cursor?: string; limit: number } = { limit };
      if (name !== undefined) opts.name = name;
      if (key !== undefined) opts.key = key;
      if (cursor !== undefined) opts.cursor = cursor;
      const { records, cursor: next } = await engine.listActors(req.namespace, opts);
      return { actors: records.map((r) => toWireActor(engine, r)), cursor: next };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/actors/:id",
    { config: { auth: "secret" }, schema: { params: idParams } },
    async (req) => ({ actor: toWireActor(engine, await engine.getActor(req.namespace, req.params.id)) }),
  );

  app.delete<{ Params: { id: string } }>(
    "/actors/:id",
    { config: { auth: "secret" }, schema: { params: idParams } },
    async (req) => {
      await engine.destroy(req.namespace, req.params.id);
      return { ok: true };
    },
  );

  app.post<{ Params: { id: string } }>(
    "/actors/:id/sleep",
    { config: { auth: "admin" }, schema: { params: idParams } },
    async (req) => {
      await engine.sleep(req.namespace, req.params.id);
      return { ok: true };
    },
  );
}
