import { describe, expect, it } from "vitest";
import { MAX_FDS, FdTableImpl } from "./fd-table.js";
import { createPipe } from "./pipe.js";
import { DeviceHandle } from "./handles.js";

describe("fd table", () => {
  it("installs at the lowest free fd, dups, and closes", async () => {
    const fds = new FdTableImpl();
    const [r, w] = createPipe();
    expect(fds.install(r.ref())).toBe(0);
    expect(fds.install(w)).toBe(1);
    expect(fds.dup(1)).toBe(2);
    fds.close(0);
    expect(fds.install(new DeviceHandle())).toBe(0);
    expect(fds.dup(1, 7)).toBe(7);
    expect(fds.entries().map(([fd]) => fd)).toEqual([0, 1, 2, 7]);
    // The write end stays open while any fd holds it.
    fds.close(1);
    fds.close(2);
    const buf = new Uint8Array(1);
    const pending = r.read(buf);
    expect(pending).toBeInstanceOf(Promise);
    fds.close(7);
    expect(await pending).toBe(0);
  });

  it("gives EBADF for bad fds and EMFILE past the limit", () => {
    const fds = new FdTableImpl();
    expect(() => fds.get(3)).toThrow(/EBADF/);
    expect(() => fds.close(3)).toThrow(/EBADF/);
    expect(() => fds.get(-1)).toThrow(/EBADF/);
    fds.install(new DeviceHandle());
    expect(() => fds.dup(0, MAX_FDS)).toThrow(/EBADF/);
    for (let i = 1; i < MAX_FDS; i++) fds.dup(0);
    expect(() => fds.dup(0)).toThrow(/EMFILE/);
    expect(() => fds.install(new DeviceHandle())).toThrow(/EMFILE/);
    fds.close(500);
    expect(fds.dup(0)).toBe(500);
    fds.closeAll();
    expect(fds.entries()).toEqual([]);
  });
});
