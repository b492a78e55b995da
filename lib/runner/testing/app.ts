/**
 * The app the runner-mode tests host: a counter and a chat room. The same registry runs
 * embedded (in the test process) and on runner child processes (runner-child.ts), so a client
 * flow can be compared across the two modes.
 */
import { actor } from "../../actor/index.js";
import { UserError } from "../../errors.js";
import { setup } from "../../setup.js";

const decoder = new TextDecoder();

export const counter = actor({
  state: { count: 0, wakes: 0, slept: 0 },
  onWake: (c) => {
    c.state.wakes++;
  },
  onSleep: (c) => {
    c.state.slept++;
  },
  actions: {
    increment: (c, n: number = 1) => {
      c.state.count += n;
      c.broadcast("changed", c.state.count);
      return c.state.count;
    },
    get: (c) => c.state.count,
    stats: (c) => ({ ...c.state }),
    /** Which process runs this actor: the runner's name (RUNNER_NAME), or "embedded". */
    host: () => process.env.RUNNER_NAME ?? "embedded",
    later: (c, ms: number, n: number) => c.schedule.after(ms, "increment", n),
    pending: async (c) => (await c.schedule.list()).map((s) => ({ action: s.action, args: s.args })),
    kvPut: async (c, key: string, value: string) => {
      await c.kv.put(key, value);
      return true;
    },
    kvGet: async (c, key: string) => {
      const v = await c.kv.get(key);
      return v === undefined ? null : decoder.decode(v);
    },
    kvKeys: async (c, prefix: string) => (await c.kv.list(prefix)).map((e) => decoder.decode(e.key)),
    bytes: (_c, b: Uint8Array) => new Uint8Array([...b].reverse()),
    fail: () => {
      throw new UserError("not today", { code: "bad_day", metadata: { retry: false } });
    },
    crash: () => {
      throw new Error("a detail only the log may see");
    },
    nap: (c) => {
      c.sleep();
      return "bye";
    },
    selfDestruct: (c) => {
      c.destroy();
      return "boom";
    },
    slow: async (c, ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return ++c.state.count;
    },
  },
  onRequest: async (c, req) => {
    const url = new URL(req.url);
    const body = req.method === "GET" || req.method === "HEAD" ? "" : await req.text();
    return new Response(
      JSON.stringify({ method: req.method, path: url.pathname + url.search, body, count: c.state.count }),
      {
        status: 201,
        headers: { "content-type": "application/json", "x-actor": "counter" },
      },
    );
  },
});

export const chat = actor({
  state: { messages: [] as string[] },
  onBeforeConnect: (_c, params) => {
    if ((params as { user?: string } | undefined)?.user === "banned") {
      throw new UserError("you are banned", { code: "banned" });
    }
  },
  createConnState: (_c, params) => ({ user: (params as { user?: string } | undefined)?.user ?? "anon" }),
  onConnect: (c, conn) => {
    c.broadcast("joined", conn.state.user);
  },
  actions: {
    send: (c, text: string) => {
      const line = `${c.conn?.state.user ?? "http"}: ${text}`;
      c.state.messages.push(line);
      c.broadcast("message", line);
      return c.state.messages.length;
    },
    whisper: (c, text: string) => {
      c.conn?.send("whisper", text);
      return true;
    },
    kick: (c) => {
      c.conn?.disconnect("kicked");
      return true;
    },
    history: (c) => c.state.messages,
  },
});

/** Sleeps after 300 ms idle: for idle sleep driven by the runner. */
export const napper = actor({
  state: { wakes: 0 },
  onWake: (c) => {
    c.state.wakes++;
  },
  actions: { wakes: (c) => c.state.wakes },
  options: { sleepTimeout: 300 },
});

export const registry = setup({ use: { counter, chat, napper } });
