import { KernelError } from "./errno.js";
import type { FdTable, FileHandle } from "./types.js";

/** Open files per process (RLIMIT_NOFILE's common default). */
export const MAX_FDS = 1024;

/** A process's file descriptors; each slot holds one reference to its handle. */
export class FdTableImpl implements FdTable {
  private readonly slots: (FileHandle | undefined)[] = [];

  get(fd: number): FileHandle {
    const handle = Number.isInteger(fd) && fd >= 0 ? this.slots[fd] : undefined;
    if (handle === undefined) throw new KernelError("EBADF", "fd", undefined, `bad file descriptor ${fd}`);
    return handle;
  }

  has(fd: number): boolean {
    return this.slots[fd] !== undefined;
  }

  /** Takes over the caller's reference to `handle`. */
  install(handle: FileHandle, fd?: number): number {
    if (fd !== undefined) {
      if (!Number.isInteger(fd) || fd < 0 || fd >= MAX_FDS) throw new KernelError("EBADF", "dup2");
      const old = this.slots[fd];
      this.slots[fd] = handle;
      old?.close();
      return fd;
    }
    let free = this.slots.findIndex((h) => h === undefined);
    if (free === -1) free = this.slots.length;
    if (free >= MAX_FDS) throw new KernelError("EMFILE", "open");
    this.slots[free] = handle;
    return free;
  }

  close(fd: number): void {
    const handle = this.get(fd);
    this.slots[fd] = undefined;
    while (this.slots.length > 0 && this.slots[this.slots.length - 1] === undefined) this.slots.pop();
    handle.close();
  }

  dup(fd: number, to?: number): number {
    const handle = this.get(fd);
    if (to === fd) return fd;
    if (to === undefined) {
      // Check for room before taking a reference, so EMFILE leaks nothing.
      if (this.slots.findIndex((h) => h === undefined) === -1 && this.slots.length >= MAX_FDS) {
        throw new KernelError("EMFILE", "dup");
      }
    } else if (!Number.isInteger(to) || to < 0 || to >= MAX_FDS) {
      throw new KernelError("EBADF", "dup2");
    }
    return this.install(handle.ref(), to);
  }

  entries(): [number, FileHandle][] {
    const out: [number, FileHandle][] = [];
    this.slots.forEach((handle, fd) => {
      if (handle !== undefined) out.push([fd, handle]);
    });
    return out;
  }

  closeAll(): void {
    const handles = this.slots.splice(0);
    for (const handle of handles) handle?.close();
  }
}
