import { Inode, Mount } from "./inode.js";
import {
  CHUNK_SIZE,
  FORMAT_VERSION,
  TAG_CHUNK,
  TAG_ENTRY,
  TAG_HEADER,
  TAG_INODE,
  chunkKey,
  decodeIno,
  decodeInode,
  decodeKey,
  encodeIno,
  encodeInode,
  entryKey,
  headerKey,
  inodeKey,
  type InodeRecord,
} from "./store-codec.js";
import type { PersistBackend } from "./types.js";

type Op = { key: Uint8Array; value: Uint8Array | undefined };

/** What one flush took out of the dirty sets, kept to put back if the commit fails. */
interface Snapshot {
  meta: Set<Inode>;
  entries: Map<Inode, Set<string>>;
  chunks: Map<Inode, Set<number>>;
  freed: Set<Inode>;
  garbage: Uint8Array[];
  counts: Map<Inode, number | undefined>;
  header: boolean;
}

function validName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");
}

/**
 * A writable mount persisted through a `PersistBackend`. Mutations change memory at once and
 * mark what they touched; `flush()` writes every marked record in one atomic commit, so the
 * store always holds a tree as it was at some flush. `load()` rebuilds the tree, ignoring
 * records no path reaches (and deleting them on the next flush).
 */
export class StoreMount extends Mount {
  private readonly prefix: Uint8Array;
  private loaded = false;
  private headerStored = false;
  private meta = new Set<Inode>();
  private entries = new Map<Inode, Set<string>>();
  private chunks = new Map<Inode, Set<number>>();
  private freed = new Set<Inode>();
  private garbage: Uint8Array[] = [];
  /** Chunks each file has in the store (what a shrink must delete). */
  private readonly storedChunks = new Map<Inode, number>();
  private inflight: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(
    private readonly backend: PersistBackend,
    options: { prefix?: Uint8Array } = {},
  ) {
    super({ readOnly: false });
    this.prefix = options.prefix ?? new Uint8Array(0);
  }

  /** A mount loaded from `backend`. */
  static async open(backend: PersistBackend, options: { prefix?: Uint8Array } = {}): Promise<StoreMount> {
    const mount = new StoreMount(backend, options);
    await mount.load();
    return mount;
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  /** True when there are changes no flush has committed yet. */
  get dirty(): boolean {
    return (
      this.meta.size > 0 ||
      this.entries.size > 0 ||
      this.chunks.size > 0 ||
      this.freed.size > 0 ||
      this.garbage.length > 0
    );
  }

  // ---- change tracking (called by the VFS) ----

  override noteMeta(node: Inode): void {
    if (node.nlink > 0) this.meta.add(node);
  }

  override noteEntry(dir: Inode, name: string): void {
    let names = this.entries.get(dir);
    if (names === undefined) this.entries.set(dir, (names = new Set()));
    names.add(name);
  }

  override noteData(node: Inode, start: number, end: number): void {
    if (node.nlink === 0 || end <= start) return;
    let set = this.chunks.get(node);
    if (set === undefined) this.chunks.set(node, (set = new Set()));
    const last = Math.floor((end - 1) / CHUNK_SIZE);
    for (let i = Math.floor(start / CHUNK_SIZE); i <= last; i++) set.add(i);
  }

  override noteFree(node: Inode): void {
    // Pending entry changes of a removed directory stay: they delete its stored entries.
    this.meta.delete(node);
    this.chunks.delete(node);
    this.freed.add(node);
  }

  // ---- loading ----

  /** Rebuilds the tree from the backend. Call once, before the mount is used. */
  async load(): Promise<void> {
    if (this.loaded) throw new Error("StoreMount.load called twice");
    this.loaded = true;
    const records = await this.backend.load();
    const prefix = this.prefix;
    const inodes = new Map<number, { record: InodeRecord; key: Uint8Array }>();
    const dirEntries = new Map<number, { name: string; child: number; key: Uint8Array }[]>();
    const fileChunks = new Map<number, { index: number; value: Uint8Array; key: Uint8Array }[]>();
    let maxIno = 1;
    for (const [key, value] of records) {
      const k = decodeKey(prefix, key);
      if (k === undefined) continue;
      if (k.tag === TAG_HEADER) {
        if (value[0] !== FORMAT_VERSION) {
          throw new Error(`store mount: unsupported format version ${value[0]}`);
        }
        this.headerStored = true;
        continue;
      }
      maxIno = Math.max(maxIno, k.ino);
      if (k.tag === TAG_INODE) {
        const record = decodeInode(value);
        if (record === undefined) this.garbage.push(key);
        else inodes.set(k.ino, { record, key });
      } else if (k.tag === TAG_ENTRY) {
        const child = decodeIno(value);
        if (child === undefined || !validName(k.name)) {
          this.garbage.push(key);
          continue;
        }
        let list = dirEntries.get(k.ino);
        if (list === undefined) dirEntries.set(k.ino, (list = []));
        list.push({ name: k.name, child, key });
      } else if (k.tag === TAG_CHUNK) {
        let list = fileChunks.get(k.ino);
        if (list === undefined) fileChunks.set(k.ino, (list = []));
        list.push({ index: k.index, value, key });
      }
    }
    this.nextIno = maxIno + 1;

    const nodes = new Map<number, Inode>();
    const rootRecord = inodes.get(1);
    if (rootRecord !== undefined && rootRecord.record.type === "directory") {
      this.apply(this.root, rootRecord.record);
    } else {
      this.meta.add(this.root);
    }
    nodes.set(1, this.root);
    for (const [ino, { record }] of inodes) {
      if (ino === 1) continue;
      const node = new Inode(this, ino, record.type, record.mode, record.birthtimeMs);
      this.apply(node, record);
      nodes.set(ino, node);
    }

    // Walk from the root: whatever no path reaches is an orphan of an interrupted change.
    const reached = new Set<Inode>([this.root]);
    const links = new Map<Inode, number>();
    const queue: Inode[] = [this.root];
    while (queue.length > 0) {
      const dir = queue.pop()!;
      for (const entry of dirEntries.get(dir.ino) ?? []) {
        const child = nodes.get(entry.child);
        if (
          child === undefined ||
          dir.entries!.has(entry.name) ||
          (child.type === "directory" && reached.has(child))
        ) {
          this.garbage.push(entry.key);
          continue;
        }
        dir.entries!.set(entry.name, child);
        if (child.type === "directory") {
          dir.nlink++;
          queue.push(child);
        }
        reached.add(child);
        links.set(child, (links.get(child) ?? 0) + 1);
      }
      dirEntries.delete(dir.ino);
    }
    for (const list of dirEntries.values()) for (const entry of list) this.garbage.push(entry.key);

    let bytes = 0;
    for (const [ino, node] of nodes) {
      const stored = inodes.get(ino);
      if (!reached.has(node)) {
        if (stored !== undefined) this.garbage.push(stored.key);
        continue;
      }
      const expected = node.type === "directory" ? node.nlink : (links.get(node) ?? 1);
      if (stored !== undefined && stored.record.nlink !== expected) this.meta.add(node);
      if (node.type !== "directory") node.nlink = expected;
      if (node.type === "file" && node.size > 0) node.data = new Uint8Array(node.size);
      bytes += node.size;
    }
    for (const [ino, list] of fileChunks) {
      const node = nodes.get(ino);
      if (node === undefined || !reached.has(node) || node.type !== "file") {
        for (const chunk of list) this.garbage.push(chunk.key);
        continue;
      }
      this.fill(node, list);
    }
    this.bytes = bytes;
    this.inodes = reached.size;
  }

  private apply(node: Inode, r: InodeRecord): void {
    node.mode = r.mode;
    node.nlink = r.nlink;
    node.uid = r.uid;
    node.gid = r.gid;
    node.size = r.size;
    node.atimeMs = r.atimeMs;
    node.mtimeMs = r.mtimeMs;
    node.ctimeMs = r.ctimeMs;
    node.birthtimeMs = r.birthtimeMs;
    node.link = r.link;
    if (node.type === "directory") node.nlink = 2;
  }

  private fill(node: Inode, chunks: { index: number; value: Uint8Array; key: Uint8Array }[]): void {
    const count = Math.ceil(node.size / CHUNK_SIZE);
    for (const chunk of chunks) {
      if (chunk.index >= count) {
        this.garbage.push(chunk.key);
        continue;
      }
      const at = chunk.index * CHUNK_SIZE;
      node.data!.set(chunk.value.subarray(0, Math.min(CHUNK_SIZE, node.size - at)), at);
    }
    this.storedChunks.set(node, count);
  }

  // ---- flushing ----

  /**
   * Commits every change made so far in one atomic commit; resolves when it is durable. While
   * one commit is in flight, later calls share the next one.
   */
  flush(): Promise<void> {
    if (this.inflight === undefined) return this.start();
    if (this.next === undefined) {
      const run = () => {
        this.next = undefined;
        return this.start();
      };
      this.next = this.inflight.then(run, run);
    }
    return this.next;
  }

  private start(): Promise<void> {
    if (!this.dirty && this.headerStored) return Promise.resolve();
    const snapshot = this.take();
    const ops = this.collect(snapshot);
    const commit = this.backend.commit(ops).then(
      () => {
        this.headerStored = true;
      },
      (err: unknown) => {
        this.restore(snapshot);
        throw err;
      },
    );
    const tracked: Promise<void> = commit.finally(() => {
      if (this.inflight === tracked) this.inflight = undefined;
    });
    this.inflight = tracked;
    return tracked;
  }

  private take(): Snapshot {
    const snapshot: Snapshot = {
      meta: this.meta,
      entries: this.entries,
      chunks: this.chunks,
      freed: this.freed,
      garbage: this.garbage,
      counts: new Map(),
      header: !this.headerStored,
    };
    this.meta = new Set();
    this.entries = new Map();
    this.chunks = new Map();
    this.freed = new Set();
    this.garbage = [];
    return snapshot;
  }

  private collect(s: Snapshot): Op[] {
    const p = this.prefix;
    const ops: Op[] = [];
    if (s.header) ops.push({ key: headerKey(p), value: Uint8Array.of(FORMAT_VERSION) });
    for (const key of s.garbage) ops.push({ key, value: undefined });
    for (const node of s.freed) {
      ops.push({ key: inodeKey(p, node.ino), value: undefined });
      const stored = this.storedChunks.get(node);
      for (let i = 0; i < (stored ?? 0); i++) ops.push({ key: chunkKey(p, node.ino, i), value: undefined });
      s.counts.set(node, stored);
      this.storedChunks.delete(node);
    }
    for (const node of s.meta) ops.push({ key: inodeKey(p, node.ino), value: encodeInode(node) });
    for (const [dir, names] of s.entries) {
      for (const name of names) {
        const child = dir.nlink > 0 ? dir.entries!.get(name) : undefined;
        ops.push({ key: entryKey(p, dir.ino, name), value: child && encodeIno(child.ino) });
      }
    }
    for (const [node, indexes] of s.chunks) {
      const count = Math.ceil(node.size / CHUNK_SIZE);
      for (const i of indexes) {
        if (i >= count) continue;
        const value = node.data!.slice(i * CHUNK_SIZE, Math.min(node.size, (i + 1) * CHUNK_SIZE));
        ops.push({ key: chunkKey(p, node.ino, i), value });
      }
      const stored = this.storedChunks.get(node);
      for (let i = count; i < (stored ?? 0); i++)
        ops.push({ key: chunkKey(p, node.ino, i), value: undefined });
      s.counts.set(node, stored);
      this.storedChunks.set(node, count);
    }
    return ops;
  }

  /** Puts a failed flush's changes back so the next flush writes them. */
  private restore(s: Snapshot): void {
    for (const node of s.meta) if (node.nlink > 0) this.meta.add(node);
    for (const [dir, names] of s.entries) for (const name of names) this.noteEntry(dir, name);
    for (const [node, indexes] of s.chunks) {
      if (node.nlink === 0) continue;
      let set = this.chunks.get(node);
      if (set === undefined) this.chunks.set(node, (set = new Set()));
      for (const i of indexes) set.add(i);
    }
    for (const node of s.freed) this.freed.add(node);
    this.garbage.push(...s.garbage);
    for (const [node, stored] of s.counts) {
      if (stored === undefined) this.storedChunks.delete(node);
      else if (node.nlink > 0 || s.freed.has(node)) this.storedChunks.set(node, stored);
    }
  }
}
