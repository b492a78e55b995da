import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERRORS_DOC, renderErrorsDoc } from "./errors-doc.js";
import { EnclaveError, Errors, UserError } from "./errors.js";

describe("error catalogue", () => {
  it("has one entry per group+code, each with a status and a message", () => {
    const seen = new Set<string>();
    for (const e of Object.values(Errors)) {
      const id = `${e.group}/${e.code}`;
      expect(seen.has(id), `duplicate ${id}`).toBe(false);
      seen.add(id);
      expect(e.status).toBeGreaterThanOrEqual(400);
      expect(e.status).toBeLessThan(600);
      expect(e.message.length).toBeGreaterThan(0);
    }
  });

  it("docs/errors.md matches the catalogue (regenerate: npx tsx lib/errors-doc.ts)", () => {
    expect(readFileSync(ERRORS_DOC, "utf8")).toBe(renderErrorsDoc());
  });

  it("serializes errors to the wire shape", () => {
    expect(new EnclaveError(Errors.actorNotFound, undefined, { actorId: "x" }).toWire()).toEqual({
      group: "actor",
      code: "not_found",
      message: "No such actor",
      metadata: { actorId: "x" },
    });
    expect(new UserError("nope", { code: "bad", metadata: { n: 1 } }).toWire()).toEqual({
      group: "user",
      code: "bad",
      message: "nope",
      metadata: { n: 1 },
    });
    expect(new UserError("plain").toWire()).toEqual({ group: "user", code: "user_error", message: "plain" });
  });
});
