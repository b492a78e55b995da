/**
 * Typing smoke tests (checked by `tsc --noEmit`; `expectTypeOf` is a no-op at run time) and
 * the run-time shape of the proxies. No server: nothing here makes a request.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import type { ActionContext } from "../actor/context.js";
import { actor } from "../actor/definition.js";
import { ActorError, createClient, type ActorConnection, type ActorHandle, type Client } from "./index.js";

interface Count {
  count: number;
}
// The contexts are annotated so these tests pin the client's typing, whatever actor() infers.
export const counter = actor({
  state: { count: 0 },
  actions: {
    increment: (c: ActionContext<Count>, n: number): number => (c.state.count += n),
    echo: (_c: ActionContext<Count>, bytes: Uint8Array, label: string) => Promise.resolve({ bytes, label }),
    reset: (c: ActionContext<Count>): void => {
      c.state.count = 0;
    },
  },
});

export const seeded = actor({
  state: { count: 0 },
  onCreate: (c, input: { start: number }) => {
    c.state.count = input.start;
  },
  actions: { value: (c: ActionContext<Count>): number => c.state.count },
});

// What setup({ use }) returns, as far as the client's types go.
interface Registry {
  use: { counter: typeof counter; seeded: typeof seeded };
}

const client = createClient<Registry>("http://default:tok@127.0.0.1:1");

describe("types", () => {
  it("types actions from the definition", () => {
    const h = client.counter.getOrCreate(["a", "b"]);
    expectTypeOf(h.increment).toEqualTypeOf<(n: number) => Promise<number>>();
    expectTypeOf(h.echo).toEqualTypeOf<
      (bytes: Uint8Array, label: string) => Promise<{ bytes: Uint8Array; label: string }>
    >();
    expectTypeOf(h.reset).toEqualTypeOf<() => Promise<void>>();
    expectTypeOf(h.resolve).toEqualTypeOf<() => Promise<string>>();
    expectTypeOf(h.getGatewayUrl).toEqualTypeOf<() => Promise<string>>();
    expectTypeOf(h.fetch).returns.toEqualTypeOf<Promise<Response>>();
    expectTypeOf(h.action<"increment">).parameters.toEqualTypeOf<["increment", number]>();
    expectTypeOf(() => h.action("increment", 1)).returns.toEqualTypeOf<Promise<number>>();

    const conn = h.connect();
    expectTypeOf(conn).toEqualTypeOf<ActorConnection<typeof counter>>();
    expectTypeOf(conn.increment).toEqualTypeOf<(n: number) => Promise<number>>();
    expectTypeOf(conn.status).toEqualTypeOf<"connecting" | "connected" | "disconnected">();
    expectTypeOf(conn.on).returns.toEqualTypeOf<() => void>();
    void conn.dispose();

    // @ts-expect-error -- no such action
    void (() => h.decrement(1));
    // @ts-expect-error -- wrong argument type
    void (() => h.increment("1"));
    // @ts-expect-error -- unknown action name
    void (() => h.action("nope"));
  });

  it("types input from createState", () => {
    expectTypeOf(client.seeded.create)
      .parameter(1)
      .toEqualTypeOf<{ input?: { start: number }; params?: unknown } | undefined>();
    expectTypeOf(client.seeded.get("x").value).toEqualTypeOf<() => Promise<number>>();
    // @ts-expect-error -- wrong input type
    void (() => client.seeded.create("x", { input: { start: "1" } }));
  });

  it("knows the registry's actor types", () => {
    expectTypeOf(client).toEqualTypeOf<Client<Registry>>();
    expectTypeOf(client.counter.getForId("id")).toEqualTypeOf<ActorHandle<typeof counter>>();
    // @ts-expect-error -- not in the registry
    void (() => client.nope);
  });

  it("leaves an untyped client open to any name", () => {
    const loose = createClient("http://default:tok@127.0.0.1:1");
    // An index signature: with noUncheckedIndexedAccess, names may be undefined to the compiler.
    const h = loose.whatever!.get("k");
    expectTypeOf(h.resolve).toEqualTypeOf<() => Promise<string>>();
    expectTypeOf(() => h.action("anything", 1, "two")).returns.toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(h.anything).toEqualTypeOf<((...args: unknown[]) => Promise<unknown>) | undefined>();
  });
});

describe("proxies", () => {
  it("returns handles synchronously, and they are not thenables", async () => {
    const h = client.counter.get("k");
    expect((h as unknown as { then?: unknown }).then).toBeUndefined();
    expect("then" in h).toBe(false);
    // Awaiting a handle must not call an action named `then`.
    expect(await Promise.resolve(h)).toBe(h);
    expect(typeof h.increment).toBe("function");
    expect(h.increment).toBe(h.increment);
    expect(String(h)).toBe('ActorHandle(counter, ["k"])');
    expect((h as unknown as Record<symbol, unknown>)[Symbol.iterator]).toBeUndefined();
    expect((h as unknown as Record<string, unknown>).toJSON).toBeUndefined();
  });

  it("the client is not a thenable either", async () => {
    expect((client as unknown as { then?: unknown }).then).toBeUndefined();
    expect(await Promise.resolve(client)).toBe(client);
    expect(client.counter).toBe(client.counter);
  });

  it("connections are not thenables", async () => {
    const conn = client.counter.getForId("some-id").connect();
    expect((conn as unknown as { then?: unknown }).then).toBeUndefined();
    expect(typeof conn.increment).toBe("function");
    await conn.dispose();
    expect(conn.status).toBe("disconnected");
    await expect(conn.increment(1)).rejects.toMatchObject({ group: "connection", code: "disposed" });
  });

  it("rejects bad keys at once", () => {
    expect(() => client.counter.get([1 as unknown as string])).toThrow(TypeError);
    expect(() => client.counter.getForId("")).toThrow(TypeError);
  });

  it("ActorError.is narrows by group and code", () => {
    const e = new ActorError({ group: "user", code: "nope", message: "m", status: 400 });
    expect(ActorError.is(e)).toBe(true);
    expect(ActorError.is(e, "user", "nope")).toBe(true);
    expect(ActorError.is(e, "actor")).toBe(false);
    expect(ActorError.is(new Error("x"))).toBe(false);
    expect(e.retryable).toBe(false);
  });
});
