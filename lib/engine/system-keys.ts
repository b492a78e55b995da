/**
 * Keys of Enclave's own data inside an actor's KV space (workspace files, preview tokens). Here,
 * below both the engine and the actor runtime, because the gateway reads preview tokens
 * straight from the store without waking the actor.
 */
const encoder = new TextEncoder();

/** Every system key starts with this; `c.kv` refuses and hides keys under it. */
export const SYSTEM_KV_PREFIX = encoder.encode("\u0000enclave\u0000");

/** The KV key (relative to the actor's KV space) of `key` under `scope`. */
export function systemKvKey(scope: string, key: Uint8Array = new Uint8Array(0)): Uint8Array {
  const s = encoder.encode(`${scope}\u0000`);
  const out = new Uint8Array(SYSTEM_KV_PREFIX.length + s.length + key.length);
  out.set(SYSTEM_KV_PREFIX);
  out.set(s, SYSTEM_KV_PREFIX.length);
  out.set(key, SYSTEM_KV_PREFIX.length + s.length);
  return out;
}

/** The scope of preview URL tokens: key = the token, value = JSON `PreviewRecord`. */
export const PREVIEW_SCOPE = "preview";

export interface PreviewRecord {
  port: number;
  /** Epoch ms. */
  expiresAt: number;
  createdAt: number;
}
