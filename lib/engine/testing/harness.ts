/**
 * Test helpers for the engine and actor tests: a real engine (`createEngine`) on a real on-disk
 * LevelStore in a temporary directory, polling with deadlines, and error assertions.
 * Imported by tests only (it uses vitest's hooks to clean up).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, expect } from "vitest";
import type { AnyActorDefinition } from "../../actor/definition.js";
import type { EngineConfigInput } from "../../config/index.js";
import { createEngine, type EnclaveEngine } from "../../create-engine.js";
import { EnclaveError } from "../../errors.js";
import { setup } from "../../setup.js";
import { LevelStore, collect, packKey, type KeyPart } from "../../store/index.js";
import type { Engine } from "../engine.js";

export const NS = "default";

const dirs: string[] = [];
const open = new Set<EnclaveEngine>();

afterEach(async () => {
  // An engine a failed test left open still holds its directory's lock.
  await Promise.all([...open].map((r) => r.close().catch(() => undefined)));
  open.clear();
});
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "enclave-engine-"));
  dirs.push(dir);
  return dir;
}

export interface StartOptions {
  /** Data directory; a fresh temporary one by default. */
  dir?: string;
  limits?: NonNullable<EngineConfigInput["limits"]>;
  actors?: NonNullable<EngineConfigInput["actors"]>;
}

export interface Started {
  dir: string;
  running: EnclaveEngine;
  engine: Engine;
  /** Graceful close (actors sleep, store closed). */
  close(): Promise<void>;
}

/** Starts an engine the way a vendor would, on the on-disk store, hosting `use`. */
export async function startEngine(
  use: Record<string, AnyActorDefinition>,
  options: StartOptions = {},
): Promise<Started> {
  const dir = options.dir ?? (await tempDir());
  const input: EngineConfigInput = {
    storage: { fileSystem: { path: dir } },
    gateway: { host: "127.0.0.1", port: 0 },
    auth: { adminToken: "a".repeat(32) },
    log: { level: "silent" },
    shutdown: { timeoutMs: 10_000 },
  };
  if (options.limits) input.limits = options.limits;
  if (options.actors) input.actors = options.actors;
  const running = await createEngine({ ...input, registry: setup({ use }), env: {} });
  open.add(running);
  return {
    dir,
    running,
    engine: running.engine,
    close: async () => {
      open.delete(running);
      await running.close();
    },
  };
}

/** Creates (or finds) the actor `name`/`key` and returns its id. */
export async function actorId(engine: Engine, name: string, key: string | string[], input?: unknown) {
  const { record } = await engine.getOrCreate(NS, name, key, input, "getOrCreate");
  return record.actorId;
}

export function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns true (or a truthy promise), failing after `timeoutMs`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleepMs(15);
  }
}

/** Awaits `p`, expecting it to reject with the engine error `group`/`code`; returns the error. */
export async function expectEnclaveError(
  p: Promise<unknown>,
  group: string,
  code: string,
  status?: number,
): Promise<EnclaveError> {
  const e: unknown = await p.then(
    (v) => {
      throw new Error(`expected ${group}/${code}, got the value ${JSON.stringify(v)}`);
    },
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(EnclaveError);
  const error = e as EnclaveError;
  expect({ group: error.group, code: error.code }).toEqual({ group, code });
  if (status !== undefined) expect(error.status).toBe(status);
  return error;
}

/**
 * Every key in the data directory `dir` whose bytes start with the packed tuple `parts` (the
 * engine must be closed). A byte prefix, not a tuple range: KV keys are the packed
 * `[Subspace.kv, actorId]` followed by the raw user key, which may start with 0xff.
 */
export async function storedKeys(dir: string, parts: KeyPart[]): Promise<Uint8Array[]> {
  const prefix = packKey(parts);
  const end = prefix.slice();
  let i = end.length - 1;
  while (end[i] === 0xff) i--;
  end[i]! += 1;
  const store = await LevelStore.open(dir);
  try {
    return (await collect(store.range({ gte: prefix, lt: end.slice(0, i + 1) }))).map(([k]) => k);
  } finally {
    await store.close();
  }
}

/** The value at the exact tuple key `parts` in the data directory `dir` (engine must be closed). */
export async function storedValue(dir: string, parts: KeyPart[]): Promise<Uint8Array | undefined> {
  const store = await LevelStore.open(dir);
  try {
    return await store.get(packKey(parts));
  } finally {
    await store.close();
  }
}

export { runChild, type Child } from "../../store/testing/child-process.js";
