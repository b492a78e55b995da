import { randomBytes } from "node:crypto";

/** 128 random bits, URL-safe (22 characters of base64url): unguessable actor ids. */
export function newActorId(): string {
  return randomBytes(16).toString("base64url");
}

/** Ids that only need to be unique within an actor (scheduled calls, connections). */
export function newLocalId(): string {
  return randomBytes(9).toString("base64url");
}
