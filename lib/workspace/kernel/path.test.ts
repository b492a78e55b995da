import { describe, expect, it } from "vitest";
import { basename, dirname, resolvePath, splitPath } from "./path.js";

describe("paths", () => {
  it("joins a cwd and normalises lexically", () => {
    expect(resolvePath("/home/user", "a/./b/../c")).toBe("/home/user/a/c");
    expect(resolvePath("/home/user", "/x//y/")).toBe("/x/y");
    expect(resolvePath("/", "../../..")).toBe("/");
    expect(resolvePath("/a/", "b")).toBe("/a/b");
  });

  it("splits into components, keeping .. for the walk", () => {
    expect(splitPath("/a//b/./../c/")).toEqual(["a", "b", "..", "c"]);
    expect(splitPath("/")).toEqual([]);
  });

  it("rejects NUL bytes, empty paths and over-long names", () => {
    expect(() => splitPath("")).toThrow(/ENOENT/);
    expect(() => splitPath("/a\0")).toThrow(/EINVAL/);
    expect(() => splitPath("/" + "x".repeat(256))).toThrow(/ENAMETOOLONG/);
    expect(() => splitPath("/" + "é".repeat(128))).toThrow(/ENAMETOOLONG/);
    expect(splitPath("/" + "é".repeat(127))).toHaveLength(1);
    expect(() => splitPath("/a".repeat(2049))).toThrow(/ENAMETOOLONG/);
    expect(splitPath("/a".repeat(2048))).toHaveLength(2048);
  });

  it("takes paths apart", () => {
    expect(dirname("/a/b")).toBe("/a");
    expect(dirname("/a")).toBe("/");
    expect(basename("/a/b")).toBe("b");
    expect(basename("/")).toBe("");
  });
});
