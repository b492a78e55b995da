/** The actor directory over HTTP: get-or-create, create, look up, list with paging, destroy, force sleep. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actor, type ActionContext } from "../actor/index.js";
import { Errors } from "../errors.js";
import { ADMIN_TOKEN, expectError, startEngine, type Harness } from "./testing/harness.js";

const counter = actor({
  state: { count: 0 },
  actions: {
    increment: (c, n: number) => (c.state.count += n),
    get: (c) => c.state.count,
  },
});
const other = actor({ state: {}, actions: { ping: () => "pong" } });
const seeded = actor<{ count: number }, undefined, { start: number } | undefined>({
  createState: (_c, input) => ({ count: input?.start ?? -1 }),
  actions: { get: (c: ActionContext<{ count: number }>) => c.state.count },
});

const ACTOR_KEYS = ["actorId", "createdAt", "key", "name", "namespace", "status"];

function expectActor(a: Record<string, unknown>, name: string, key: string[]): void {
  expect(Object.keys(a).sort()).toEqual(ACTOR_KEYS);
  expect(a.name).toBe(name);
  expect(a.key).toEqual(key);
  expect(a.namespace).toBe("default");
  expect(["running", "sleeping"]).toContain(a.status);
  expect(typeof a.actorId).toBe("string");
  // URL-safe, at least 128 bits (22 base64url characters).
  expect(a.actorId).toMatch(/^[A-Za-z0-9_-]{22,}$/);
  expect(Number.isInteger(a.createdAt)).toBe(true);
}

describe("actors routes", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEngine({ use: { counter, other, seeded } });
  });
  afterAll(async () => {
    h.assertNeverReceived(ADMIN_TOKEN);
    await h.close();
  });

  it("PUT /actors gets or creates: { actor, created }, then the same actor", async () => {
    const before = Date.now();
    const first = await h.json("PUT", "/actors", { name: "counter", key: ["eu", "42"] });
    const after = Date.now();
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(["actor", "created"]);
    expect(first.body.created).toBe(true);
    expectActor(first.body.actor, "counter", ["eu", "42"]);
    // Epoch milliseconds, taken at creation.
    expect(first.body.actor.createdAt).toBeGreaterThanOrEqual(before - 1000);
    expect(first.body.actor.createdAt).toBeLessThanOrEqual(after + 1000);

    const second = await h.json("PUT", "/actors", { name: "counter", key: ["eu", "42"] });
    expect(second.status).toBe(200);
    expect(second.body.created).toBe(false);
    expect(second.body.actor.actorId).toBe(first.body.actor.actorId);
    expect(second.body.actor.createdAt).toBe(first.body.actor.createdAt);
  });

  it("a string key becomes a one-part key", async () => {
    const a = await h.json("PUT", "/actors", { name: "counter", key: "solo" });
    expectActor(a.body.actor, "counter", ["solo"]);
    const b = await h.json("PUT", "/actors", { name: "counter", key: ["solo"] });
    expect(b.body.created).toBe(false);
    expect(b.body.actor.actorId).toBe(a.body.actor.actorId);
  });

  it("actor ids are distinct for distinct actors", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await h.json("PUT", "/actors", { name: "other", key: ["ids", String(i)] });
      expect(r.body.actor.actorId).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      ids.add(r.body.actor.actorId);
    }
    expect(ids.size).toBe(20);
  });

  it("POST /actors creates (201 { actor }), then 409 actor/already_exists", async () => {
    const created = await h.json("POST", "/actors", { name: "counter", key: ["fresh"] });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body)).toEqual(["actor"]);
    expectActor(created.body.actor, "counter", ["fresh"]);

    const again = await h.admin("/actors", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "counter", key: ["fresh"] }),
    });
    await expectError(again, Errors.actorAlreadyExists);
  });

  it("GET /actors?name=&key=a&key=b is an exact lookup", async () => {
    const ab = await h.json("PUT", "/actors", { name: "counter", key: ["a", "b"] });
    await h.json("PUT", "/actors", { name: "counter", key: ["a"] });
    await h.json("PUT", "/actors", { name: "counter", key: ["a", "b", "c"] });
    await h.json("PUT", "/actors", { name: "other", key: ["a", "b"] });

    const found = await h.json("GET", "/actors?name=counter&key=a&key=b");
    expect(found.status).toBe(200);
    expect(found.body.cursor).toBeNull();
    expect(found.body.actors).toHaveLength(1);
    expect(found.body.actors[0]).toEqual({ ...ab.body.actor, status: found.body.actors[0].status });

    const single = await h.json("GET", "/actors?name=counter&key=a");
    expect(single.body.actors.map((a: { key: string[] }) => a.key)).toEqual([["a"]]);

    const none = await h.json("GET", "/actors?name=counter&key=b&key=a");
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ actors: [], cursor: null });
  });

  it("GET /actors pages with limit and cursor: every actor once, no gaps", async () => {
    const made = new Set<string>();
    for (let i = 0; i < 25; i++) {
      const r = await h.json("PUT", "/actors", { name: "other", key: ["page", String(i).padStart(2, "0")] });
      made.add(r.body.actor.actorId);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q = `/actors?name=other&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page = await h.json("GET", q);
      expect(page.status).toBe(200);
      expect(Object.keys(page.body).sort()).toEqual(["actors", "cursor"]);
      expect(page.body.actors.length).toBeLessThanOrEqual(7);
      for (const a of page.body.actors) {
        expect(a.name).toBe("other");
        seen.push(a.actorId);
      }
      cursor = page.body.cursor as string | null;
      pages++;
      expect(pages).toBeLessThan(20);
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length); // no duplicates
    for (const id of made) expect(seen).toContain(id); // no gaps
    // 25 paged + 20 from the ids test: all "other" actors, 7 per page.
    expect(pages).toBe(Math.ceil(seen.length / 7));

    // Without a name filter the listing covers every type, still without duplicates.
    const all: string[] = [];
    cursor = null;
    do {
      const page = await h.json(
        "GET",
        `/actors?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      expect(page.status).toBe(200);
      all.push(...page.body.actors.map((a: { actorId: string }) => a.actorId));
      cursor = page.body.cursor as string | null;
    } while (cursor !== null);
    expect(new Set(all).size).toBe(all.length);
    for (const id of seen) expect(all).toContain(id);
  });

  it("a bad cursor is 400, and so is a cursor from another listing", async () => {
    await expectError(await h.admin("/actors?cursor=not-a-cursor"), Errors.badRequest);
    const page = await h.json("GET", "/actors?name=other&limit=1");
    const cursor = page.body.cursor as string;
    expect(typeof cursor).toBe("string");
    await expectError(
      await h.admin(`/actors?name=counter&limit=1&cursor=${encodeURIComponent(cursor)}`),
      Errors.badRequest,
    );
  });

  it("key without name is 400; limit out of range is 400", async () => {
    await expectError(await h.admin("/actors?key=a"), Errors.badRequest);
    await expectError(await h.admin("/actors?limit=0"), Errors.badRequest);
    await expectError(await h.admin("/actors?limit=1001"), Errors.badRequest);
    await expectError(await h.admin("/actors?limit=ten"), Errors.badRequest);
  });

  it("GET /actors/{id} reports running, then sleeping after a forced sleep (admin)", async () => {
    const { body } = await h.json("PUT", "/actors", { name: "counter", key: ["sleepy"] });
    const id = body.actor.actorId as string;
    await h.json("POST", `/gateway/${id}/action/increment`, { args: [3] });

    const awake = await h.json("GET", `/actors/${id}`);
    expect(awake.status).toBe(200);
    expect(Object.keys(awake.body)).toEqual(["actor"]);
    expectActor(awake.body.actor, "counter", ["sleepy"]);
    expect(awake.body.actor.status).toBe("running");

    const slept = await h.json("POST", `/actors/${id}/sleep`);
    expect(slept.status).toBe(200);
    const asleep = await h.json("GET", `/actors/${id}`);
    expect(asleep.body.actor.status).toBe("sleeping");
    expect(asleep.body.actor.createdAt).toBe(awake.body.actor.createdAt);

    // Asleep, the actor still answers (it wakes), with its state.
    const got = await h.json("POST", `/gateway/${id}/action/get`);
    expect(got.body).toEqual({ output: 3 });
    expect((await h.json("GET", `/actors/${id}`)).body.actor.status).toBe("running");
  });

  it("forced sleep of an unknown actor is 404", async () => {
    await expectError(
      await h.admin("/actors/AAAAAAAAAAAAAAAAAAAAAA/sleep", { method: "POST" }),
      Errors.actorNotFound,
    );
  });

  it("DELETE /actors/{id}: then 404, and get-or-create makes a new actor with a new id", async () => {
    const { body } = await h.json("PUT", "/actors", { name: "counter", key: ["doomed"] });
    const id = body.actor.actorId as string;
    await h.json("POST", `/gateway/${id}/action/increment`, { args: [9] });

    const del = await h.admin(`/actors/${id}`, { method: "DELETE" });
    expect(del.status).toBe(200);

    await expectError(await h.admin(`/actors/${id}`), Errors.actorNotFound);
    await expectError(await h.admin(`/gateway/${id}/action/get`, { method: "POST" }), Errors.actorNotFound);
    await expectError(await h.admin(`/actors/${id}`, { method: "DELETE" }), Errors.actorNotFound);
    const lookup = await h.json("GET", "/actors?name=counter&key=doomed");
    expect(lookup.body.actors).toEqual([]);

    const again = await h.json("PUT", "/actors", { name: "counter", key: ["doomed"] });
    expect(again.body.created).toBe(true);
    expect(again.body.actor.actorId).not.toBe(id);
    // A new actor: fresh state.
    const got = await h.json("POST", `/gateway/${again.body.actor.actorId}/action/get`);
    expect(got.body).toEqual({ output: 0 });
  });

  it("GET /actors/{id} of an unknown id is 404 actor/not_found", async () => {
    await expectError(await h.admin("/actors/AAAAAAAAAAAAAAAAAAAAAA"), Errors.actorNotFound);
  });

  it("an unknown type name is 404 actor/type_not_found (create and get-or-create)", async () => {
    for (const method of ["PUT", "POST"]) {
      const res = await h.admin("/actors", {
        method,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "nosuchtype", key: ["x"] }),
      });
      await expectError(res, Errors.actorTypeNotFound);
    }
    const list = await h.json("GET", "/actors?name=nosuchtype&key=x");
    expect(list.body.actors).toEqual([]);
  });

  it("input reaches a new actor only on creation", async () => {
    const res = await h.json("PUT", "/actors", { name: "seeded", key: ["with-input"], input: { start: 41 } });
    expect(res.body.created).toBe(true);
    const id = res.body.actor.actorId as string;
    expect((await h.json("POST", `/gateway/${id}/action/get`)).body).toEqual({ output: 41 });
    const again = await h.json("PUT", "/actors", {
      name: "seeded",
      key: ["with-input"],
      input: { start: 7 },
    });
    expect(again.body.created).toBe(false);
    expect((await h.json("POST", `/gateway/${id}/action/get`)).body).toEqual({ output: 41 });
  });
});
