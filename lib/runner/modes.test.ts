/**
 * Clients cannot tell the modes apart: one client flow (lib/client: actions, errors, events,
 * raw requests, sleep, destroy) runs against the app embedded in an engine and against the
 * same app on a runner process joined to a standalone engine process; the transcripts match.
 *
 * (Unknown type names are the one deliberate difference: an engine without a registry cannot
 * know which types its runners will bring, so it waits for one and answers 503 runner/no_runner
 * instead of 404 actor/type_not_found. See lib/runner/composite-host.ts.)
 */
import { afterAll, describe, expect, it } from "vitest";
import { ActorError, createClient } from "../client/index.js";
import { createEngine } from "../create-engine.js";
import { createLogger } from "../telemetry/index.js";
import { decodeWire, encodeWire } from "../wire/codec.js";
import { registry } from "./testing/app.js";
import {
  ADMIN_TOKEN,
  call,
  createToken,
  endpointFor,
  poll,
  removeDir,
  startEngineProcess,
  startRunnerProcess,
  tempDir,
  type Proc,
} from "./testing/processes.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
}, 30_000);

function outcome(e: unknown): unknown {
  if (!(e instanceof ActorError)) return { unexpected: String(e) };
  const message = e.message.replace(/correlation id [0-9a-f-]+/, "correlation id X");
  const metadata =
    e.code === "internal_error"
      ? { correlationId: typeof (e.metadata as { correlationId?: unknown }).correlationId }
      : e.metadata;
  return {
    error: { group: e.group, code: e.code, status: e.status, retryable: e.retryable, message, metadata },
  };
}

async function settle<T>(p: Promise<T>): Promise<unknown> {
  return p.then(
    (value) => ({ value }),
    (e: unknown) => outcome(e),
  );
}

/** The flow: everything a client can observe, in order. `url` is the engine's base URL. */
async function clientFlow(endpoint: string, url: string): Promise<unknown[]> {
  let t: unknown[] = [];
  const client = createClient<typeof registry>(endpoint);
  try {
    const counter = client.counter.getOrCreate(["flow"]);
    t.push(
      await settle(counter.increment(2)),
      await settle(counter.increment(3)),
      await settle(counter.get()),
    );
    t.push(await settle(counter.action("increment", 1)));
    t.push(await settle(counter.bytes(new Uint8Array([1, 2, 3]))));
    t.push(await settle(counter.fail()), await settle(counter.crash()));
    t.push(await settle(counter.action("nope" as "get")));
    t.push(await settle(client.counter.getForId("no-such-actor").get()));
    t.push(await settle(client.counter.create(["flow"]).get()));
    t.push(await settle(client.counter.get(["never-made"]).get()));
    t.push(
      await settle(counter.kvPut("a", "1")),
      await settle(counter.kvGet("a")),
      await settle(counter.kvGet("b")),
    );
    t.push(await settle(counter.kvKeys("")));

    const res = await counter.fetch("/x/y?z=1", { method: "PUT", body: "payload", headers: { "x-h": "v" } });
    t.push({
      status: res.status,
      type: res.headers.get("content-type"),
      actor: res.headers.get("x-actor"),
      body: await res.json(),
    });
    const gateway = await counter.getGatewayUrl();
    t.push(gateway.replace(url, "URL").replace(await counter.resolve(), "ID"));

    // Listing and lookup as the API shows them.
    const id = await counter.resolve();
    const found = await call(url, "GET", "/actors?name=counter&key=flow");
    t.push(
      found.body.actors.map((a: { name: string; key: string[]; status: string }) => [
        a.name,
        a.key,
        a.status,
      ]),
    );

    // Events.
    const room = client.chat.getOrCreate(["room"]);
    const ann = room.connect({ user: "ann" });
    const heard: unknown[] = [];
    ann.on("message", (line: string) => heard.push(["message", line]));
    ann.on("joined", (user: string) => heard.push(["joined", user]));
    ann.on("whisper", (text: string) => heard.push(["whisper", text]));
    await poll("connected", () => ann.status === "connected");
    t.push(
      await settle(ann.send("hello")),
      await settle(room.send("via http")),
      await settle(ann.whisper("psst")),
    );
    const bob = room.connect({ user: "bob" });
    await poll("bob connected", () => bob.status === "connected");
    await poll("the events", () => heard.length >= 4);
    t.push(heard);
    const banned = room.connect({ user: "banned" });
    t.push(outcome(await new Promise<ActorError>((resolve) => banned.onError(resolve))));
    // onBeforeConnect gates HTTP actions too, with the handle's params.
    const bannedHandle = client.chat.getOrCreate(["room"], { params: { user: "banned" } });
    t.push(await settle(bannedHandle.send("over http")), await settle(bannedHandle.history()));
    const viaHandle = bannedHandle.connect();
    t.push(outcome(await new Promise<ActorError>((resolve) => viaHandle.onError(resolve))));
    const allowed = client.chat.getForId(await room.resolve(), { params: { user: "cleo" } });
    t.push(await settle(allowed.send("cleo over http")));
    const statuses: string[] = [];
    bob.onStatusChange((s) => statuses.push(s));
    t.push(await settle(bob.kick()));
    await poll("bob to be closed", () => statuses.length > 0);
    t.push(statuses[0]);
    await bob.dispose();

    // Sleep and wake, then destroy.
    t.push(await settle(counter.nap()));
    await poll(
      "asleep",
      async () => (await call(url, "GET", `/actors/${id}`)).body.actor.status === "sleeping",
    );
    t.push(await settle(counter.stats()));
    t.push(await settle(counter.selfDestruct()));
    await poll("destroyed", async () => (await call(url, "GET", `/actors/${id}`)).status === 404);
    t.push(await settle(client.counter.getForId(id).get()));
    const again = client.counter.getOrCreate(["flow"]);
    t.push(await settle(again.get()), (await again.resolve()) === id);
    // Actor ids differ between runs, of course.
    t = decodeWire(encodeWire(t).replaceAll(id, "ID"));
  } finally {
    await client.dispose();
  }
  return t;
}

describe("clients cannot tell embedded mode from runner mode", () => {
  it("the same client flow gives the same transcript against both", async () => {
    // Embedded: the app's registry in an engine in this process.
    const embeddedDir = await tempDir();
    cleanups.push(() => removeDir(embeddedDir));
    const embedded = await createEngine({
      registry,
      storage: { fileSystem: { path: embeddedDir } },
      gateway: { host: "127.0.0.1", port: 0 },
      auth: { adminToken: ADMIN_TOKEN },
      logger: createLogger({ level: "silent" }),
      env: {},
      configPaths: [],
    });
    cleanups.push(() => embedded.close());
    const { url: embeddedUrl } = await embedded.listen();

    // Runner mode: a standalone engine process and a runner process with the same app.
    const dir = await tempDir();
    cleanups.push(() => removeDir(dir));
    const { proc: engine, url } = await startEngineProcess(dir);
    cleanups.push(() => engine.stop(5000));
    const secret = await createToken(url, "secret");
    const runner: Proc = startRunnerProcess(endpointFor(url, secret), "R");
    cleanups.push(() => runner.stop(5000));
    await runner.line("ready ", 30_000);

    const expected = await clientFlow(
      endpointFor(embeddedUrl, await createTokenIn(embeddedUrl)),
      embeddedUrl,
    );
    const actual = await clientFlow(endpointFor(url, secret), url);
    expect(actual).toEqual(expected);
    // And the transcript is what the flow means, not two identical failures.
    expect(expected.slice(0, 5)).toEqual([
      { value: 2 },
      { value: 5 },
      { value: 5 },
      { value: 6 },
      { value: new Uint8Array([3, 2, 1]) },
    ]);
    expect(expected).toContainEqual({
      error: {
        group: "user",
        code: "bad_day",
        status: 400,
        retryable: false,
        message: "not today",
        metadata: { retry: false },
      },
    });
    expect(JSON.stringify(expected)).toContain("internal_error");
    expect(JSON.stringify(expected)).toContain("ann: hello");
    const banned = {
      error: {
        group: "user",
        code: "banned",
        status: 400,
        retryable: false,
        message: "you are banned",
      },
    };
    // The banned params refuse HTTP actions (twice) and two connections; cleo's are let through.
    expect(expected.filter((e) => JSON.stringify(e) === JSON.stringify(banned)).length).toBe(4);
    expect(expected).toContainEqual({ value: 3 });
  }, 90_000);
});

async function createTokenIn(url: string): Promise<string> {
  return createToken(url, "secret");
}
