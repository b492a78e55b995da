/** Metrics over a real listener on 127.0.0.1 (port 0). Nothing leaves the host. */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import {
  PrometheusMetrics,
  actionOutcome,
  noopMetrics,
  startMetrics,
  startMetricsServer,
  type EngineMetricsHandle,
  type MetricsServer,
} from "./metrics.js";

const toClose: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0)) await c.close();
});

function line(text: string, prefix: string): string | undefined {
  return text.split("\n").find((l) => l.startsWith(prefix));
}

describe("metrics server", () => {
  it("serves the engine metrics in text format after the interface is called", async () => {
    let awake = 0;
    let stats = { commits: 3, batches: 5 };
    const prom = new PrometheusMetrics({ sources: { storeStats: () => stats } });
    const server = await startMetricsServer({ host: "127.0.0.1", port: 0, registry: prom.registry });
    toClose.push(server);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    prom.woke();
    prom.woke();
    prom.slept();
    awake = 1;
    prom.actionDone("ok", 12);
    prom.actionDone("ok", 3);
    prom.actionDone("user_error", 1);
    prom.actionDone("error", 2500);
    prom.httpRequest("post", "/gateway/:actorId/action/:name", 200, 4);
    prom.httpRequest("GET", "", 404, 1);
    prom.egress({ at: Date.now(), kind: "connect", host: "192.0.2.1", port: 443, allowed: false });

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();

    expect(line(text, "enclave_actors_awake ")).toBe(`enclave_actors_awake ${awake}`);
    expect(line(text, "enclave_actor_wakes_total ")).toBe("enclave_actor_wakes_total 2");
    expect(line(text, "enclave_actor_sleeps_total ")).toBe("enclave_actor_sleeps_total 1");
    expect(text).toContain('enclave_actions_total{outcome="ok"} 2');
    expect(text).toContain('enclave_actions_total{outcome="user_error"} 1');
    expect(text).toContain('enclave_actions_total{outcome="error"} 1');
    expect(text).toContain('enclave_action_duration_seconds_bucket{le="0.005",outcome="ok"} 1');
    expect(text).toContain('enclave_action_duration_seconds_bucket{le="0.025",outcome="ok"} 2');
    expect(text).toContain('enclave_action_duration_seconds_count{outcome="error"} 1');
    expect(text).toContain('enclave_action_duration_seconds_sum{outcome="error"} 2.5');
    expect(text).toContain(
      'enclave_http_requests_total{method="POST",route="/gateway/:actorId/action/:name",status="200"} 1',
    );
    expect(text).toContain('enclave_http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(text).toContain(
      'enclave_http_request_duration_seconds_count{method="POST",route="/gateway/:actorId/action/:name"} 1',
    );
    expect(text).toContain('enclave_egress_attempts_total{kind="connect",allowed="false"} 1');
    expect(line(text, "enclave_store_commits_total ")).toBe("enclave_store_commits_total 3");
    expect(line(text, "enclave_store_batches_total ")).toBe("enclave_store_batches_total 5");
    expect(text).toMatch(/^enclave_build_info\{version="[^"]+"\} 1$/m);
    // process metrics, on this registry (not prom-client's global one)
    expect(text).toContain("# TYPE process_cpu_user_seconds_total counter");
    expect(text).toContain("nodejs_heap_size_used_bytes");

    // store counters follow store.stats() at scrape time
    stats = { commits: 10, batches: 12 };
    const again = await (await fetch(`${server.url}/metrics`)).text();
    expect(line(again, "enclave_store_commits_total ")).toBe("enclave_store_commits_total 10");
    expect(line(again, "enclave_store_batches_total ")).toBe("enclave_store_batches_total 12");
  });

  it("reads awake actors from a source when given one", async () => {
    let live = 7;
    const prom = new PrometheusMetrics({ sources: { awake: () => live }, processMetrics: false });
    prom.woke();
    expect(line(await prom.metrics(), "enclave_actors_awake ")).toBe("enclave_actors_awake 7");
    live = 2;
    expect(line(await prom.metrics(), "enclave_actors_awake ")).toBe("enclave_actors_awake 2");
  });

  it("keeps one registry per engine", async () => {
    const a = new PrometheusMetrics({ processMetrics: false });
    const b = new PrometheusMetrics({ processMetrics: false });
    a.woke();
    expect(line(await a.metrics(), "enclave_actor_wakes_total ")).toBe("enclave_actor_wakes_total 1");
    expect(line(await b.metrics(), "enclave_actor_wakes_total ")).toBe("enclave_actor_wakes_total 0");
  });

  it("answers only GET/HEAD /metrics", async () => {
    const prom = new PrometheusMetrics({ processMetrics: false });
    const server = await startMetricsServer({ host: "127.0.0.1", port: 0, registry: prom.registry });
    toClose.push(server);
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics/x`)).status).toBe(404);
    const post = await fetch(`${server.url}/metrics`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const head = await fetch(`${server.url}/metrics?x=1`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("closes its port", async () => {
    const prom = new PrometheusMetrics({ processMetrics: false });
    const server: MetricsServer = await startMetricsServer({
      host: "127.0.0.1",
      port: 0,
      registry: prom.registry,
    });
    const port = Number(new URL(server.url).port);
    await server.close();
    await server.close();
    const refused = await new Promise<string | undefined>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.on("connect", () => {
        s.destroy();
        resolve(undefined);
      });
      s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code));
    });
    expect(refused).toBe("ECONNREFUSED");
  });

  it("fails to start when the port is taken", async () => {
    const prom = new PrometheusMetrics({ processMetrics: false });
    const first = await startMetricsServer({ host: "127.0.0.1", port: 0, registry: prom.registry });
    toClose.push(first);
    const port = Number(new URL(first.url).port);
    await expect(
      startMetricsServer({ host: "127.0.0.1", port, registry: prom.registry }),
    ).rejects.toMatchObject({
      code: "EADDRINUSE",
    });
  });
});

describe("startMetrics (from config)", () => {
  it("starts nothing when disabled", async () => {
    const handle: EngineMetricsHandle = await startMetrics({ enabled: false, host: "127.0.0.1", port: 0 });
    expect(handle.metrics).toBe(noopMetrics);
    expect(handle.server).toBeUndefined();
    expect(handle.registry).toBeUndefined();
    handle.metrics.woke();
    handle.metrics.actionDone("ok", 1);
    await handle.close();
  });

  it("starts the listener when enabled", async () => {
    const handle = await startMetrics(
      { enabled: true, host: "127.0.0.1", port: 0 },
      { processMetrics: false, sources: { awake: () => 4 } },
    );
    toClose.push(handle);
    handle.metrics.actionDone("ok", 5);
    const text = await (await fetch(`${handle.server?.url}/metrics`)).text();
    expect(text).toContain('enclave_actions_total{outcome="ok"} 1');
    expect(text).toContain("enclave_actors_awake 4");
  });
});

describe("actionOutcome", () => {
  it("classifies", () => {
    expect(actionOutcome()).toBe("ok");
    expect(actionOutcome(new UserError("no", { code: "nope" }))).toBe("user_error");
    expect(actionOutcome(new Error("boom"))).toBe("error");
  });
});
