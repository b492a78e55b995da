/**
 * Namespace tokens: secret (backends, runners) and public (browsers). A token is
 * `enclave_<kind>_<id>_<secret>`; the store keeps only the record and a SHA-256 of the secret,
 * so a copy of the data directory grants nothing. The secret is returned once, at creation.
 * Verification looks the record up by id and compares digests in constant time.
 */
import { randomBytes } from "node:crypto";
import { Errors, err } from "../errors.js";
import { Subspace, packKey, prefixRange } from "../store/keys.js";
import type { Store } from "../store/types.js";
import { sha256, tokenMatches, type TokenVerifier, type Verdict } from "./auth.js";

export type TokenKind = "secret" | "public";

/** A token as the API shows it: never the secret. */
export interface TokenInfo {
  id: string;
  namespace: string;
  kind: TokenKind;
  name: string | null;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

interface StoredToken extends TokenInfo {
  /** base64 SHA-256 of the secret part. */
  digest: string;
}

const PREFIX = { secret: "enclave_sk_", public: "enclave_pk_" } as const;
const TOKEN_FORMAT = /^enclave_(sk|pk)_([A-Za-z0-9-]{16})_([A-Za-z0-9_-]{43})$/;
const encoder = new TextEncoder();
const ADMIN = "";
const VERIFIED_MAX = 1024;
const decoder = new TextDecoder();

function key(id: string): Uint8Array {
  return packKey([Subspace.token, id]);
}

function publicView(t: StoredToken): TokenInfo {
  return {
    id: t.id,
    namespace: t.namespace,
    kind: t.kind,
    name: t.name,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    revokedAt: t.revokedAt,
  };
}

export class TokenStore implements TokenVerifier {
  readonly #store: Store;
  readonly #admin: Buffer;
  /** All token records; there are few, and verification must not hit the disk. */
  readonly #byId = new Map<string, StoredToken>();
  /** Decoded digests, so a check does no decoding. */
  readonly #digests = new Map<string, Buffer>();
  readonly #revokeListeners = new Map<string, Set<() => void>>();
  /**
   * Presented tokens already seen to match: the admin token (ADMIN) or a namespace token's id.
   * A repeat presentation (every request of a client) then costs a map lookup instead of a
   * SHA-256, a few percent of a durable action's CPU time. Only matches are kept (at most
   * VERIFIED_MAX, dropped all at once when full), and revocation and expiry are still checked on
   * every use, so caching changes no verdict.
   */
  readonly #verified = new Map<string, string>();

  private constructor(store: Store, adminToken: string) {
    this.#store = store;
    this.#admin = sha256(adminToken);
  }

  static async open(store: Store, adminToken: string): Promise<TokenStore> {
    const tokens = new TokenStore(store, adminToken);
    for await (const [, v] of store.range(prefixRange([Subspace.token]))) {
      const t = JSON.parse(decoder.decode(v)) as StoredToken;
      tokens.#byId.set(t.id, t);
      tokens.#digests.set(t.id, Buffer.from(t.digest, "base64"));
    }
    return tokens;
  }

  async create(input: {
    namespace: string;
    kind: TokenKind;
    name?: string | undefined;
    expiresAt?: number | undefined;
  }): Promise<{ token: TokenInfo; secret: string }> {
    if (input.expiresAt !== undefined && input.expiresAt <= Date.now()) {
      throw err(Errors.badRequest, "expiresAt must be in the future (epoch milliseconds)");
    }
    // 16 characters of [A-Za-z0-9-], never starting with "-" (a CLI would read it as an option).
    const id = `t${randomBytes(12).toString("base64url").replace(/_/g, "-").slice(1)}`;
    const secretPart = randomBytes(32).toString("base64url");
    const stored: StoredToken = {
      id,
      namespace: input.namespace,
      kind: input.kind,
      name: input.name ?? null,
      createdAt: Date.now(),
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      digest: sha256(secretPart).toString("base64"),
    };
    await this.#store.batch([{ type: "put", key: key(id), value: encoder.encode(JSON.stringify(stored)) }]);
    this.#byId.set(id, stored);
    this.#digests.set(id, Buffer.from(stored.digest, "base64"));
    return { token: publicView(stored), secret: `${PREFIX[input.kind]}${id}_${secretPart}` };
  }

  list(namespace?: string): TokenInfo[] {
    const out: TokenInfo[] = [];
    for (const t of this.#byId.values()) if (!namespace || t.namespace === namespace) out.push(publicView(t));
    return out.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  get(id: string): TokenInfo | undefined {
    const t = this.#byId.get(id);
    return t ? publicView(t) : undefined;
  }

  /**
   * Runs `fn` when the token is revoked (to cut connections opened with it). Returns a function
   * that removes the listener.
   */
  onRevoke(id: string, fn: () => void): () => void {
    let set = this.#revokeListeners.get(id);
    if (!set) this.#revokeListeners.set(id, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.#revokeListeners.get(id) === set) this.#revokeListeners.delete(id);
    };
  }

  /** Revokes at once, open connections included; revoking twice is fine. False for an unknown id. */
  async revoke(id: string): Promise<boolean> {
    const t = this.#byId.get(id);
    if (!t) return false;
    if (t.revokedAt !== null) return true;
    const next: StoredToken = { ...t, revokedAt: Date.now() };
    await this.#store.batch([{ type: "put", key: key(id), value: encoder.encode(JSON.stringify(next)) }]);
    this.#byId.set(id, next);
    const listeners = this.#revokeListeners.get(id);
    this.#revokeListeners.delete(id);
    for (const fn of listeners ?? []) fn();
    return true;
  }

  /** Revokes every token of a namespace (when the namespace is deleted). */
  async revokeNamespace(namespace: string): Promise<void> {
    for (const t of [...this.#byId.values()]) if (t.namespace === namespace) await this.revoke(t.id);
  }

  check(presented: string): Verdict {
    const known = this.#verified.get(presented);
    if (known !== undefined) {
      if (known === ADMIN) return { ok: true, principal: { kind: "admin" } };
      const t = this.#byId.get(known);
      if (t) return this.#verdict(t);
    }
    // One digest per request: a string shaped like a namespace token is checked as one; the
    // admin token is the fallback (also for an admin token that happens to share that shape).
    const m = TOKEN_FORMAT.exec(presented);
    if (m) {
      const [, kindTag, id, secretPart] = m as unknown as [string, string, string, string];
      const t = this.#byId.get(id);
      // Compare even for an unknown id, so timing does not tell which ids exist.
      const matches = tokenMatches(secretPart, (t && this.#digests.get(t.id)) || this.#admin);
      if (t && matches && (kindTag === "sk") === (t.kind === "secret")) {
        this.#remember(presented, t.id);
        return this.#verdict(t);
      }
    }
    if (tokenMatches(presented, this.#admin)) {
      this.#remember(presented, ADMIN);
      return { ok: true, principal: { kind: "admin" } };
    }
    return { ok: false, reason: "invalid" };
  }

  #verdict(t: StoredToken): Verdict {
    if (t.revokedAt !== null) return { ok: false, reason: "revoked" };
    if (t.expiresAt !== null && t.expiresAt <= Date.now()) return { ok: false, reason: "expired" };
    return { ok: true, principal: { kind: t.kind, namespace: t.namespace, tokenId: t.id } };
  }

  #remember(presented: string, who: string): void {
    if (this.#verified.size >= VERIFIED_MAX) this.#verified.clear();
    this.#verified.set(presented, who);
  }
}
