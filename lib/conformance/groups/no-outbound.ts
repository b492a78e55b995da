/**
 * no-outbound: first a canary proves the seal is real (so this group can fail), then every
 * feature the engine has is driven, then the egress audit must show no outbound attempt at all
 * and, for a local engine, the engine process must hold no socket off loopback.
 *
 * The canary never sends a packet anywhere: inside the network namespace the connect fails for
 * lack of a route; with enforcement, the engine refuses its own OTel export to a TEST-NET
 * collector before connecting (and only after the suite saw `enforcing: true`).
 */
import { cases, NO_SESSIONS, type ConformanceCase } from "../case.js";
import {
  createPreview,
  createWorkspace,
  expectPreviewServes,
  readText,
  workspaceWithServer,
  ws,
} from "./workspace.js";
import { check, expectError, expectStatus, fail, notApplicable, waitFor } from "../check.js";
import type { CanaryNote, SuiteContext } from "../context.js";
import type { Json } from "../http.js";
import { NotApplicable } from "../types.js";
import { CANARY_PORT } from "../local-engine.js";
import {
  TEST_NET_HOST,
  inLoopbackOnlyNamespace,
  interfacesOf,
  isLocalAddress,
  netnsOf,
  outboundCanary,
  socketsOf,
} from "../netns.js";

/** An attempt the suite caused on purpose (the OTel canary), refused by enforcement. */
export function isCanaryAttempt(ctx: SuiteContext, a: Json): boolean {
  return (
    ctx.local?.options.otelCanary === true &&
    a?.host === TEST_NET_HOST &&
    a?.port === CANARY_PORT &&
    a?.allowed === false
  );
}

function describeAttempt(a: Json): string {
  const where =
    a?.port === null || a?.port === undefined ? String(a?.host) : `${String(a?.host)}:${String(a?.port)}`;
  return `${String(a?.kind)} ${where} (${a?.allowed ? "allowed" : "refused"})`;
}

/** Waits until the engine's egress audit shows the OTel canary's refused attempt. */
export async function waitForOtelCanary(ctx: SuiteContext): Promise<Json> {
  // A span only exists once an action ran; the exporter sends batches every few seconds.
  const actor = await ctx.createActor("otel-canary");
  await ctx.act(actor.actorId, "increment", 1);
  return waitFor(
    `a refused connection to ${TEST_NET_HOST}:${CANARY_PORT} in GET /admin/egress`,
    async () => (await ctx.egress()).attempts.find((a) => isCanaryAttempt(ctx, a)),
    30_000,
    500,
  );
}

/**
 * The canary, once per run (the audit checks run it too when it was not selected): proves that
 * an outbound attempt is stopped and, with enforcement, seen by the audit.
 */
export async function ensureCanary(ctx: SuiteContext): Promise<CanaryNote> {
  if (ctx.canary) return ctx.canary;
  let note: CanaryNote;
  try {
    if (ctx.isolation === "netns") {
      check(inLoopbackOnlyNamespace(), "the suite is not in a loopback-only network namespace");
      const pid = ctx.local?.pid;
      if (pid !== undefined) {
        check(netnsOf(pid) === netnsOf("self"), "the engine is not in the suite's network namespace");
      }
      const { code, ms } = await outboundCanary();
      note = { state: "passed", detail: `a connect to ${TEST_NET_HOST}:9 failed with ${code} in ${ms} ms` };
    } else if (ctx.local?.options.otelCanary) {
      const eg = await ctx.egress();
      check(eg.enforcing, "GET /admin/egress says enforcing is off, though airgap.enforce was configured");
      await waitForOtelCanary(ctx);
      note = { state: "passed", detail: "the engine refused and recorded its OTel export to TEST-NET" };
    } else {
      note = {
        state: "not-applicable",
        detail:
          "remote deployment: the suite cannot make the engine attempt a connection safely; the audit is read as is " +
          "(run the airgap profile against an engine with airgap.enforce, or the suite with a local engine, to prove the seal)",
      };
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    note = { state: e instanceof NotApplicable ? "not-applicable" : "failed", detail: why };
  }
  ctx.canary = note;
  return note;
}

async function auditIsClean(ctx: SuiteContext, when: string): Promise<void> {
  const canary = await ensureCanary(ctx);
  if (canary.state === "failed") {
    fail(`the canary failed (${canary.detail}): the seal is not proven, so a clean audit proves nothing`);
  }
  const { attempts, stats } = await ctx.egress();
  const unexpected = attempts.filter((a) => !isCanaryAttempt(ctx, a));
  if (unexpected.length > 0) {
    fail(
      `${unexpected.length} outbound attempt(s) ${when}: ${unexpected.slice(0, 5).map(describeAttempt).join(", ")}`,
      JSON.stringify(unexpected.slice(0, 20)),
    );
  }
  if (stats && typeof stats.dropped === "number") {
    check(stats.dropped === 0, `the egress audit dropped ${stats.dropped} attempts (its buffer overflowed)`);
  }
}

function socketsAreLocal(ctx: SuiteContext): void {
  const local = ctx.local;
  if (!local) notApplicable("remote deployment: the engine's sockets cannot be inspected from here");
  if (process.platform !== "linux")
    notApplicable(`sockets are read from /proc (Linux only; this is ${process.platform})`);
  const pid = local.pid;
  check(pid !== undefined && local.running, "the local engine is not running");
  const offLoopback = socketsOf(pid).filter((s) => !isLocalAddress(s.local) || !isLocalAddress(s.remote));
  if (offLoopback.length > 0) {
    fail(
      `the engine process holds ${offLoopback.length} socket(s) off loopback`,
      offLoopback.map((s) => `${s.proto} ${s.local} -> ${s.remote}`).join("\n"),
    );
  }
  if (ctx.isolation === "netns") {
    check(netnsOf(pid) === netnsOf("self"), "the engine is not in the suite's network namespace");
    const names = interfacesOf(pid);
    check(
      names.length === 1 && names[0] === "lo",
      `the engine's network namespace has interfaces other than lo: ${names.join(", ")}`,
    );
  }
}

const notBuilt = (id: string, what: string, why: string): Omit<ConformanceCase, "group"> => ({
  id: `no-outbound.drive.${id}`,
  name: `drive ${what}`,
  profile: "core",
  async run() {
    notApplicable(why);
  },
});

export const noOutboundCases = cases("no-outbound", [
  {
    id: "no-outbound.canary",
    name: "canary: an outbound attempt is stopped, so the seal is real",
    profile: "core",
    async run(ctx) {
      const note = await ensureCanary(ctx);
      if (note.state === "failed") fail(note.detail);
      if (note.state === "not-applicable") notApplicable(note.detail);
    },
  },
  {
    id: "no-outbound.drive.actors",
    name: "drive actors: get-or-create, create, look up, list, destroy",
    profile: "core",
    async run(ctx) {
      const token = await ctx.secretToken();
      const first = await ctx.createActor("drive-actors");
      const again = await ctx.api.call("PUT", "/actors", {
        token,
        body: { name: "enclaveConformance", key: first.key },
      });
      expectStatus(again, 200, "PUT /actors again");
      check(
        again.json?.actor?.actorId === first.actorId && again.json?.created === false,
        "get-or-create made a second actor for one key",
      );

      const key = [`conformance-${ctx.runId}`, "drive-create"];
      const created = await ctx.api.call("POST", "/actors", {
        token,
        body: { name: "enclaveConformance", key },
      });
      expectStatus(created, 201, "POST /actors");
      const dup = await ctx.api.call("POST", "/actors", { token, body: { name: "enclaveConformance", key } });
      expectError(dup, 409, "actor", "already_exists", "POST /actors with a taken key");

      const found = await ctx.api.call("GET", "/actors", {
        token,
        query: { name: "enclaveConformance", key: first.key },
      });
      expectStatus(found, 200, "GET /actors?name=&key=");
      check(found.json?.actors?.[0]?.actorId === first.actorId, "GET /actors by key did not find the actor");

      const one = await ctx.api.call("GET", `/actors/${first.actorId}`, { token });
      expectStatus(one, 200, "GET /actors/{id}");
      const a = one.json?.actor as Json;
      for (const field of ["actorId", "name", "key", "namespace", "status", "createdAt"]) {
        check(a && field in a, `GET /actors/{id}: the actor object has no ${field}`);
      }

      // Concurrent get-or-create of one new key makes exactly one actor.
      const raceKey = [`conformance-${ctx.runId}`, "drive-race"];
      const race = await Promise.all(
        Array.from({ length: 5 }, () =>
          ctx.api.call("PUT", "/actors", { token, body: { name: "enclaveConformance", key: raceKey } }),
        ),
      );
      for (const r of race) expectStatus(r, 200, "concurrent PUT /actors");
      const ids = new Set(race.map((r) => r.json?.actor?.actorId));
      check(ids.size === 1, `concurrent get-or-create made ${ids.size} actors for one key`);
      check(
        race.filter((r) => r.json?.created === true).length === 1,
        "concurrent get-or-create: not exactly one created",
      );

      const createdId = created.json?.actor?.actorId as string;
      for (const id of [createdId, [...ids][0] as string]) {
        const del = await ctx.api.call("DELETE", `/actors/${id}`, { token });
        expectStatus(del, 200, "DELETE /actors/{id}");
        expectError(
          await ctx.api.call("GET", `/actors/${id}`, { token }),
          404,
          "actor",
          "not_found",
          "GET /actors/{id} after destroy",
        );
      }
    },
  },
  {
    id: "no-outbound.drive.actions",
    name: "drive actions over HTTP: results, user errors, internal errors, bytes",
    profile: "core",
    async run(ctx) {
      const { actorId } = await ctx.createActor("drive-actions");
      check((await ctx.act(actorId, "increment", 2)) === 2, "increment(2) did not answer 2");
      check((await ctx.act(actorId, "increment", 3)) === 5, "increment(3) did not answer 5");
      const user = await ctx.callAction(actorId, "userError");
      expectError(user, 400, "user", "conformance_user_error", "an action throwing a UserError");
      const internal = await ctx.callAction(actorId, "internalError");
      expectError(internal, 500, "actor", "internal_error", "an action throwing an Error");
      check(
        typeof internal.json?.metadata?.correlationId === "string",
        "an internal error carries no correlation id",
      );
      check(
        !internal.text.includes("deliberate internal error"),
        "an internal error's details reached the caller",
      );
      const bytes = Buffer.from([0, 1, 2, 250, 255]).toString("base64");
      const echoed = await ctx.act(actorId, "echoBytes", { $bytes: bytes });
      check(echoed?.$bytes === bytes, "bytes did not round-trip as { $bytes }");
      expectError(
        await ctx.callAction(actorId, "noSuchAction"),
        404,
        "actor",
        "action_not_found",
        "an unknown action",
      );
    },
  },
  {
    id: "no-outbound.drive.websocket",
    name: "drive WebSocket connections: actions and events (header and subprotocol credentials)",
    profile: "core",
    async run(ctx) {
      const { actorId } = await ctx.createActor("drive-ws");
      const pub = await ctx.publicToken();
      const opened = await ctx.api.socket(`/gateway/${actorId}/connect`, { token: pub });
      check(
        opened.kind === "open",
        `the WebSocket with a public token was not accepted (${JSON.stringify(opened)})`,
      );
      const s = opened.socket;
      try {
        const init = await s.next("the init message", (m) => m?.t === "init");
        check(init.actorId === actorId, "the init message names another actor");
        s.send({ t: "sub", event: "changed" });
        s.send({ t: "action", id: 1, name: "increment", args: [7] });
        const result = await s.next("the action's result", (m) => m?.t === "result" && m.id === 1);
        check(
          result.output === 7,
          `increment(7) over the WebSocket answered ${JSON.stringify(result.output)}`,
        );
        const event = await s.next("the changed event", (m) => m?.t === "event" && m.name === "changed");
        check(
          JSON.stringify(event.args) === "[7]",
          `the changed event carried ${JSON.stringify(event.args)}`,
        );
      } finally {
        await s.close();
      }
      const viaProtocol = await ctx.api.socket(`/gateway/${actorId}/connect`, {
        protocols: [`enclave.token.${pub}`, "enclave.v1"],
      });
      check(viaProtocol.kind === "open", "the WebSocket with the token as a subprotocol was not accepted");
      try {
        check(
          viaProtocol.socket.protocol === "enclave.v1",
          `the server selected the subprotocol "${viaProtocol.socket.protocol}", not enclave.v1`,
        );
        await viaProtocol.socket.next("the init message", (m) => m?.t === "init");
      } finally {
        await viaProtocol.socket.close();
      }
    },
  },
  {
    id: "no-outbound.drive.request",
    name: "drive raw HTTP requests to an actor (no credential reaches actor code)",
    profile: "core",
    async run(ctx) {
      const { actorId } = await ctx.createActor("drive-request");
      const a = await ctx.api.call("GET", `/gateway/${actorId}/request/conformance/hello`, {
        token: await ctx.publicToken(),
        query: { x: "1" },
      });
      expectStatus(a, 200, "GET /gateway/{id}/request/...");
      check(a.json?.path === "/conformance/hello", `the actor saw the path ${JSON.stringify(a.json?.path)}`);
      check(
        a.json?.sawAuthorization === false,
        "the actor's request handler received the caller's Authorization header",
      );
    },
  },
  {
    id: "no-outbound.drive.sleep-wake",
    name: "drive sleep and wake (forced sleep, wake on request)",
    profile: "core",
    async run(ctx) {
      const { actorId } = await ctx.createActor("drive-sleep");
      const before = await ctx.snapshot(actorId);
      await ctx.forceSleep(actorId);
      await ctx.waitStatus(actorId, "sleeping");
      const after = await ctx.snapshot(actorId);
      check(after.bootId !== before.bootId, "the actor answered from the same instance after a forced sleep");
    },
  },
  {
    id: "no-outbound.drive.alarms",
    name: "drive scheduled calls (alarms)",
    profile: "core",
    async run(ctx) {
      const { actorId } = await ctx.createActor("drive-alarm");
      await ctx.act(actorId, "scheduleAfter", 200, "drive");
      await waitFor(
        "the scheduled call to fire",
        async () => (await ctx.snapshot(actorId)).fires.some((f) => f.tag === "drive"),
        10_000,
        200,
      );
    },
  },
  {
    id: "no-outbound.drive.tokens",
    name: "drive token management: create, list (no secrets), revoke",
    profile: "core",
    async run(ctx) {
      const t = await ctx.createToken("public");
      const list = await ctx.admin("GET", "/tokens", { query: { namespace: ctx.namespace } });
      expectStatus(list, 200, "GET /tokens");
      check(Array.isArray(list.json?.tokens), "GET /tokens answered without a tokens list");
      check(
        (list.json.tokens as Json[]).some((x) => x?.id === t.id),
        "GET /tokens does not list the new token",
      );
      check(!list.text.includes(t.secret), "GET /tokens shows a token's secret");
      await ctx.revokeToken(t.id);
      const after = await ctx.admin("GET", "/tokens", { query: { namespace: ctx.namespace } });
      const entry = (after.json?.tokens as Json[] | undefined)?.find((x) => x?.id === t.id);
      check(typeof entry?.revokedAt === "number", "a revoked token is not shown as revoked");
    },
  },
  {
    id: "no-outbound.drive.metrics",
    name: "drive metrics (Prometheus scrape on loopback)",
    profile: "core",
    async run(ctx) {
      if (!ctx.local)
        notApplicable(
          "remote deployment: the metrics listener is not reachable from the suite (a separate, loopback-only port)",
        );
      const res = await fetch(`${ctx.local.metricsUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      check(res.status === 200, `GET /metrics answered ${res.status}`);
      check(text.includes("# TYPE enclave_"), "the metrics have no enclave_* series");
    },
  },
  {
    id: "no-outbound.drive.logs",
    name: "drive logging (an internal error is logged with its correlation id)",
    profile: "core",
    async run(ctx) {
      const { actorId } = await ctx.createActor("drive-logs");
      const a = await ctx.callAction(actorId, "internalError");
      expectError(a, 500, "actor", "internal_error", "an action throwing an Error");
      const id = a.json?.metadata?.correlationId as string;
      const engineLog = () => ctx.local?.output() ?? "";
      const runnerLog = () => ctx.runnerLog.join("");
      await waitFor(
        `a log line with the correlation id ${id}`,
        () => engineLog().includes(id) || runnerLog().includes(id),
        10_000,
      );
      if (!ctx.local) return;
      const lines = engineLog()
        .split("\n")
        .filter((l) => l.startsWith("{"));
      check(lines.length > 0, "the engine wrote no JSON log lines");
      const bad = lines.filter((l) => {
        try {
          JSON.parse(l);
          return false;
        } catch {
          return true;
        }
      });
      check(bad.length === 0, `${bad.length} log line(s) are not valid JSON`);
    },
  },
  {
    id: "no-outbound.drive.workspaces",
    name: "drive agent workspaces: boot, files, errors",
    profile: "core",
    async run(ctx) {
      const w = await createWorkspace(ctx, "drive-workspace");
      const id = w.actorId;
      await ws(ctx, id, "mkdir", "/home/user/drive/sub", { recursive: true });
      await ws(ctx, id, "writeFile", "/home/user/drive/sub/a.txt", "alpha");
      check(
        (await readText(ctx, id, "/home/user/drive/sub/a.txt")) === "alpha",
        "readFile did not return what was written",
      );
      const names = await ws(ctx, id, "readdir", "/home/user/drive");
      check(JSON.stringify(names) === '["sub"]', `readdir gave ${JSON.stringify(names)}`);
      const tree = (await ws(ctx, id, "readdirRecursive", "/home/user/drive")) as Json[];
      check(Array.isArray(tree) && tree.length === 2, `readdirRecursive gave ${JSON.stringify(tree)}`);
      const st = await ws(ctx, id, "stat", "/home/user/drive/sub/a.txt");
      check(st?.type === "file" && st?.size === 5, `stat gave ${JSON.stringify(st)}`);
      await ws(ctx, id, "move", "/home/user/drive/sub/a.txt", "/tmp/a.txt");
      check((await ws(ctx, id, "exists", "/tmp/a.txt")) === true, "move: the file is not at its new path");
      await ws(ctx, id, "deleteFile", "/tmp/a.txt");
      check((await ws(ctx, id, "exists", "/tmp/a.txt")) === false, "deleteFile left the file");
      const missing = await ctx.callAction(id, "readFile", ["/home/user/nope"]);
      expectError(missing, 404, "workspace", "ENOENT", "readFile of a missing file");
      const escape = await ctx.callAction(id, "exec", ["ln -s /etc/passwd /home/user/out"]);
      expectStatus(escape, 200, "exec ln -s");
      const viaLink = await ctx.callAction(id, "readFile", ["/home/user/out"]);
      expectError(viaLink, 403, "workspace", "EACCES", "readFile through a symlink leaving /home/user");
    },
  },
  {
    id: "no-outbound.drive.exec",
    name: "drive processes in a workspace: exec pipelines, spawn, wait, kill",
    profile: "core",
    async run(ctx) {
      const { actorId: id } = await createWorkspace(ctx, "drive-exec");
      const r = await ws(ctx, id, "exec", "echo hello | tr a-z A-Z");
      check(
        r?.stdout === "HELLO\n" && r?.exitCode === 0,
        `exec("echo hello | tr a-z A-Z") gave ${JSON.stringify(r)}`,
      );
      const many = await ws(ctx, id, "exec", "seq 100 | sort -rn | head -1 && ls /usr/bin | wc -l");
      const [top, count] = String(many?.stdout ?? "")
        .trim()
        .split("\n");
      check(top === "100" && Number(count) >= 30, `exec pipeline gave ${JSON.stringify(many)}`);
      const { pid } = (await ws(ctx, id, "spawn", "sleep", ["30"])) as { pid: number };
      await ws(ctx, id, "killProcess", pid, "SIGKILL");
      const exit = await ws(ctx, id, "waitProcess", pid);
      check(
        exit?.exitCode === 137 && exit?.signal === "SIGKILL",
        `a killed process reported ${JSON.stringify(exit)}`,
      );
    },
  },
  {
    id: "no-outbound.drive.preview-urls",
    name: "drive guest servers: node in a workspace, vmFetch, a preview URL",
    profile: "core",
    async run(ctx) {
      const w = await workspaceWithServer(ctx, "drive-preview");
      const r = await ws(ctx, w.actorId, "vmFetch", 3000, "/v", { method: "POST", body: "x" });
      check(r?.status === 200, `vmFetch answered ${JSON.stringify(r)}`);
      const p = await createPreview(ctx, w.actorId, 60);
      await expectPreviewServes(ctx, p, "when driven");
      const none = await ctx.callAction(w.actorId, "vmFetch", [3999, "/"]);
      expectError(none, 502, "workspace", "port_not_listening", "vmFetch to a port nobody listens on");
    },
  },
  notBuilt("sessions", "agent sessions with a local fake LLM", NO_SESSIONS),
  {
    id: "no-outbound.audit",
    name: "the egress audit shows no outbound attempt after driving every feature",
    profile: "core",
    async run(ctx) {
      await auditIsClean(ctx, "recorded");
    },
  },
  {
    id: "no-outbound.sockets",
    name: "the engine process holds no socket off loopback",
    profile: "core",
    async run(ctx) {
      socketsAreLocal(ctx);
    },
  },
]);

/** Run last, after the restarts: the audit and sockets of the engine as it is at the end. */
export const noOutboundFinalCases = cases("no-outbound", [
  {
    id: "no-outbound.audit-final",
    name: "the egress audit is still clean at the end of the run (after restarts)",
    profile: "core",
    async run(ctx) {
      await auditIsClean(ctx, ctx.restarts > 0 ? "recorded since the last restart" : "recorded");
    },
  },
  {
    id: "no-outbound.sockets-final",
    name: "the engine process holds no socket off loopback at the end of the run",
    profile: "core",
    async run(ctx) {
      socketsAreLocal(ctx);
    },
  },
]);
