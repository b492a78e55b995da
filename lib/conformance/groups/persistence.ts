/**
 * persistence: state, KV and scheduled calls survive idle sleep, forced sleep, a graceful
 * restart and (disruptive profile) `kill -9` right after an acknowledged write; an alarm due
 * while the actor sleeps fires by itself; one due while the engine is down fires once after.
 */
import { cases, NO_SESSIONS, type ConformanceCase } from "../case.js";
import { check, fail, notApplicable, sleep, waitFor } from "../check.js";
import { CONFORMANCE_SLEEP_TIMEOUT_MS, type Snapshot } from "../app.js";
import {
  createPreview,
  expectPreviewServes,
  verifyWorkspaceFiles,
  workspaceWithServer,
  writeWorkspaceFiles,
  ws,
} from "./workspace.js";
import { SOON_MS, type ActorRef, type SuiteContext } from "../context.js";

interface Written {
  actor: ActorRef;
  count: number;
  kv: Record<string, string>;
  boot: string;
}

/** Writes state (a count) and KV entries, each acknowledged. */
async function write(ctx: SuiteContext, label: string, increments = 3): Promise<Written> {
  const actor = await ctx.createActor(label);
  let count = 0;
  for (let i = 1; i <= increments; i++) count = (await ctx.act(actor.actorId, "increment", i)) as number;
  const kv: Record<string, string> = {};
  for (const k of ["alpha", "beta"]) {
    kv[k] = `${label}-${k}-${ctx.runId}`;
    await ctx.act(actor.actorId, "kvPut", k, kv[k]);
  }
  const boot = (await ctx.snapshot(actor.actorId)).bootId;
  return { actor, count, kv, boot };
}

/** Reads it all back: state and KV as written, from a new instance (the actor really stopped). */
async function verify(ctx: SuiteContext, w: Written, after: string): Promise<Snapshot> {
  const s = await ctx.snapshot(w.actor.actorId);
  check(s.count === w.count, `state lost ${after}: count is ${s.count}, was acknowledged as ${w.count}`);
  for (const [k, v] of Object.entries(w.kv)) {
    const got = await ctx.act(w.actor.actorId, "kvGet", k);
    check(got === v, `KV entry "${k}" lost ${after}: ${JSON.stringify(got)}`);
  }
  check(s.bootId !== w.boot, `the actor answered from the same instance ${after}: it never stopped`);
  return s;
}

/** Waits until `tag` fired; returns how many times it fired. */
async function waitFired(
  ctx: SuiteContext,
  actorId: string,
  tag: string,
  timeoutMs = SOON_MS,
): Promise<number> {
  const s = await waitFor(
    `the scheduled call "${tag}" to fire`,
    async () => {
      const snap = await ctx.snapshot(actorId);
      return snap.fires.some((f) => f.tag === tag) ? snap : undefined;
    },
    timeoutMs,
    250,
  );
  return s.fires.filter((f) => f.tag === tag).length;
}

async function firedOnce(ctx: SuiteContext, actorId: string, tag: string): Promise<void> {
  await waitFired(ctx, actorId, tag, 60_000);
  // Give a duplicate delivery time to show.
  await sleep(1500);
  const n = (await ctx.snapshot(actorId)).fires.filter((f) => f.tag === tag).length;
  check(n === 1, `the scheduled call "${tag}" fired ${n} times, expected exactly once`);
}

const notBuilt = (id: string, what: string, why: string): Omit<ConformanceCase, "group"> => ({
  id: `persistence.${id}`,
  name: `${what} survive sleep, restart and crash`,
  profile: "core",
  async run() {
    notApplicable(why);
  },
});

export const persistenceCases = cases("persistence", [
  {
    id: "persistence.idle-sleep",
    name: "state and KV survive idle sleep",
    profile: "core",
    async run(ctx) {
      const w = await write(ctx, "idle-sleep");
      await ctx.waitStatus(w.actor.actorId, "sleeping", CONFORMANCE_SLEEP_TIMEOUT_MS + SOON_MS);
      await verify(ctx, w, "after idle sleep");
    },
  },
  {
    id: "persistence.forced-sleep",
    name: "state, KV and pending alarms survive a forced sleep (admin)",
    profile: "core",
    async run(ctx) {
      ctx.adminToken();
      const w = await write(ctx, "forced-sleep");
      await ctx.act(w.actor.actorId, "scheduleAfter", 60 * 60 * 1000, "later");
      await ctx.forceSleep(w.actor.actorId);
      await ctx.waitStatus(w.actor.actorId, "sleeping");
      await verify(ctx, w, "after a forced sleep");
      const pending = await ctx.act(w.actor.actorId, "pending");
      check(pending === 1, `${pending} scheduled calls pending after a forced sleep, expected 1`);
    },
  },
  {
    id: "persistence.alarm-while-asleep",
    name: "an alarm due while the actor sleeps wakes it and fires (once)",
    profile: "core",
    async run(ctx) {
      ctx.adminToken();
      const { actorId } = await ctx.createActor("alarm-asleep");
      const delay = 3000;
      const scheduledAt = Date.now();
      await ctx.act(actorId, "scheduleAfter", delay, "asleep");
      await ctx.forceSleep(actorId);
      await ctx.waitStatus(actorId, "sleeping");
      check(Date.now() < scheduledAt + delay, "the actor took too long to fall asleep for this check");
      // Touch nothing that would wake it: GET /actors/{id} reads the directory only.
      const woke = await waitFor(
        "the alarm to wake the actor by itself",
        async () => (await ctx.actorStatus(actorId)) === "running",
        delay + SOON_MS,
        100,
      ).catch(() => false);
      const askedAt = Date.now();
      const s = await ctx.snapshot(actorId);
      const fire = s.fires.find((f) => f.tag === "asleep");
      if (!fire) {
        await firedOnce(ctx, actorId, "asleep");
        fail(
          "the alarm did not fire while the actor slept; it fired only once the actor was woken by a request",
        );
      }
      check(
        woke !== false || fire.at < askedAt - 200,
        "the alarm fired only when the suite woke the actor, not by itself",
      );
      await firedOnce(ctx, actorId, "asleep");
    },
  },
  {
    id: "persistence.workspace-files",
    name: "workspace files (/home/user) survive idle and forced sleep",
    profile: "core",
    async run(ctx) {
      ctx.adminToken();
      const w = await writeWorkspaceFiles(ctx, "ws-sleep");
      await ws(ctx, w.ws.actorId, "writeFile", "/tmp/scratch", "memory only");
      await ctx.waitStatus(w.ws.actorId, "sleeping", CONFORMANCE_SLEEP_TIMEOUT_MS + SOON_MS);
      await verifyWorkspaceFiles(ctx, w, "after idle sleep");
      check(
        (await ws(ctx, w.ws.actorId, "exists", "/tmp/scratch")) === false,
        "/tmp kept a file across sleep: it should start empty on every boot",
      );
      await ctx.forceSleep(w.ws.actorId);
      await ctx.waitStatus(w.ws.actorId, "sleeping");
      await verifyWorkspaceFiles(ctx, w, "after a forced sleep");
    },
  },
  {
    id: "persistence.preview-tokens",
    name: "preview URL tokens survive a forced sleep (the workspace wakes to serve them)",
    profile: "core",
    async run(ctx) {
      ctx.adminToken();
      const w = await workspaceWithServer(ctx, "preview-sleep");
      const p = await createPreview(ctx, w.actorId);
      await expectPreviewServes(ctx, p, "right after it was created");
      // Its spawned server keeps it awake, so only a forced sleep stops it (and the server).
      await ctx.forceSleep(w.actorId);
      await ctx.waitStatus(w.actorId, "sleeping");
      await expectPreviewServes(ctx, p, "after a forced sleep");
    },
  },
  notBuilt("session-transcripts", "agent session transcripts", NO_SESSIONS),
]);

/** Restarts: run after everything else that needs a steady engine. */
export const restartCases = cases("persistence", [
  {
    id: "persistence.workspace-files-restart",
    name: "workspace files and preview tokens survive a graceful restart",
    profile: "core",
    timeoutMs: 240_000,
    async run(ctx) {
      ctx.requireRestart();
      const w = await writeWorkspaceFiles(ctx, "ws-graceful");
      const server = await workspaceWithServer(ctx, "preview-graceful");
      const p = await createPreview(ctx, server.actorId);
      await ctx.restart("graceful");
      await verifyWorkspaceFiles(ctx, w, "after a graceful restart");
      await expectPreviewServes(ctx, p, "after a graceful restart");
    },
  },
  {
    id: "persistence.workspace-files-kill-9",
    name: "acknowledged workspace files and preview tokens survive kill -9 right after the acknowledgement",
    profile: "disruptive",
    timeoutMs: 240_000,
    async run(ctx) {
      ctx.requireRestart();
      const server = await workspaceWithServer(ctx, "preview-kill");
      const p = await createPreview(ctx, server.actorId);
      const w = await writeWorkspaceFiles(ctx, "ws-kill");
      await ctx.restart("kill");
      await verifyWorkspaceFiles(ctx, w, "after kill -9");
      await expectPreviewServes(ctx, p, "after kill -9");
    },
  },
  {
    id: "persistence.graceful-restart",
    name: "state, KV and alarms survive a graceful restart; SIGTERM exits 0",
    profile: "core",
    timeoutMs: 240_000,
    async run(ctx) {
      ctx.requireRestart();
      const w = await write(ctx, "graceful");
      await ctx.act(w.actor.actorId, "scheduleAfter", 60 * 60 * 1000, "later");
      const { exit } = await ctx.restart("graceful");
      if (exit) {
        check(
          exit.code === 0,
          `the engine exited with ${exit.signal ?? `code ${exit.code}`} on SIGTERM, expected 0`,
        );
      }
      await verify(ctx, w, "after a graceful restart");
      const pending = await ctx.act(w.actor.actorId, "pending");
      check(pending === 1, `${pending} scheduled calls pending after a graceful restart, expected 1`);
    },
  },
  {
    id: "persistence.alarm-while-stopped",
    name: "an alarm due while the engine is stopped fires once after a graceful restart",
    profile: "core",
    timeoutMs: 240_000,
    async run(ctx) {
      ctx.requireRestart();
      const { actorId } = await ctx.createActor("alarm-stopped");
      await ctx.act(actorId, "scheduleAfter", 1000, "stopped");
      await ctx.restart("graceful", 2500);
      await firedOnce(ctx, actorId, "stopped");
    },
  },
  {
    id: "persistence.kill-9",
    name: "acknowledged writes survive kill -9 right after the acknowledgement",
    profile: "disruptive",
    timeoutMs: 240_000,
    async run(ctx) {
      ctx.requireRestart();
      const w = await write(ctx, "kill-9");
      // Several actors writing at once (group commit), the kill right after the last answer.
      const others = await Promise.all([1, 2, 3].map((i) => ctx.createActor(`kill-9-${i}`)));
      const acked = new Map<string, number>();
      await Promise.all(
        others.map(async (a) => {
          for (let i = 0; i < 10; i++)
            acked.set(a.actorId, (await ctx.act(a.actorId, "increment", 1)) as number);
        }),
      );
      w.count = (await ctx.act(w.actor.actorId, "increment", 1000)) as number;
      await ctx.restart("kill");
      await verify(ctx, w, "after kill -9");
      for (const [id, n] of acked) {
        const s = await ctx.snapshot(id);
        check(
          s.count >= n,
          `an actor lost acknowledged writes in kill -9: count ${s.count}, acknowledged ${n}`,
        );
      }
    },
  },
  {
    id: "persistence.alarm-while-killed",
    name: "an alarm due while the engine is down after kill -9 fires once after restart",
    profile: "disruptive",
    timeoutMs: 240_000,
    async run(ctx) {
      ctx.requireRestart();
      const { actorId } = await ctx.createActor("alarm-killed");
      await ctx.act(actorId, "scheduleAfter", 1000, "killed");
      await ctx.restart("kill", 2500);
      await firedOnce(ctx, actorId, "killed");
    },
  },
]);
