/**
 * Health, readiness and metadata over real sockets; readiness turns 503 while the engine closes
 * and requests in flight are drained, not cut off.
 */
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import {
  ADMIN_TOKEN,
  deferred,
  expectErrorShape,
  pollUntil,
  startEngine,
  type Harness,
} from "./testing/harness.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

const counter = actor({
  state: { count: 0 },
  actions: { get: (c) => c.state.count },
});

describe("health and metadata", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startEngine({ use: { counter } });
  });
  afterAll(async () => {
    h.assertNeverReceived(ADMIN_TOKEN);
    await h.close();
  });

  it("GET /health is liveness with the package version, no credential needed", async () => {
    const res = await h.fetch("/health");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ status: "ok", version: pkg.version });
  });

  it("GET /health/ready is 200 once the engine accepts work", async () => {
    const res = await h.fetch("/health/ready");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string };
    expect(body.status).toBe("ready");
  });

  it("GET /metadata names the engine and its integer versions, same version as /health", async () => {
    const res = await h.fetch("/metadata");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["apiVersion", "name", "runnerProtocolVersion", "version"]);
    expect(body.name).toBe("enclave");
    expect(body.version).toBe(pkg.version);
    expect(Number.isInteger(body.apiVersion)).toBe(true);
    expect(Number.isInteger(body.runnerProtocolVersion)).toBe(true);
    expect(body.apiVersion as number).toBeGreaterThanOrEqual(1);
    expect(body.runnerProtocolVersion as number).toBeGreaterThanOrEqual(1);
    const health = (await (await h.fetch("/health")).json()) as { version: string };
    expect(health.version).toBe(body.version);
  });

  it("health routes ignore a wrong credential (they need none)", async () => {
    const res = await h.fetch("/health", { headers: { authorization: "Bearer wrong-wrong-wrong-wrong" } });
    expect(res.status).toBe(200);
  });
});

/** Minimal HTTP/1.1 over one raw socket: several requests, responses read in order. */
class RawHttp {
  readonly socket: Socket;
  #buf = Buffer.alloc(0);
  #wake: (() => void) | undefined;
  #ended = false;

  constructor(port: number) {
    this.socket = connect(port, "127.0.0.1");
    this.socket.on("data", (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#wake?.();
    });
    const end = () => {
      this.#ended = true;
      this.#wake?.();
    };
    this.socket.on("end", end);
    this.socket.on("close", end);
    this.socket.on("error", end);
  }

  connected(): Promise<void> {
    return new Promise((r) => this.socket.once("connect", () => r()));
  }

  write(method: string, path: string, body?: string): void {
    const lines = [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1", `Authorization: Bearer ${ADMIN_TOKEN}`];
    if (body !== undefined) {
      lines.push("Content-Type: application/json", `Content-Length: ${Buffer.byteLength(body)}`);
    }
    this.socket.write(`${lines.join("\r\n")}\r\n\r\n${body ?? ""}`);
  }

  /** The next complete response (needs Content-Length, which fastify sets on JSON replies). */
  async read(timeoutMs = 10_000): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const head = this.#buf.indexOf("\r\n\r\n");
      if (head >= 0) {
        const lines = this.#buf.subarray(0, head).toString("latin1").split("\r\n");
        const status = Number(lines[0]?.split(" ")[1]);
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(":");
          headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        const len = Number(headers["content-length"] ?? "0");
        if (this.#buf.length >= head + 4 + len) {
          const body = this.#buf.subarray(head + 4, head + 4 + len).toString("utf8");
          this.#buf = this.#buf.subarray(head + 4 + len);
          return { status, headers, body };
        }
      }
      if (this.#ended) throw new Error("the connection ended before a complete response");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no complete response in time");
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }
}

describe("closing", () => {
  it("readiness turns 503 (a wire error) while closing, and a request in flight is answered", async () => {
    const started = deferred();
    const release = deferred();
    const slow = actor({
      state: { done: 0 },
      actions: {
        slow: async (c) => {
          started.resolve();
          await release.promise;
          c.state.done++;
          return "finished";
        },
      },
    });
    const h = await startEngine({ use: { slow } });
    let closing: Promise<void> | undefined;
    try {
      const { body } = await h.json("PUT", "/actors", { name: "slow", key: "k" });
      const id = body.actor.actorId as string;
      const port = Number(new URL(h.url).port);

      const raw = new RawHttp(port);
      await raw.connected();
      raw.write("GET", "/health/ready");
      expect((await raw.read()).status).toBe(200);

      raw.write("POST", `/gateway/${id}/action/slow`, "{}");
      await started.promise;
      closing = h.running.close();
      await pollUntil(() => !h.running.engine.ready, { what: "the engine to stop taking work" });
      // Sent on the same connection while the action is still running (pipelined behind it).
      raw.write("GET", "/health/ready");
      release.resolve();

      const first = await raw.read();
      expect(first.status).toBe(200);
      expect(JSON.parse(first.body)).toEqual({ output: "finished" });
      const second = await raw.read();
      expect(second.status).toBe(503);
      const err = JSON.parse(second.body) as Record<string, unknown>;
      expectErrorShape(err);
      expect(err).toMatchObject({ group: "actor", code: "stopping" });
      raw.socket.destroy();
      await closing;
    } finally {
      release.resolve();
      await (closing ?? h.close());
    }
  });

  it("open WebSocket connections are closed with 1001 (going away) when the engine closes", async () => {
    const h = await startEngine({ use: { counter } });
    try {
      const { body } = await h.json("PUT", "/actors", { name: "counter", key: "ws" });
      const ws = h.ws(`/gateway/${body.actor.actorId as string}/connect`);
      expect((await ws.next()).t).toBe("init");
      const closing = h.running.close();
      expect((await ws.closed).code).toBe(1001);
      await closing;
    } finally {
      await h.close();
    }
  });

  it("a request that never finishes does not hold close() past shutdown.timeoutMs", async () => {
    const started = deferred();
    const stuck = actor({
      state: {},
      actions: {
        forever: async () => {
          started.resolve();
          await new Promise(() => undefined);
        },
      },
    });
    const h = await startEngine({
      use: { stuck },
      options: { shutdown: { timeoutMs: 500 }, actors: { actionTimeoutMs: 120_000 } },
    });
    try {
      const { body } = await h.json("PUT", "/actors", { name: "stuck", key: "k" });
      const pending = h.admin(`/gateway/${body.actor.actorId as string}/action/forever`, { method: "POST" });
      pending.catch(() => undefined);
      await started.promise;
      const t0 = Date.now();
      await h.running.close();
      expect(Date.now() - t0).toBeLessThan(5000);
      // The caller is not left hanging on a socket nobody will ever answer.
      await expect(pending).rejects.toThrow();
    } finally {
      await h.close();
    }
  });
});
