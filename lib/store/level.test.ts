import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { EnclaveError } from "../errors.js";
import { packKey, prefixRange } from "./keys.js";
import { LevelStore } from "./level.js";
import { runChild } from "./testing/child-process.js";
import { storeContract } from "./testing/contract.js";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "enclave-store-"));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

storeContract("LevelStore", { open: async () => LevelStore.open(await tempDir()) });

const child = fileURLToPath(new URL("./testing/store-child.ts", import.meta.url));
const run = (args: string[]) => runChild(child, args);

describe("LevelStore on disk", () => {
  it("keeps data across close and reopen", async () => {
    const dir = await tempDir();
    const a = await LevelStore.open(dir);
    await a.batch([{ type: "put", key: packKey(["x"]), value: new Uint8Array([1]) }]);
    await a.close();
    const b = await LevelStore.open(dir);
    expect(await b.get(packKey(["x"]))).toEqual(new Uint8Array([1]));
    await b.close();
  });

  it("a clearRange racing close() completes and is kept", async () => {
    const dir = await tempDir();
    const a = await LevelStore.open(dir);
    await a.batch(
      Array.from({ length: 2000 }, (_, i) => ({
        type: "put" as const,
        key: packKey(["c", i]),
        value: new Uint8Array(10),
      })),
    );
    const clearing = a.clearRange(prefixRange(["c"]));
    await a.close();
    await clearing;
    const b = await LevelStore.open(dir);
    const left: unknown[] = [];
    for await (const entry of b.range(prefixRange(["c"]))) left.push(entry);
    expect(left).toEqual([]);
    expect(b.stats()).toEqual({ commits: 0, batches: 0 });
    await b.close();
  });

  it("creates missing parent directories", async () => {
    const dir = path.join(await tempDir(), "a", "b", "c");
    const store = await LevelStore.open(dir);
    expect(store.location).toBe(dir);
    await store.close();
  });

  it("refuses a directory already open in this process, naming it", async () => {
    const dir = await tempDir();
    const first = await LevelStore.open(dir);
    const error: unknown = await LevelStore.open(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnclaveError);
    expect((error as Error).message).toBe(`data directory ${dir} is in use by another process`);
    await first.close();
    // Released on close.
    await (await LevelStore.open(dir)).close();
  });

  it("refuses a directory held by another process, naming it", async () => {
    const dir = await tempDir();
    const held = await LevelStore.open(dir);
    try {
      const proc = run(["open", dir]);
      await proc.exit;
      expect(proc.lines).toHaveLength(1);
      expect(JSON.parse(proc.lines[0]!)).toEqual({
        ok: false,
        group: "store",
        code: "unavailable",
        message: `data directory ${dir} is in use by another process`,
      });
    } finally {
      await held.close();
    }
  });

  it("acknowledged writes survive SIGKILL", async () => {
    const dir = await tempDir();
    const proc = run(["write", dir, "200000"]);
    const acks = (lines: string[]) => lines.filter((l) => /^\d+$/.test(l));
    await proc.until((lines) => acks(lines).length >= 3000, 20_000);
    proc.kill();
    const { signal } = await proc.exit;
    expect(signal).toBe("SIGKILL");
    expect(proc.lines).not.toContain("done"); // killed mid-stream
    expect(proc.lines[0]).toBe("cleared");
    const acked = acks(proc.lines).map(Number);
    expect(acked.length).toBeGreaterThanOrEqual(3000);

    const store = await LevelStore.open(dir);
    try {
      const values = await store.getMany(acked.map((i) => packKey(["ack", i])));
      const missing = acked.filter((_, j) => values[j] === undefined);
      expect(missing).toEqual([]);
      values.forEach((v, j) => expect(v).toEqual(packKey([acked[j]!, "payload"])));
      const cleared: unknown[] = [];
      for await (const entry of store.range(prefixRange(["pre"]))) cleared.push(entry);
      expect(cleared).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
