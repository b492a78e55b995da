/**
 * Verification remembers tokens it has seen match (no SHA-256 per request), without changing any
 * verdict: a remembered token that is revoked or expires is refused at once, and nothing that
 * failed to match is ever remembered.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryStore } from "../store/index.js";
import { TokenStore } from "./tokens.js";

const ADMIN = "admin-token-0123456789abcdef0123456789";

describe("token verification, repeated", () => {
  afterEach(() => vi.useRealTimers());

  it("gives the same verdicts on every presentation; revocation and expiry apply to remembered tokens", async () => {
    const tokens = await TokenStore.open(new MemoryStore(), ADMIN);
    const { secret, token } = await tokens.create({ namespace: "ns1", kind: "secret" });
    const soon = await tokens.create({ namespace: "ns1", kind: "public", expiresAt: Date.now() + 60_000 });
    for (let i = 0; i < 3; i++) {
      expect(tokens.check(ADMIN)).toEqual({ ok: true, principal: { kind: "admin" } });
      expect(tokens.check(secret)).toEqual({
        ok: true,
        principal: { kind: "secret", namespace: "ns1", tokenId: token.id },
      });
      expect(tokens.check(soon.secret)).toMatchObject({ ok: true });
      expect(tokens.check(ADMIN + "x")).toEqual({ ok: false, reason: "invalid" });
      // The right secret under the wrong kind tag is no token.
      expect(tokens.check(secret.replace("enclave_sk_", "enclave_pk_"))).toEqual({
        ok: false,
        reason: "invalid",
      });
    }
    await tokens.revoke(token.id);
    expect(tokens.check(secret)).toEqual({ ok: false, reason: "revoked" });
    vi.useFakeTimers({ now: Date.now() + 120_000 });
    expect(tokens.check(soon.secret)).toEqual({ ok: false, reason: "expired" });
    expect(tokens.check(ADMIN)).toEqual({ ok: true, principal: { kind: "admin" } });
  });

  it("stays bounded and correct past its size limit", async () => {
    const tokens = await TokenStore.open(new MemoryStore(), ADMIN);
    // More valid tokens than are remembered at once.
    const made = await Promise.all(
      Array.from({ length: 1_100 }, () => tokens.create({ namespace: "ns", kind: "public" })),
    );
    for (let round = 0; round < 3; round++) {
      for (const m of made) expect(tokens.check(m.secret)).toMatchObject({ ok: true });
    }
    for (let i = 0; i < 2_000; i++)
      expect(tokens.check(`nope-${i}`)).toEqual({ ok: false, reason: "invalid" });
    for (const m of made) expect(tokens.check(m.secret)).toMatchObject({ ok: true });
  });
});
