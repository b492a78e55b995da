/**
 * Preview-token checks for the gateway, straight from the store: a guessed, malformed, revoked
 * or expired token is refused without waking (or even loading) the actor. Tokens are written
 * by the workspace actor under its system KV scope "preview" (lib/workspace/previews.ts).
 */
import { Subspace, packKey } from "../store/keys.js";
import type { Engine } from "./engine.js";
import { PREVIEW_SCOPE, systemKvKey, type PreviewRecord } from "./system-keys.js";

const TOKEN = /^[a-z0-9]{32}$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface PreviewTarget {
  namespace: string;
  actorId: string;
  port: number;
  expiresAt: number;
}

function tokenKey(actorId: string, token: string): Uint8Array {
  const base = packKey([Subspace.kv, actorId]);
  const rel = systemKvKey(PREVIEW_SCOPE, encoder.encode(token));
  const out = new Uint8Array(base.length + rel.length);
  out.set(base);
  out.set(rel, base.length);
  return out;
}

/** The port a valid token opens, or undefined (never says why: no oracle for guessers). */
export async function checkPreviewToken(
  engine: Engine,
  actorId: string,
  token: string,
  now = Date.now(),
): Promise<PreviewTarget | undefined> {
  if (!TOKEN.test(token) || actorId.length === 0 || actorId.length > 64) return undefined;
  const key = tokenKey(actorId, token);
  const raw = await engine.store.get(key);
  if (raw === undefined) return undefined;
  let record: PreviewRecord;
  try {
    record = JSON.parse(decoder.decode(raw)) as PreviewRecord;
  } catch {
    return undefined;
  }
  if (typeof record.expiresAt !== "number" || record.expiresAt <= now) {
    // Purge at once; the actor also purges what is left at its next wake.
    await engine.store.batch([{ type: "del", key }]).catch(() => undefined);
    return undefined;
  }
  const actor = await engine.directory.get(actorId);
  if (!actor || actor.destroyedAt !== undefined) return undefined;
  return { namespace: actor.namespace, actorId, port: record.port, expiresAt: record.expiresAt };
}
