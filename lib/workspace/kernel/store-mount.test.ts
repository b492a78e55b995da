import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Kernel } from "./kernel.js";
import { CHUNK_SIZE, chunkKey, encodeIno, encodeInode, entryKey, inodeKey } from "./store-codec.js";
import { StoreMount } from "./store-mount.js";
import type { PersistBackend } from "./types.js";
import { KernelVfs } from "./vfs.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
/** Byte equality without vitest's per-element diffing (slow on megabytes). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** The test's PersistBackend: a Map, with every commit recorded and an optional gate. */
class MapBackend implements PersistBackend {
  readonly data = new Map<string, [Uint8Array, Uint8Array]>();
  commits: { key: Uint8Array; value: Uint8Array | undefined }[][] = [];
  gate: Promise<void> | undefined;
  failNext = false;

  async load(): Promise<[Uint8Array, Uint8Array][]> {
    return [...this.data.values()].map(([k, v]) => [k.slice(), v.slice()]);
  }

  async commit(ops: { key: Uint8Array; value: Uint8Array | undefined }[]): Promise<void> {
    this.commits.push(ops);
    if (this.gate) await this.gate;
    if (this.failNext) {
      this.failNext = false;
      throw new Error("disk on fire");
    }
    for (const { key, value } of ops) {
      if (value === undefined) this.data.delete(hex(key));
      else this.data.set(hex(key), [key.slice(), value.slice()]);
    }
  }
}

async function mountAt(backend: PersistBackend): Promise<{ vfs: KernelVfs; store: StoreMount }> {
  const store = await StoreMount.open(backend);
  const vfs = new KernelVfs();
  vfs.mount("/home/user", store);
  return { vfs, store };
}

/** Everything observable about a tree, hard links shown by shared inode numbers. */
function snapshot(vfs: KernelVfs, root: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (dir: string) => {
    for (const entry of vfs.readdir(dir).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = `${dir}/${entry.name}`;
      const st = vfs.lstat(path);
      const row: Record<string, unknown> = {
        type: st.type,
        mode: st.mode,
        nlink: st.nlink,
        size: st.size,
        mtimeMs: st.mtimeMs,
        ino: st.ino,
      };
      if (st.type === "symlink") row.target = vfs.readlink(path);
      if (st.type === "file") row.sha = createHash("sha256").update(vfs.readFile(path)).digest("hex");
      out[path.slice(root.length)] = row;
      if (st.type === "directory") walk(path);
    }
  };
  walk(root);
  return out;
}

function bigFile(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

describe("store-backed mount", () => {
  it("round-trips a tree through flush and a fresh load", async () => {
    const backend = new MapBackend();
    const { vfs, store } = await mountAt(backend);
    vfs.mkdir("/home/user/src/deep/er", { recursive: true });
    vfs.mkdir("/home/user/empty");
    vfs.writeFile("/home/user/src/main.ts", "console.log(1)\n");
    vfs.writeFile("/home/user/big.bin", bigFile(1024 * 1024, 7));
    vfs.writeFile("/home/user/run.sh", "#!/bin/sh\n", { mode: 0o755 });
    vfs.chmod("/home/user/src/deep", 0o700);
    vfs.symlink("src/main.ts", "/home/user/link");
    vfs.symlink("/home/user/missing", "/home/user/dangling");
    vfs.link("/home/user/run.sh", "/home/user/src/run-again.sh");
    vfs.writeFile("/home/user/empty-file", "");
    vfs.utimes("/home/user/src/main.ts", 1_000, 1_700_000_000_123);
    await store.flush();
    expect(store.dirty).toBe(false);

    const before = snapshot(vfs, "/home/user");
    const fresh = await mountAt(backend);
    expect(snapshot(fresh.vfs, "/home/user")).toEqual(before);
    expect(before["/src/main.ts"]).toMatchObject({ mtimeMs: 1_700_000_000_123 });
    expect(before["/run.sh"]).toMatchObject({ nlink: 2, mode: 0o755 });
    expect(same(fresh.vfs.readFile("/home/user/big.bin"), bigFile(1024 * 1024, 7))).toBe(true);
    expect(fresh.vfs.readFile("/home/user/link")).toEqual(vfs.readFile("/home/user/src/main.ts"));
    expect(fresh.vfs.usage()).toEqual(vfs.usage());
    // Writing to one name of a hard link changes the other after reload too.
    fresh.vfs.writeFile("/home/user/src/run-again.sh", "changed");
    expect(new TextDecoder().decode(fresh.vfs.readFile("/home/user/run.sh"))).toBe("changed");
    // Big files are stored in chunks of at most 64 KiB.
    for (const [, value] of backend.data.values()) expect(value.length).toBeLessThanOrEqual(CHUNK_SIZE);
  });

  it("persists deletions and renames without leaving records behind", async () => {
    const backend = new MapBackend();
    const { vfs, store } = await mountAt(backend);
    await store.flush();
    const baseline = backend.data.size;
    vfs.mkdir("/home/user/a/b", { recursive: true });
    vfs.writeFile("/home/user/a/b/f", bigFile(300_000, 1));
    vfs.symlink("a", "/home/user/s");
    vfs.writeFile("/home/user/g", "g");
    await store.flush();
    vfs.rename("/home/user/a/b/f", "/home/user/f");
    vfs.rename("/home/user/g", "/home/user/a/g2");
    await store.flush();
    let fresh = await mountAt(backend);
    expect(snapshot(fresh.vfs, "/home/user")).toEqual(snapshot(vfs, "/home/user"));
    vfs.rm("/home/user/a", { recursive: true });
    vfs.unlink("/home/user/f");
    vfs.unlink("/home/user/s");
    await store.flush();
    fresh = await mountAt(backend);
    expect(fresh.vfs.readdir("/home/user")).toEqual([]);
    expect(backend.data.size).toBe(baseline);
  });

  it("rewrites only changed chunks and deletes chunks past a shrink", async () => {
    const backend = new MapBackend();
    const { vfs, store } = await mountAt(backend);
    vfs.writeFile("/home/user/big", bigFile(1024 * 1024, 3));
    await store.flush();
    const h = vfs.open("/home/user/big", { write: true });
    h.write(new Uint8Array([1, 2, 3]), 5 * CHUNK_SIZE + 10);
    h.close();
    backend.commits = [];
    await store.flush();
    const chunkPuts = backend.commits[0]!.filter((op) => op.key[0] === 3 && op.value !== undefined);
    expect(chunkPuts.map((op) => op.key)).toEqual([
      chunkKey(new Uint8Array(0), vfs.stat("/home/user/big").ino, 5),
    ]);
    expect(chunkPuts[0]!.value!.length).toBe(CHUNK_SIZE);

    vfs.truncate("/home/user/big", 10);
    backend.commits = [];
    await store.flush();
    const deletes = backend.commits[0]!.filter((op) => op.key[0] === 3 && op.value === undefined);
    expect(deletes.length).toBe(15);
    const fresh = await mountAt(backend);
    expect(fresh.vfs.readFile("/home/user/big")).toEqual(bigFile(10, 3));
    expect([...backend.data.values()].filter(([key]) => key[0] === 3).length).toBe(1);
  });

  it("loads past orphans of an interrupted change and collects them on the next flush", async () => {
    const backend = new MapBackend();
    const { vfs, store } = await mountAt(backend);
    vfs.writeFile("/home/user/keep", "kept");
    vfs.mkdir("/home/user/dir");
    await store.flush();
    const keyCount = backend.data.size;
    const p = new Uint8Array(0);
    const orphanRecord = encodeInode({
      type: "file",
      mode: 0o644,
      nlink: 1,
      uid: 1000,
      gid: 1000,
      size: 3,
      atimeMs: 0,
      mtimeMs: 0,
      ctimeMs: 0,
      birthtimeMs: 0,
      link: null,
    });
    const keepIno = vfs.stat("/home/user/keep").ino;
    const junk: [Uint8Array, Uint8Array][] = [
      [inodeKey(p, 900), orphanRecord], // an inode no entry names
      [chunkKey(p, 900, 0), new Uint8Array(3)], // its data
      [entryKey(p, 1, "ghost"), encodeIno(901)], // an entry naming a missing inode
      [entryKey(p, 950, "lost"), encodeIno(keepIno)], // an entry in a missing directory
      [chunkKey(p, keepIno, 4), new Uint8Array(10)], // a chunk past the end of a file
      [inodeKey(p, 902), new Uint8Array([99])], // a record this version cannot read
    ];
    for (const [key, value] of junk) backend.data.set(hex(key), [key, value]);

    const fresh = await mountAt(backend);
    expect(
      fresh.vfs
        .readdir("/home/user")
        .map((e) => e.name)
        .sort(),
    ).toEqual(["dir", "keep"]);
    expect(new TextDecoder().decode(fresh.vfs.readFile("/home/user/keep"))).toBe("kept");
    expect(fresh.vfs.stat("/home/user/keep").nlink).toBe(1);
    expect(fresh.store.dirty).toBe(true);
    await fresh.store.flush();
    expect(backend.data.size).toBe(keyCount);
    // New inodes never reuse a number seen in the store.
    fresh.vfs.writeFile("/home/user/new", "n");
    expect(fresh.vfs.stat("/home/user/new").ino).toBeGreaterThan(950);
  });

  it("shows the last flushed tree after a crash, never a half-written one", async () => {
    const backend = new MapBackend();
    const { vfs, store } = await mountAt(backend);
    vfs.writeFile("/home/user/a", "1");
    await store.flush();
    vfs.writeFile("/home/user/a", "2");
    vfs.writeFile("/home/user/b", "unflushed");
    // "Crash": the process dies here; only the store survives.
    const fresh = await mountAt(backend);
    expect(fresh.vfs.readdir("/home/user").map((e) => e.name)).toEqual(["a"]);
    expect(new TextDecoder().decode(fresh.vfs.readFile("/home/user/a"))).toBe("1");
  });

  it("coalesces concurrent flushes: one in flight, later callers share the next", async () => {
    const backend = new MapBackend();
    const { vfs, store } = await mountAt(backend);
    await store.flush();
    backend.commits = [];
    let open!: () => void;
    backend.gate = new Promise((resolve) => (open = resolve));
    vfs.writeFile("/home/user/one", "1");
    const first = store.flush();
    vfs.writeFile("/home/user/two", "2");
    const second = store.flush();
    vfs.writeFile("/home/user/three", "3");
    const third = store.flush();
    expect(second).toBe(third);
    expect(backend.commits.length).toBe(1);
    open();
    await Promise.all([first, second, third]);
    expect(backend.commits.length).toBe(2);
    const fresh = await mountAt(backend);
    expect(
      fresh.vfs
        .readdir("/home/user")
        .map((e) => e.name)
        .sort(),
    ).toEqual(["one", "three", "two"]);
  });

  it("retries a failed commit's changes on the next flush", async () => {
    const backend = new MapBackend();
    const { vfs, store } = await mountAt(backend);
    vfs.writeFile("/home/user/f", bigFile(200_000, 9));
    backend.failNext = true;
    await expect(store.flush()).rejects.toThrow("disk on fire");
    expect(store.dirty).toBe(true);
    await store.flush();
    const fresh = await mountAt(backend);
    expect(same(fresh.vfs.readFile("/home/user/f"), bigFile(200_000, 9))).toBe(true);
  });

  it("is flushed by the kernel's flush and shutdown", async () => {
    const backend = new MapBackend();
    const home = await StoreMount.open(backend);
    const kernel = new Kernel({ mounts: [{ path: "/home/user", mount: home }] });
    kernel.vfs.writeFile("/home/user/notes.txt", "remember");
    await kernel.flush();
    kernel.vfs.writeFile("/home/user/late.txt", "late");
    await kernel.shutdown();
    const again = new Kernel({ mounts: [{ path: "/home/user", mount: await StoreMount.open(backend) }] });
    expect(
      again.vfs
        .readdir("/home/user")
        .map((e) => e.name)
        .sort(),
    ).toEqual(["late.txt", "notes.txt"]);
  });

  it("keeps keys under a prefix when given one", async () => {
    const backend = new MapBackend();
    const prefix = new Uint8Array([0xaa, 0xbb]);
    const store = await StoreMount.open(backend, { prefix });
    const vfs = new KernelVfs();
    vfs.mount("/home/user", store);
    vfs.writeFile("/home/user/x", "x");
    await store.flush();
    for (const [key] of backend.data.values()) expect([...key.subarray(0, 2)]).toEqual([0xaa, 0xbb]);
    const other = await StoreMount.open(backend);
    const vfs2 = new KernelVfs();
    vfs2.mount("/home/user", other);
    expect(vfs2.readdir("/home/user")).toEqual([]);
  });
});
