import { describe, expect, it } from "vitest";
import { KernelError } from "./errno.js";
import { MemoryMount } from "./inode.js";
import { createSoftwareMount } from "./software-mount.js";
import type { Errno } from "./types.js";
import { KernelVfs } from "./vfs.js";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function code(fn: () => unknown): Errno | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof KernelError) return err.code;
    throw err;
  }
  return undefined;
}

function workspaceVfs(limits?: { maxFilesystemBytes?: number; maxInodes?: number }): KernelVfs {
  const vfs = new KernelVfs({ limits });
  vfs.mount("/tmp", new MemoryMount());
  vfs.mount("/home/user", new MemoryMount());
  return vfs;
}

describe("files and directories", () => {
  it("writes, reads, appends, stats and lists", () => {
    const vfs = workspaceVfs();
    vfs.mkdir("/home/user/a/b", { recursive: true });
    vfs.writeFile("/home/user/a/b/f.txt", "hello");
    vfs.writeFile("/home/user/a/b/f.txt", " world", { append: true });
    expect(text(vfs.readFile("/home/user/a/b/f.txt"))).toBe("hello world");
    const st = vfs.stat("/home/user/a/b/f.txt");
    expect(st).toMatchObject({ type: "file", size: 11, mode: 0o644, nlink: 1, uid: 1000, gid: 1000 });
    expect(vfs.readdir("/home/user/a").map((e) => [e.name, e.type])).toEqual([["b", "directory"]]);
    expect(vfs.stat("/home/user/a").nlink).toBe(3);
    expect(vfs.exists("/home/user/a/b/nope")).toBe(false);
  });

  it("reports POSIX errors", () => {
    const vfs = workspaceVfs();
    vfs.writeFile("/tmp/f", "x");
    expect(code(() => vfs.readFile("/tmp/missing"))).toBe("ENOENT");
    expect(code(() => vfs.mkdir("/tmp/f"))).toBe("EEXIST");
    expect(code(() => vfs.readFile("/tmp/f/x"))).toBe("ENOTDIR");
    expect(code(() => vfs.readdir("/tmp/f"))).toBe("ENOTDIR");
    expect(code(() => vfs.readFile("/tmp"))).toBe("EISDIR");
    expect(code(() => vfs.unlink("/tmp"))).toBe("EBUSY");
    vfs.mkdir("/tmp/d");
    vfs.writeFile("/tmp/d/x", "");
    expect(code(() => vfs.rmdir("/tmp/d"))).toBe("ENOTEMPTY");
    expect(code(() => vfs.unlink("/tmp/d"))).toBe("EISDIR");
    expect(code(() => vfs.rm("/tmp/d"))).toBe("EISDIR");
    vfs.rm("/tmp/d", { recursive: true });
    expect(vfs.exists("/tmp/d")).toBe(false);
    expect(code(() => vfs.rm("/tmp/d"))).toBe("ENOENT");
    vfs.rm("/tmp/d", { force: true });
    expect(code(() => vfs.readFile("/tmp/a\0b"))).toBe("EINVAL");
    expect(code(() => vfs.readFile(""))).toBe("ENOENT");
    expect(code(() => vfs.writeFile("/tmp/" + "n".repeat(256), "x"))).toBe("ENAMETOOLONG");
    expect(code(() => vfs.stat("/tmp/" + "a/".repeat(2100)))).toBe("ENAMETOOLONG");
    vfs.writeFile("/tmp/" + "n".repeat(255), "x");
  });

  it("resolves .. the POSIX way", () => {
    const vfs = workspaceVfs();
    vfs.writeFile("/home/user/f", "1");
    expect(text(vfs.readFile("/../../home/./user/../user/f"))).toBe("1");
    expect(vfs.realpath("/home/user/..")).toBe("/home");
    expect(vfs.realpath("/..")).toBe("/");
    expect(vfs.realpath("/home/user/../../tmp")).toBe("/tmp");
  });

  it("enforces permission bits for the one user", () => {
    const vfs = workspaceVfs();
    vfs.writeFile("/tmp/secret", "s", { mode: 0o000 });
    expect(code(() => vfs.readFile("/tmp/secret"))).toBe("EACCES");
    expect(code(() => vfs.open("/tmp/secret", { read: true }))).toBe("EACCES");
    vfs.chmod("/tmp/secret", 0o444);
    expect(text(vfs.readFile("/tmp/secret"))).toBe("s");
    expect(code(() => vfs.open("/tmp/secret", { write: true }))).toBe("EACCES");
    expect(code(() => vfs.writeFile("/tmp/secret", "x"))).toBe("EACCES");
    vfs.mkdir("/tmp/locked", { mode: 0o500 });
    expect(code(() => vfs.writeFile("/tmp/locked/x", "x"))).toBe("EACCES");
    vfs.chmod("/tmp/locked", 0o000);
    expect(code(() => vfs.stat("/tmp/locked/x"))).toBe("EACCES");
  });

  it("renames within a mount and refuses across mounts with EXDEV", () => {
    const vfs = workspaceVfs();
    vfs.writeFile("/tmp/a", "A");
    vfs.writeFile("/tmp/b", "B");
    vfs.rename("/tmp/a", "/tmp/b");
    expect(text(vfs.readFile("/tmp/b"))).toBe("A");
    expect(vfs.exists("/tmp/a")).toBe(false);
    vfs.mkdir("/tmp/d/e", { recursive: true });
    expect(code(() => vfs.rename("/tmp/d", "/tmp/d/e/f"))).toBe("EINVAL");
    expect(code(() => vfs.rename("/tmp/b", "/tmp/d"))).toBe("EISDIR");
    expect(code(() => vfs.rename("/tmp/d", "/tmp/b"))).toBe("ENOTDIR");
    vfs.rename("/tmp/d", "/tmp/d2");
    expect(vfs.stat("/tmp/d2/e").type).toBe("directory");
    expect(code(() => vfs.rename("/tmp/b", "/home/user/b"))).toBe("EXDEV");
    expect(code(() => vfs.link("/tmp/b", "/home/user/b"))).toBe("EXDEV");
    expect(code(() => vfs.rename("/tmp", "/x"))).toBe("EBUSY");
    expect(text(vfs.readFile("/tmp/b"))).toBe("A");
  });

  it("keeps hard links on one inode", () => {
    const vfs = workspaceVfs();
    vfs.writeFile("/tmp/a", "one");
    vfs.link("/tmp/a", "/tmp/b");
    expect(vfs.stat("/tmp/a").nlink).toBe(2);
    expect(vfs.stat("/tmp/b").ino).toBe(vfs.stat("/tmp/a").ino);
    vfs.writeFile("/tmp/b", "two");
    expect(text(vfs.readFile("/tmp/a"))).toBe("two");
    vfs.unlink("/tmp/a");
    expect(vfs.stat("/tmp/b").nlink).toBe(1);
    expect(vfs.usage().bytes).toBe(3);
  });

  it("handles open files: offsets, append, truncate, unlinked-but-open", () => {
    const vfs = workspaceVfs();
    const h = vfs.open("/tmp/f", { read: true, write: true, create: true });
    expect(h.write(new TextEncoder().encode("abcdef"))).toBe(6);
    expect(h.seek(2, "set")).toBe(2);
    const buf = new Uint8Array(3);
    expect(h.read(buf)).toBe(3);
    expect(text(buf)).toBe("cde");
    expect(h.read(buf, 0)).toBe(3);
    expect(text(buf)).toBe("abc");
    expect(h.seek(0, "cur")).toBe(5);
    h.truncate(2);
    expect(h.stat().size).toBe(2);
    h.write(new TextEncoder().encode("Z"), 4);
    expect(vfs.readFile("/tmp/f")).toEqual(new Uint8Array([97, 98, 0, 0, 90]));
    vfs.unlink("/tmp/f");
    expect(h.read(buf, 0)).toBe(3);
    expect(vfs.usage().bytes).toBe(0);
    h.close();
    expect(() => h.read(buf)).toThrow(KernelError);
    expect(code(() => vfs.open("/tmp/f", {}))).toBe("ENOENT");
    vfs.writeFile("/tmp/g", "x");
    expect(code(() => vfs.open("/tmp/g", { create: true, exclusive: true, write: true }))).toBe("EEXIST");
    expect(code(() => vfs.open("/tmp/g", { directory: true }))).toBe("ENOTDIR");
    expect(code(() => vfs.open("/tmp", { write: true }))).toBe("EISDIR");
    const d = vfs.open("/tmp", { directory: true });
    expect(d.readdir().map((e) => e.name)).toEqual(["g"]);
    const ap = vfs.open("/tmp/g", { write: true, append: true });
    ap.write(new TextEncoder().encode("y"), 0);
    expect(text(vfs.readFile("/tmp/g"))).toBe("xy");
  });

  it("fails writes past maxFilesystemBytes with ENOSPC and changes nothing", () => {
    const vfs = workspaceVfs({ maxFilesystemBytes: 100 });
    vfs.writeFile("/tmp/a", new Uint8Array(60));
    expect(code(() => vfs.writeFile("/home/user/b", new Uint8Array(50)))).toBe("ENOSPC");
    // One call, one outcome: the file is not left behind empty.
    expect(vfs.exists("/home/user/b")).toBe(false);
    const h = vfs.open("/tmp/a", { write: true, append: true });
    expect(code(() => h.write(new Uint8Array(41)))).toBe("ENOSPC");
    expect(vfs.stat("/tmp/a").size).toBe(60);
    expect(h.write(new Uint8Array(40))).toBe(40);
    expect(vfs.usage().bytes).toBe(100);
    expect(code(() => vfs.truncate("/tmp/a", 101))).toBe("ENOSPC");
    vfs.unlink("/tmp/a");
    vfs.writeFile("/home/user/b", new Uint8Array(100));
    expect(vfs.usage().bytes).toBe(100);
  });

  it("limits inodes with maxInodes", () => {
    const vfs = new KernelVfs({ limits: { maxInodes: 3 } });
    vfs.mkdir("/a");
    vfs.writeFile("/a/b", "");
    expect(code(() => vfs.writeFile("/a/c", ""))).toBe("ENOSPC");
  });
});

describe("symlinks", () => {
  it("follow inside a mount, lstat and readlink do not", () => {
    const vfs = workspaceVfs();
    vfs.mkdir("/home/user/dir");
    vfs.writeFile("/home/user/dir/f", "data");
    vfs.symlink("dir/f", "/home/user/rel");
    vfs.symlink("/home/user/dir", "/home/user/abs");
    expect(text(vfs.readFile("/home/user/rel"))).toBe("data");
    expect(text(vfs.readFile("/home/user/abs/f"))).toBe("data");
    expect(vfs.lstat("/home/user/rel").type).toBe("symlink");
    expect(vfs.readlink("/home/user/rel")).toBe("dir/f");
    expect(vfs.realpath("/home/user/abs/../rel")).toBe("/home/user/dir/f");
    expect(code(() => vfs.readlink("/home/user/dir"))).toBe("EINVAL");
    expect(code(() => vfs.open("/home/user/rel", { noFollow: true }))).toBe("ELOOP");
  });

  it("cannot leave their mount by an absolute target", () => {
    const vfs = workspaceVfs();
    vfs.writeFile("/tmp/outside", "secret");
    vfs.symlink("/tmp/outside", "/home/user/escape");
    vfs.symlink("/", "/home/user/root");
    expect(code(() => vfs.readFile("/home/user/escape"))).toBe("EACCES");
    expect(code(() => vfs.readdir("/home/user/root"))).toBe("EACCES");
    expect(code(() => vfs.realpath("/home/user/escape"))).toBe("EACCES");
    expect(code(() => vfs.writeFile("/home/user/escape", "x"))).toBe("EACCES");
    expect(text(vfs.readFile("/tmp/outside"))).toBe("secret");
  });

  it("cannot leave their mount by ..", () => {
    const vfs = workspaceVfs();
    vfs.writeFile("/tmp/outside", "secret");
    vfs.mkdir("/home/user/a/b", { recursive: true });
    vfs.symlink("../../../tmp/outside", "/home/user/a/b/up");
    vfs.symlink("..", "/home/user/parent");
    vfs.symlink("../..", "/home/user/a/ok");
    expect(code(() => vfs.readFile("/home/user/a/b/up"))).toBe("EACCES");
    expect(code(() => vfs.readdir("/home/user/parent"))).toBe("EACCES");
    expect(code(() => vfs.stat("/home/user/a/ok"))).toBe("EACCES");
    vfs.symlink("..", "/home/user/a/b/toA");
    expect(vfs.realpath("/home/user/a/b/toA")).toBe("/home/user/a");
    // A plain path may still climb out of the mount: only symlink targets are confined.
    expect(vfs.realpath("/home/user/a/b/toA/../../../tmp/outside")).toBe("/tmp/outside");
  });

  it("loops give ELOOP", () => {
    const vfs = workspaceVfs();
    vfs.symlink("b", "/tmp/a");
    vfs.symlink("a", "/tmp/b");
    vfs.symlink("self", "/tmp/self");
    expect(code(() => vfs.readFile("/tmp/a"))).toBe("ELOOP");
    expect(code(() => vfs.stat("/tmp/self"))).toBe("ELOOP");
    expect(vfs.lstat("/tmp/self").type).toBe("symlink");
    // 40 follows are allowed, the 41st is not.
    vfs.writeFile("/tmp/end", "x");
    vfs.symlink("end", "/tmp/l0");
    for (let i = 1; i <= 40; i++) vfs.symlink(`l${i - 1}`, `/tmp/l${i}`);
    expect(text(vfs.readFile("/tmp/l39"))).toBe("x");
    expect(code(() => vfs.readFile("/tmp/l40"))).toBe("ELOOP");
  });

  it("in the root mount may point anywhere, creation through a dangling link works", () => {
    const vfs = workspaceVfs();
    vfs.symlink("/home/user", "/h");
    vfs.writeFile("/h/new", "n");
    expect(text(vfs.readFile("/home/user/new"))).toBe("n");
    vfs.symlink("target", "/tmp/dangling");
    vfs.writeFile("/tmp/dangling", "t");
    expect(text(vfs.readFile("/tmp/target"))).toBe("t");
  });
});

describe("software mount", () => {
  const toybox = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  const files = [
    { path: "bin/toybox", data: toybox },
    { path: "bin/ls", linkTo: "bin/toybox" },
    { path: "bin/cat", linkTo: "bin/toybox" },
    { path: "bin/sh", data: new TextEncoder().encode("#!enclave-host sh\n") },
    { path: "share/doc", symlink: "../bin" },
    { path: "etc/empty" },
  ];

  it("shares the caller's buffers, hard links share one inode, writes give EROFS", () => {
    const soft = createSoftwareMount(files);
    const vfs = workspaceVfs();
    vfs.mount("/usr", soft);
    expect(vfs.stat("/usr/bin/ls").nlink).toBe(3);
    expect(vfs.stat("/usr/bin/ls").ino).toBe(vfs.stat("/usr/bin/toybox").ino);
    expect(vfs.stat("/usr/bin/ls").mode).toBe(0o755);
    expect(vfs.executable("/usr/bin/cat")).toMatchObject({ immutable: true });
    expect(vfs.executable("/usr/bin/cat").bytes).toBe(toybox);
    expect(
      vfs
        .readdir("/usr/share/doc")
        .map((e) => e.name)
        .sort(),
    ).toEqual(["cat", "ls", "sh", "toybox"]);
    expect(vfs.stat("/usr/etc/empty").type).toBe("directory");
    expect(code(() => vfs.writeFile("/usr/bin/ls", "x"))).toBe("EROFS");
    expect(code(() => vfs.writeFile("/usr/bin/new", "x"))).toBe("EROFS");
    expect(code(() => vfs.unlink("/usr/bin/ls"))).toBe("EROFS");
    expect(code(() => vfs.chmod("/usr/bin/ls", 0o777))).toBe("EROFS");
    expect(code(() => vfs.open("/usr/bin/ls", { write: true }))).toBe("EROFS");
    expect(code(() => vfs.rename("/usr/bin/ls", "/usr/bin/ls2"))).toBe("EROFS");
    expect(vfs.usage().bytes).toBe(0);
    // One instance serves many workspaces.
    const other = workspaceVfs();
    other.mount("/usr", soft);
    expect(other.readFile("/usr/bin/sh")).toEqual(vfs.readFile("/usr/bin/sh"));
  });
});
