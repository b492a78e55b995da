/** `POST /gateway/{id}/action/{name}`: arguments, outputs, bytes, and how errors reach the caller. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import { Errors, UserError } from "../errors.js";
import { ADMIN_TOKEN, expectError, startEngine, type Harness } from "./testing/harness.js";

const SECRET_TEXT = "database password is hunter2";

const counter = actor({
  state: { count: 0 },
  actions: {
    increment: (c, n: number) => (c.state.count += n),
    get: (c) => c.state.count,
    argCount: (_c, ...args: unknown[]) => args.length,
    echo: (_c, ...args: unknown[]) => args,
    nothing: () => undefined,
    reverse: (_c, bytes: Uint8Array) => {
      if (!(bytes instanceof Uint8Array)) throw new UserError("expected bytes", { code: "not_bytes" });
      return { bytes: Uint8Array.from(bytes).reverse(), length: bytes.length };
    },
    refuse: (_c, why: string) => {
      throw new UserError(`refused: ${why}`, { code: "refused", metadata: { why, nested: { n: [1, 2] } } });
    },
    refusePlain: () => {
      throw new UserError("plain refusal");
    },
    crash: () => {
      throw new Error(SECRET_TEXT);
    },
    parseBroken: () => JSON.parse("{ not json"),
  },
});

describe("action route", () => {
  let h: Harness;
  let id: string;
  const post = (name: string, body?: unknown, actorId = id) =>
    h.admin(`/gateway/${actorId}/action/${name}`, {
      method: "POST",
      ...(body === undefined
        ? {}
        : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    h = await startEngine({ use: { counter } });
    const { body } = await h.json("PUT", "/actors", { name: "counter", key: ["action"] });
    id = body.actor.actorId as string;
  });
  afterAll(async () => {
    h.assertNeverReceived(ADMIN_TOKEN);
    h.assertNeverReceived(SECRET_TEXT);
    await h.close();
  });

  it("{ args } in, { output } out", async () => {
    const res = await post("increment", { args: [5] });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ output: 5 });
    expect(await (await post("increment", { args: [2] })).json()).toEqual({ output: 7 });
    expect(await (await post("echo", { args: ["a", { b: [1, null, true] }, 3.5] })).json()).toEqual({
      output: ["a", { b: [1, null, true] }, 3.5],
    });
  });

  it("no body, an empty body, null and {} all mean no arguments", async () => {
    for (const res of [
      await post("argCount"),
      await h.admin(`/gateway/${id}/action/argCount`, {
        method: "POST",
        headers: { "content-type": "application/json" },
      }),
      await h.admin(`/gateway/${id}/action/argCount`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "null",
      }),
      await post("argCount", {}),
      await post("argCount", { args: [] }),
    ]) {
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ output: 0 });
    }
  });

  it("an action returning nothing answers { output: null }", async () => {
    const res = await post("nothing", { args: [] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ output: null });
  });

  it("Uint8Array travels as { $bytes: base64 } both ways", async () => {
    const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
    const res = await post("reverse", { args: [{ $bytes: Buffer.from(bytes).toString("base64") }] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { output: { bytes: { $bytes: string }; length: number } };
    expect(body.output.length).toBe(5);
    expect(Object.keys(body.output.bytes)).toEqual(["$bytes"]);
    expect([...Buffer.from(body.output.bytes.$bytes, "base64")]).toEqual([255, 250, 2, 1, 0]);
  });

  it("a UserError reaches the caller intact: 400 { group: user, code, message, metadata }", async () => {
    const res = await post("refuse", { args: ["because"] });
    const body = await expectError(res, { group: "user", code: "refused", status: 400 });
    expect(body).toEqual({
      group: "user",
      code: "refused",
      message: "refused: because",
      metadata: { why: "because", nested: { n: [1, 2] } },
    });
    const plain = await expectError(await post("refusePlain"), {
      group: "user",
      code: "user_error",
      status: 400,
    });
    expect(plain).toEqual({ group: "user", code: "user_error", message: "plain refusal" });
  });

  it("any other error is 500 actor/internal_error with a correlation id, without its text", async () => {
    const bodies = [];
    for (const name of ["crash", "parseBroken"]) {
      const body = await expectError(await post(name), Errors.internal);
      expect(Object.keys(body).sort()).toEqual(["code", "group", "message", "metadata"]);
      expect(Object.keys(body.metadata as object)).toEqual(["correlationId"]);
      const cid = (body.metadata as { correlationId: string }).correlationId;
      expect(typeof cid).toBe("string");
      expect(cid.length).toBeGreaterThanOrEqual(8);
      expect(body.message).toContain(cid);
      expect(body.message).not.toContain("hunter2");
      expect(body.message).not.toMatch(/json/i);
      bodies.push(body);
    }
    expect(bodies[0]?.metadata.correlationId).not.toBe(bodies[1]?.metadata.correlationId);
  });

  it("unknown actor id is 404 actor/not_found; unknown action is 404 actor/action_not_found", async () => {
    await expectError(await post("get", {}, "AAAAAAAAAAAAAAAAAAAAAA"), Errors.actorNotFound);
    const body = await expectError(await post("noSuchAction", {}), Errors.actionNotFound);
    expect(body.message).toContain("noSuchAction");
    // Inherited object properties are not actions.
    await expectError(await post("toString", {}), Errors.actionNotFound);
    await expectError(await post("__proto__", {}), Errors.actionNotFound);
  });
});
