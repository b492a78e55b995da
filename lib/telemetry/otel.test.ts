/**
 * OpenTelemetry trace export with a real engine and a real (loopback) OTLP/HTTP collector.
 * Nothing here may leave the machine: the collector listens on 127.0.0.1, and the one
 * non-loopback collector (TEST-NET-1, 192.0.2.1) is only configured with `airgap.enforce` on and
 * not allowed, checked before any action could make the exporter try it.
 */
import { spawnSync } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { pino, type Logger } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { actor } from "../actor/index.js";
import { ConfigError, loadConfig } from "../config/index.js";
import { createEngine } from "../create-engine.js";
import { UserError } from "../errors.js";
import { ADMIN_TOKEN, pollUntil, startEngine, type Harness } from "../gateway/testing/harness.js";
import { VERSION } from "../version.js";
import { EGRESS_DENIED_CODE } from "./egress.js";
import { SPAN_ATTRIBUTES, SPAN_NAMES, otlpTracesUrl, startTracing } from "./otel.js";
import { noopTracer } from "./tracing.js";

/** Values that must never reach the collector. */
const ARG_MARKER = "arg-marker-7f3a9c";
const SECRET_TEXT = "database password is hunter2";
/** A TEST-NET-1 address: never routed, and never reached here because enforcement refuses it. */
const OUTSIDE = "192.0.2.1";
/** Taken before any engine installs the egress audit. */
const ORIGINAL_CONNECT = net.Socket.prototype.connect;

const counter = actor({
  state: { count: 0, notes: [] as string[] },
  actions: {
    increment: (c, n: number) => (c.state.count += n),
    note: (c, text: string) => {
      c.state.notes.push(text);
      return `stored ${text}`;
    },
    refuse: (_c, why: string) => {
      throw new UserError(`refused: ${why}`, { code: "refused", metadata: { why } });
    },
    crash: () => {
      throw new Error(SECRET_TEXT);
    },
  },
});

// ---- a loopback OTLP/HTTP collector -----------------------------------------------------------

interface Export {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Collector {
  url: string;
  exports: Export[];
  close(): Promise<void>;
}

async function startCollector(): Promise<Collector> {
  const exports: Export[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      exports.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      const ok = req.method === "POST" && req.url === "/v1/traces";
      res.writeHead(ok ? 200 : 404, { "content-type": "application/json" }).end(ok ? "{}" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---- OTLP JSON --------------------------------------------------------------------------------

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean };
interface OtlpSpan {
  name: string;
  attributes?: { key: string; value: AnyValue }[];
  status?: { code?: number };
}
interface OtlpBody {
  resourceSpans: {
    resource: { attributes: { key: string; value: AnyValue }[] };
    scopeSpans: { scope: { name: string; version?: string }; spans: OtlpSpan[] }[];
  }[];
}

interface FlatSpan {
  name: string;
  attrs: Record<string, string | number | boolean | undefined>;
  status: number;
  resource: Record<string, string | number | boolean | undefined>;
}

function flatten(attributes: { key: string; value: AnyValue }[] = []): FlatSpan["attrs"] {
  return Object.fromEntries(
    attributes.map(({ key, value }) => [key, value.stringValue ?? value.intValue ?? value.boolValue]),
  );
}

function spansOf(collector: Collector): FlatSpan[] {
  const out: FlatSpan[] = [];
  for (const e of collector.exports) {
    const body = JSON.parse(e.body) as OtlpBody;
    for (const rs of body.resourceSpans) {
      const resource = flatten(rs.resource.attributes);
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          out.push({ name: s.name, attrs: flatten(s.attributes), status: s.status?.code ?? 0, resource });
        }
      }
    }
  }
  return out;
}

// ---- helpers ------------------------------------------------------------------------------------

/** A pino logger writing every line, at every level, into memory. */
function memoryLogger(): { logger: Logger; text: () => string; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString("utf8"));
      done();
    },
  });
  const logger = pino({ level: "trace" }, sink);
  const text = () => chunks.join("");
  return {
    logger,
    text,
    lines: () =>
      text()
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function engineWith(options: Parameters<typeof startEngine>[0]["options"]): Promise<Harness> {
  const h = await startEngine({ use: { counter }, options });
  cleanups.push(() => h.close());
  return h;
}

async function newActor(h: Harness, key: string): Promise<string> {
  const { status, body } = await h.json("PUT", "/actors", { name: "counter", key: [key] });
  expect(status).toBe(200);
  return body.actor.actorId as string;
}

function action(h: Harness, id: string, name: string, args: unknown[] = []): Promise<Response> {
  return h.admin(`/gateway/${id}/action/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ args }),
  });
}

/** Fails (before any attempt) unless a non-loopback attempt is going to be refused. */
async function assertRefusing(h: Harness): Promise<void> {
  expect(h.running.egress.enforcing).toBe(true);
  expect(net.Socket.prototype.connect).not.toBe(ORIGINAL_CONNECT);
  const res = await h.admin("/admin/egress");
  expect(((await res.json()) as { enforcing: boolean }).enforcing).toBe(true);
}

// ---- tests --------------------------------------------------------------------------------------

describe("otlpTracesUrl", () => {
  it("adds /v1/traces to an endpoint without a path, and keeps a path as the full URL", () => {
    expect(otlpTracesUrl("http://otel.corp:4318")).toBe("http://otel.corp:4318/v1/traces");
    expect(otlpTracesUrl("http://otel.corp:4318/")).toBe("http://otel.corp:4318/v1/traces");
    expect(otlpTracesUrl("https://gw.corp/otlp/v1/traces")).toBe("https://gw.corp/otlp/v1/traces");
    expect(otlpTracesUrl("https://gw.corp/custom")).toBe("https://gw.corp/custom");
    expect(otlpTracesUrl("http://[fd00::1]:4318?tenant=a")).toBe("http://[fd00::1]:4318/v1/traces?tenant=a");
  });
});

describe("configuration", () => {
  const load = (options: Parameters<typeof loadConfig>[0]) =>
    loadConfig({ env: {}, configPaths: [], ...options });

  it("enabled without an endpoint is an error naming the key", () => {
    for (const attempt of [
      () => load({ overrides: { telemetry: { otel: { enabled: true } } } }),
      () => load({ env: { ENCLAVE__TELEMETRY__OTEL__ENABLED: "true" } }),
    ]) {
      let error: unknown;
      try {
        attempt();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const issues = (error as ConfigError).issues;
      expect(issues).toHaveLength(1);
      expect(issues[0]?.path).toBe("telemetry.otel.endpoint");
      expect(issues[0]?.message).toContain(
        "telemetry.otel.endpoint: is required when telemetry.otel.enabled is true",
      );
    }
  });

  it("enabled with an endpoint, or disabled with or without one, is valid", () => {
    expect(
      load({
        env: {
          ENCLAVE__TELEMETRY__OTEL__ENABLED: "true",
          ENCLAVE__TELEMETRY__OTEL__ENDPOINT: "http://otel.internal:4318",
        },
      }).config.telemetry.otel,
    ).toEqual({ enabled: true, endpoint: "http://otel.internal:4318" });
    expect(load({}).config.telemetry.otel).toEqual({ enabled: false });
    expect(
      load({ overrides: { telemetry: { otel: { endpoint: "http://otel.internal:4318" } } } }).config.telemetry
        .otel.enabled,
    ).toBe(false);
  });

  it("createEngine refuses it before starting anything", async () => {
    await expect(
      createEngine({
        storage: { driver: "memory" },
        telemetry: { otel: { enabled: true } },
        log: { level: "silent" },
        env: {},
        configPaths: [],
      }),
    ).rejects.toBeInstanceOf(ConfigError);
  });
});

describe("disabled", () => {
  it("startTracing returns the no-op tracer and starts nothing", async () => {
    const log = { info: () => expect.fail("logged"), warn: () => expect.fail("logged") };
    const handle = await startTracing(
      { enabled: false, endpoint: "http://127.0.0.1:9" },
      { log, serviceVersion: "x" },
    );
    expect(handle.tracer).toBe(noopTracer);
    await handle.shutdown();
  });

  it("an engine sends nothing to a collector that is named but not enabled", async () => {
    const collector = await startCollector();
    cleanups.push(() => collector.close());
    const h = await engineWith({ telemetry: { otel: { enabled: false, endpoint: collector.url } } });
    const id = await newActor(h, "off");
    expect((await action(h, id, "increment", [1])).status).toBe(200);
    await h.running.close();
    expect(collector.exports).toEqual([]);
  });

  // @opentelemetry/api itself is exempt: prom-client 15 (metrics.ts) requires it for its own
  // exemplars. It is the no-op API facade; what tracing adds (SDK, exporter, resources and
  // their core, transformer and exporter-base dependencies) must stay unloaded.
  it("never loads the OpenTelemetry SDK or exporter (checked in a fresh process)", () => {
    const createEngineUrl = new URL("../create-engine.ts", import.meta.url).href;
    const indexUrl = new URL("./index.ts", import.meta.url).href;
    const script = `
      import { createRequire } from "node:module";
      const { createEngine } = await import(${JSON.stringify(createEngineUrl)});
      await import(${JSON.stringify(indexUrl)});
      const running = await createEngine({
        storage: { driver: "memory" },
        gateway: { host: "127.0.0.1", port: 0 },
        auth: { adminToken: ${JSON.stringify(ADMIN_TOKEN)} },
        telemetry: { otel: { endpoint: "http://127.0.0.1:9" } },
        log: { level: "silent" },
        env: {},
        configPaths: [],
      });
      await running.listen();
      await running.close();
      const cache = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({
        modules: cache.length,
        otel: [...new Set(cache.flatMap((k) => k.match(/@opentelemetry[\\/][^\\/]+/g) ?? []))],
      }));
    `;
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    const out = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "{}") as {
      modules: number;
      otel: string[];
    };
    expect(out.modules).toBeGreaterThan(0); // the check can see CommonJS packages (pino, fastify, ...)
    expect(out.otel.map((p) => p.replace("\\", "/")).filter((p) => p !== "@opentelemetry/api")).toEqual([]);
  });
});

describe("enabled, with a loopback collector and enforcement on", () => {
  it("exports a span per action and per wake/sleep, with ids and outcomes but no arguments or tokens", async () => {
    const collector = await startCollector();
    cleanups.push(() => collector.close());
    const mem = memoryLogger();
    const h = await engineWith({
      telemetry: { otel: { enabled: true, endpoint: collector.url } },
      airgap: { enforce: true },
      logger: mem.logger,
    });
    await assertRefusing(h);

    const id = await newActor(h, "traced");
    expect((await action(h, id, "increment", [41])).status).toBe(200);
    expect((await action(h, id, "note", [ARG_MARKER])).status).toBe(200);
    expect((await action(h, id, "refuse", [ARG_MARKER])).status).toBe(400);
    expect((await action(h, id, "crash")).status).toBe(500);

    // Other destinations are still refused while the collector is reachable.
    const socket = net.connect({ host: OUTSIDE, port: 443 });
    const refused = await new Promise<NodeJS.ErrnoException>((resolve) => socket.once("error", resolve));
    expect(refused.code).toBe(EGRESS_DENIED_CODE);
    const egress = (await (await h.admin("/admin/egress")).json()) as {
      attempts: { host: string; port: number; allowed: boolean }[];
    };
    expect(egress.attempts).toContainEqual(
      expect.objectContaining({ host: OUTSIDE, port: 443, allowed: false }),
    );

    await h.running.close(); // flushes

    expect(collector.exports.length).toBeGreaterThan(0);
    for (const e of collector.exports) {
      expect(e.method).toBe("POST");
      expect(e.url).toBe("/v1/traces");
      expect(e.headers["content-type"]).toMatch(/^application\/json/);
    }
    const spans = spansOf(collector);
    for (const s of spans) {
      expect(s.resource["service.name"]).toBe("enclave");
      expect(s.resource["service.version"]).toBe(VERSION);
    }
    const actions = spans.filter((s) => s.name === SPAN_NAMES.action);
    const byAction = (name: string) => actions.find((s) => s.attrs[SPAN_ATTRIBUTES.action] === name);
    expect(actions).toHaveLength(4);
    for (const s of actions) {
      expect(s.attrs[SPAN_ATTRIBUTES.actorName]).toBe("counter");
      expect(s.attrs[SPAN_ATTRIBUTES.actorId]).toBe(id);
    }
    expect(byAction("increment")?.attrs).toMatchObject({ [SPAN_ATTRIBUTES.outcome]: "ok" });
    expect(byAction("increment")?.attrs[SPAN_ATTRIBUTES.errorCode]).toBeUndefined();
    expect(byAction("increment")?.status).toBe(0);
    expect(byAction("note")?.attrs).toMatchObject({ [SPAN_ATTRIBUTES.outcome]: "ok" });
    expect(byAction("refuse")?.attrs).toMatchObject({
      [SPAN_ATTRIBUTES.outcome]: "user_error",
      [SPAN_ATTRIBUTES.errorCode]: "refused",
    });
    expect(byAction("refuse")?.status).toBe(0);
    expect(byAction("crash")?.attrs).toMatchObject({
      [SPAN_ATTRIBUTES.outcome]: "error",
      [SPAN_ATTRIBUTES.errorCode]: "internal_error",
    });
    expect(byAction("crash")?.status).toBe(2);

    const wake = spans.filter((s) => s.name === SPAN_NAMES.wake);
    const sleep = spans.filter((s) => s.name === SPAN_NAMES.sleep);
    expect(wake).toHaveLength(1);
    expect(wake[0]?.attrs).toMatchObject({
      [SPAN_ATTRIBUTES.actorName]: "counter",
      [SPAN_ATTRIBUTES.actorId]: id,
      [SPAN_ATTRIBUTES.outcome]: "ok",
    });
    expect(sleep).toHaveLength(1);
    expect(sleep[0]?.attrs).toMatchObject({
      [SPAN_ATTRIBUTES.actorId]: id,
      [SPAN_ATTRIBUTES.stopReason]: "shutdown",
      [SPAN_ATTRIBUTES.outcome]: "ok",
    });

    // Never an argument, an output, an error message or a credential.
    const everything = collector.exports.map((e) => JSON.stringify(e.headers) + e.body).join("\n");
    for (const secret of [ARG_MARKER, SECRET_TEXT, "refused:", ADMIN_TOKEN]) {
      expect(everything).not.toContain(secret);
    }
    expect(mem.text()).not.toContain(ADMIN_TOKEN);
    expect(mem.lines().filter((l) => String(l.msg).startsWith("OpenTelemetry export failed"))).toEqual([]);
  });
});

describe("shutdown", () => {
  it("gives up on a collector that never answers after flushTimeoutMs, with a warning", async () => {
    const hanging = http.createServer(() => {
      // read nothing, answer nothing
    });
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          hanging.close(() => resolve());
          hanging.closeAllConnections();
        }),
    );
    const { port } = hanging.address() as AddressInfo;
    const warnings: { obj: object; msg: string }[] = [];
    const log = { info: () => {}, warn: (obj: object, msg: string) => void warnings.push({ obj, msg }) };
    const handle = await startTracing(
      { enabled: true, endpoint: `http://127.0.0.1:${port}` },
      { log, serviceVersion: "test", flushTimeoutMs: 300 },
    );
    handle.tracer.action({ name: "counter", actorId: "a1" }, "increment")();

    const started = Date.now();
    await handle.shutdown();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(warnings.map((w) => w.msg)).toContain(
      "OpenTelemetry flush did not finish in time at shutdown; unsent spans dropped",
    );
    // Spans started after shutdown are not recorded, and ending them is harmless.
    handle.tracer.action({ name: "counter", actorId: "a1" }, "increment")(new Error("x"));
    await handle.shutdown(); // idempotent
  });
});

describe("enabled, with a collector outside the air gap", () => {
  it("the export attempt is refused and recorded, logged once, and the engine keeps working", async () => {
    const mem = memoryLogger();
    const h = await engineWith({
      telemetry: { otel: { enabled: true, endpoint: `http://${OUTSIDE}:4318` } },
      airgap: { enforce: true, allow: ["db.internal:5432"] },
      logger: mem.logger,
    });
    // Before anything could make the exporter try the collector.
    await assertRefusing(h);
    expect(
      mem
        .lines()
        .some((l) => String(l.msg).includes(`Add "${OUTSIDE}:4318" to airgap.allow`) && l.level === 40),
    ).toBe(true);

    const id = await newActor(h, "unreachable");
    expect((await action(h, id, "increment", [1])).status).toBe(200);

    // The batch goes out on the processor's schedule (5 s): the attempt is refused and recorded.
    const attempt = await pollUntil(
      async () => {
        const res = await h.admin("/admin/egress");
        const body = (await res.json()) as {
          enforcing: boolean;
          attempts: { kind: string; host: string; port: number; allowed: boolean }[];
        };
        return body.attempts.find((a) => a.host === OUTSIDE && a.port === 4318);
      },
      { timeoutMs: 20_000, intervalMs: 100, what: "the refused export in /admin/egress" },
    );
    expect(attempt).toMatchObject({ kind: "connect", host: OUTSIDE, port: 4318, allowed: false });
    await pollUntil(() => mem.lines().some((l) => l.msg === "OpenTelemetry export failed; spans dropped"), {
      what: "the export failure warning",
    });

    // The engine keeps working.
    expect(await (await action(h, id, "increment", [2])).json()).toEqual({ output: 3 });

    const started = Date.now();
    await h.running.close(); // the final flush is refused too; close stays quick
    expect(Date.now() - started).toBeLessThan(5000);

    const failures = mem.lines().filter((l) => l.msg === "OpenTelemetry export failed; spans dropped");
    expect(failures).toHaveLength(1); // rate-limited: the refusal at close is not logged again
    expect(failures[0]).toMatchObject({ level: 40, otel: { collector: `${OUTSIDE}:4318` } });
    expect(JSON.stringify(failures[0])).toContain(EGRESS_DENIED_CODE);
    // The final flush at close was audited (and refused) too: tracing stops before the audit.
    const refusedExports = h.running.egress
      .attempts()
      .filter((a) => a.host === OUTSIDE && a.port === 4318 && !a.allowed);
    expect(refusedExports.length).toBeGreaterThanOrEqual(2);
    expect(mem.text()).not.toContain(ADMIN_TOKEN);
  });
});
