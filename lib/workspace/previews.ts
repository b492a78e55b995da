/**
 * Signed preview URLs: a random token that lets anyone holding it reach one port of one
 * workspace through `/gateway/{actorId}/preview/{token}/...`, until it expires or is revoked.
 * Tokens live in the actor's system storage, so they survive sleep and restart, and the gateway
 * checks them straight from the store without waking the actor.
 */
import { randomBytes } from "node:crypto";
import type { SystemKv } from "../actor/index.js";
import { PREVIEW_SCOPE, type PreviewRecord } from "../engine/system-keys.js";
import { Errors, err } from "../errors.js";
import { checkPort } from "./vm-fetch.js";

export { PREVIEW_SCOPE };

export const PREVIEW_TOKEN_LENGTH = 32;
export const PREVIEW_TOKEN = /^[a-z0-9]{32}$/;
export const DEFAULT_PREVIEW_TTL_SECONDS = 3600;
export const MAX_PREVIEW_TTL_SECONDS = 86_400;

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
// The largest multiple of 36 below 256: bytes at or above it are dropped, so every character is
// equally likely (a plain `byte % 36` would favour the first 4).
const UNBIASED_LIMIT = 252;

/** 32 characters of [a-z0-9], uniformly distributed (about 165 bits). */
export function newPreviewToken(): string {
  let out = "";
  while (out.length < PREVIEW_TOKEN_LENGTH) {
    for (const b of randomBytes(48)) {
      if (b >= UNBIASED_LIMIT) continue;
      out += ALPHABET[b % 36];
      if (out.length === PREVIEW_TOKEN_LENGTH) break;
    }
  }
  return out;
}

export interface SignedPreviewUrl {
  /** Absolute from the engine origin: `/gateway/{actorId}/preview/{token}/`. */
  path: string;
  token: string;
  port: number;
  /** Epoch ms. */
  expiresAt: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function checkTtl(ttlSeconds: unknown): number {
  if (ttlSeconds === undefined || ttlSeconds === null || ttlSeconds === 0) return DEFAULT_PREVIEW_TTL_SECONDS;
  if (typeof ttlSeconds !== "number" || !Number.isInteger(ttlSeconds) || ttlSeconds < 0) {
    throw err(
      Errors.badRequest,
      `ttlSeconds is a whole number of seconds, got ${JSON.stringify(ttlSeconds)}`,
    );
  }
  if (ttlSeconds > MAX_PREVIEW_TTL_SECONDS) {
    throw err(
      Errors.badRequest,
      `ttlSeconds is at most ${MAX_PREVIEW_TTL_SECONDS} (24 hours), got ${ttlSeconds}; mint a new URL when it expires`,
      { max: MAX_PREVIEW_TTL_SECONDS },
    );
  }
  return ttlSeconds;
}

export function previewPath(actorId: string, token: string): string {
  return `/gateway/${actorId}/preview/${token}/`;
}

export class PreviewTokens {
  readonly #kv: SystemKv;
  readonly #actorId: string;

  constructor(kv: SystemKv, actorId: string) {
    this.#kv = kv;
    this.#actorId = actorId;
  }

  async create(port: unknown, ttlSeconds: unknown, now = Date.now()): Promise<SignedPreviewUrl> {
    const p = checkPort(port);
    const ttl = checkTtl(ttlSeconds);
    const token = newPreviewToken();
    const record: PreviewRecord = { port: p, expiresAt: now + ttl * 1000, createdAt: now };
    await this.#kv.commit([{ key: encoder.encode(token), value: encoder.encode(JSON.stringify(record)) }]);
    return { path: previewPath(this.#actorId, token), token, port: p, expiresAt: record.expiresAt };
  }

  /** Revokes at once; false if there was no such token. */
  async expire(token: unknown): Promise<boolean> {
    if (typeof token !== "string" || !PREVIEW_TOKEN.test(token)) {
      throw err(Errors.badRequest, "A preview token is 32 characters of a-z and 0-9");
    }
    const key = encoder.encode(token);
    const had = (await this.#kv.get(key)) !== undefined;
    if (had) await this.#kv.commit([{ key, value: undefined }]);
    return had;
  }

  /** Live tokens, soonest to expire first; expired ones are deleted on the way. */
  async list(now = Date.now()): Promise<SignedPreviewUrl[]> {
    return (await this.#sweep(now)).live;
  }

  /** Deletes expired tokens; returns how many. */
  async purge(now = Date.now()): Promise<number> {
    return (await this.#sweep(now)).expired;
  }

  /** One scan of the stored tokens: the live ones, and the expired ones deleted. */
  async #sweep(now: number): Promise<{ live: SignedPreviewUrl[]; expired: number }> {
    const live: SignedPreviewUrl[] = [];
    const expired: Uint8Array[] = [];
    for (const [key, value] of await this.#kv.list()) {
      const token = decoder.decode(key);
      let record: PreviewRecord | undefined;
      try {
        record = JSON.parse(decoder.decode(value)) as PreviewRecord;
      } catch {
        record = undefined;
      }
      if (!record || record.expiresAt <= now) expired.push(key);
      else
        live.push({
          path: previewPath(this.#actorId, token),
          token,
          port: record.port,
          expiresAt: record.expiresAt,
        });
    }
    if (expired.length) await this.#kv.commit(expired.map((key) => ({ key, value: undefined })));
    return { live: live.sort((a, b) => a.expiresAt - b.expiresAt), expired: expired.length };
  }
}
