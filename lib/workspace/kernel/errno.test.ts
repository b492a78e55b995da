import { describe, expect, it } from "vitest";
import { KernelError, errnoCode, errnoNumber } from "./errno.js";

describe("errno", () => {
  it("uses WASI preview-1 numbers", () => {
    const expected = {
      EACCES: 2,
      EAGAIN: 6,
      EBADF: 8,
      EBUSY: 10,
      ECHILD: 12,
      EEXIST: 20,
      EFBIG: 22,
      EINTR: 27,
      EINVAL: 28,
      EISDIR: 31,
      ELOOP: 32,
      EMFILE: 33,
      ENAMETOOLONG: 37,
      ENOENT: 44,
      ENOEXEC: 45,
      ENOMEM: 48,
      ENOSPC: 51,
      ENOSYS: 52,
      ENOTDIR: 54,
      ENOTEMPTY: 55,
      EPERM: 63,
      EPIPE: 64,
      EROFS: 69,
      ESPIPE: 70,
      ESRCH: 71,
      EXDEV: 75,
    } as const;
    for (const [code, num] of Object.entries(expected)) {
      expect(errnoNumber(code as keyof typeof expected)).toBe(num);
      expect(errnoCode(num)).toBe(code);
    }
  });

  it("carries code, number, syscall and path in a Node-like message", () => {
    const err = new KernelError("ENOENT", "open", "/x");
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe("ENOENT: no such file or directory, open '/x'");
    expect(err).toMatchObject({ code: "ENOENT", errno: 44, syscall: "open", path: "/x" });
  });
});
