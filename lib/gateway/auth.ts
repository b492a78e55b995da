/**
 * Who is calling, and may they use this route? Every route declares its level in
 * `config.auth`; a route without one is a startup error (see server.ts).
 *
 * Levels nest: the admin token opens every route of every namespace; a namespace secret token
 * opens secret and public routes of its namespace; a public token only public routes.
 */
import { createHash, hash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Errors, err } from "../errors.js";
import { TOKEN_SUBPROTOCOL_PREFIX } from "../wire/protocol.js";

export type RouteAuth = "none" | "public" | "secret" | "admin";

export const ROUTE_AUTH_LEVELS: readonly RouteAuth[] = ["none", "public", "secret", "admin"];

export type Principal = { kind: "admin" } | { kind: "secret" | "public"; namespace: string; tokenId: string };

/** The outcome of presenting a credential: who it is, or why it is refused. */
export type Verdict =
  | { ok: true; principal: Principal }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "revoked" | "expired" };

/** Resolves a presented token. Invalid is 401; revoked or expired (a real token, no longer good) is 403. */
export interface TokenVerifier {
  check(token: string): Verdict;
}

/** Knows which namespaces exist. */
export interface NamespaceCatalog {
  exists(name: string): Promise<boolean>;
}

export function sha256(text: string): Buffer {
  // crypto.hash (Node >= 20.12) is the one-shot form: no Hash object per request.
  return typeof hash === "function"
    ? hash("sha256", text, "buffer")
    : createHash("sha256").update(text, "utf8").digest();
}

/** Compares a presented token with a stored digest in constant time (digests have equal length). */
export function tokenMatches(presented: string, digest: Buffer): boolean {
  return timingSafeEqual(sha256(presented), digest);
}

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    principal?: Principal;
    /** The namespace this request acts in (resolved from the credential and ?namespace=). */
    namespace: string;
  }
}

const BEARER = /^Bearer ([\x21-\x7e]+)$/;
export const NAMESPACE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The token from `Authorization: Bearer`, or from the WebSocket subprotocol; undefined if absent. */
export function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const m = BEARER.exec(header);
    if (!m?.[1]) throw err(Errors.unauthenticated, "The Authorization header must be `Bearer TOKEN`");
    return m[1];
  }
  const protocols = request.headers["sec-websocket-protocol"];
  if (typeof protocols === "string") {
    for (const p of protocols.split(",")) {
      const proto = p.trim();
      if (proto.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) return proto.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
    }
  }
  return undefined;
}

const RANK: Record<RouteAuth, number> = { none: 0, public: 1, secret: 2, admin: 3 };

export function makeAuthHook(verifier: TokenVerifier, namespaces: NamespaceCatalog) {
  return async function authHook(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const level = request.routeOptions.config.auth;
    if (level === undefined || level === "none") return;
    const token = presentedToken(request);
    if (token === undefined) throw err(Errors.unauthenticated);
    const verdict = verifier.check(token);
    if (!verdict.ok) {
      throw verdict.reason === "invalid" ? err(Errors.unauthenticated) : err(Errors.forbidden);
    }
    const principal = verdict.principal;
    // Every value of `?namespace=` (a repeated parameter parses as a list): a namespace token
    // naming any namespace but its own is refused, and a namespace given twice is an error,
    // never a guess (it must not fall back to "default").
    const query = request.query as Record<string, unknown> | undefined;
    const raw = query?.namespace;
    const asked: unknown[] = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    if (principal.kind !== "admin") {
      if (RANK[principal.kind] < RANK[level]) throw err(Errors.forbidden);
      if (asked.some((ns) => ns !== principal.namespace)) throw err(Errors.forbidden);
    }
    if (asked.length > 1) throw err(Errors.badRequest, "Give `namespace` at most once");
    if (principal.kind === "admin") {
      const ns = asked[0] ?? "default";
      if (typeof ns !== "string" || !NAMESPACE_NAME.test(ns) || !(await namespaces.exists(ns))) {
        throw err(Errors.namespaceNotFound, `No namespace named "${String(ns).slice(0, 64)}"`);
      }
      request.namespace = ns;
    } else {
      request.namespace = principal.namespace;
    }
    request.principal = principal;
  };
}
