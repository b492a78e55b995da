import { describe, expect, it } from "vitest";
import { classify, parseIp } from "./ip.js";
import { FilesystemPermissions, globToRegExp, NetworkPermissions, parseHostPattern } from "./permissions.js";
import { KernelVfs } from "./vfs.js";
import { MemoryMount } from "./inode.js";

const ip = (text: string) => parseIp(text)!;

describe("addresses", () => {
  it("classes loopback, internal and public addresses, including IPv6 forms of IPv4 ones", () => {
    const cases: [string, string][] = [
      ["127.0.0.1", "loopback"],
      ["127.255.0.9", "loopback"],
      ["0.0.0.0", "loopback"],
      ["::1", "loopback"],
      ["::ffff:127.0.0.1", "loopback"],
      ["10.0.0.1", "internal"],
      ["172.16.0.1", "internal"],
      ["172.31.255.255", "internal"],
      ["172.32.0.1", "public"],
      ["192.168.1.1", "internal"],
      ["100.64.0.1", "internal"],
      ["169.254.169.254", "internal"],
      ["fd00::1", "internal"],
      ["fe80::1", "internal"],
      ["::ffff:10.0.0.1", "internal"],
      ["::ffff:a9fe:a9fe", "internal"],
      ["64:ff9b::10.0.0.1", "internal"],
      ["2002:0a00:0001::", "internal"],
      ["8.8.8.8", "public"],
      ["2606:4700::1111", "public"],
    ];
    for (const [text, cls] of cases) expect([text, classify(ip(text))]).toEqual([text, cls]);
  });

  it("takes only canonical literals as addresses", () => {
    expect(parseIp("127.1")).toBeUndefined();
    expect(parseIp("0x7f.0.0.1")).toBeUndefined();
    expect(parseIp("2130706433")).toBeUndefined();
    expect(parseIp("fe80::1%eth0")).toBeUndefined();
    expect(parseIp("[::1]")).toEqual({ version: 6, value: 1n });
  });
});

describe("network patterns", () => {
  it("parses names, wildcards, addresses, ranges and ports, and names what is wrong", () => {
    expect(parseHostPattern("API.example.com:443")).toMatchObject({
      host: { kind: "name", name: "api.example.com" },
      port: 443,
    });
    expect(parseHostPattern("*.example.com")).toMatchObject({
      host: { kind: "suffix", suffix: ".example.com" },
      port: null,
    });
    expect(parseHostPattern("10.0.0.0/8:*")).toMatchObject({ host: { kind: "cidr" }, port: null });
    expect(parseHostPattern("fd00::/8")).toMatchObject({ host: { kind: "cidr" }, port: null });
    expect(parseHostPattern("[fd00::1]:8443")).toMatchObject({ host: { kind: "cidr" }, port: 8443 });
    expect(parseHostPattern("*:22")).toMatchObject({ host: { kind: "any" }, port: 22 });
    expect(() => parseHostPattern("a.*.com")).toThrow(/network pattern "a\.\*\.com"/);
    expect(() => parseHostPattern("host:99999")).toThrow(/port must be 1-65535/);
    expect(() => parseHostPattern("10.0.0.0/33")).toThrow(/prefix length/);
  });
});

describe("network policy", () => {
  it("denies by default; the last matching rule wins", () => {
    expect(new NetworkPermissions().checkName("example.com", 443).allowed).toBe(false);
    const p = new NetworkPermissions({
      rules: [
        { mode: "allow", patterns: ["*.example.com"] },
        { mode: "deny", patterns: ["internal.example.com"] },
      ],
    });
    expect(p.checkName("api.example.com", 443).allowed).toBe(true);
    expect(p.checkName("a.b.example.com", 443).allowed).toBe(true);
    expect(p.checkName("example.com", 443).allowed).toBe(false);
    expect(p.checkName("internal.example.com", 443)).toMatchObject({
      allowed: false,
      reason: 'policy: connect internal.example.com:443 denied by rule "internal.example.com"',
    });
  });

  it("needs dns and connect for a name; a port on the pattern binds connect only", () => {
    const p = new NetworkPermissions({ rules: [{ mode: "allow", patterns: ["api.example.com:443"] }] });
    expect(p.checkName("api.example.com", 443).allowed).toBe(true);
    expect(p.checkName("api.example.com", 80).allowed).toBe(false);
    const connectOnly = new NetworkPermissions({
      rules: [{ mode: "allow", operations: ["connect"], patterns: ["api.example.com"] }],
    });
    expect(connectOnly.checkName("api.example.com", 443).reason).toMatch(/^policy: dns /);
  });

  it("keeps internal addresses closed to '*' and default allow, open to a rule naming them", () => {
    const open = new NetworkPermissions({ default: "allow", rules: [{ mode: "allow", patterns: ["*"] }] });
    expect(open.checkLiteral(ip("8.8.8.8"), "8.8.8.8", 53).allowed).toBe(true);
    expect(open.checkLiteral(ip("10.0.0.5"), "10.0.0.5", 5432).reason).toMatch(/^ssrf: /);
    expect(open.checkAddress(ip("169.254.169.254"), "169.254.169.254", 80).allowed).toBe(false);
    const named = new NetworkPermissions({ rules: [{ mode: "allow", patterns: ["10.0.0.0/8:5432"] }] });
    expect(named.checkLiteral(ip("10.1.2.3"), "10.1.2.3", 5432).allowed).toBe(true);
    expect(named.checkLiteral(ip("10.1.2.3"), "10.1.2.3", 80).allowed).toBe(false);
    expect(named.checkLiteral(ip("::ffff:10.1.2.3"), "::ffff:10.1.2.3", 5432).allowed).toBe(true);
    // An address rule can also close a public range that a name rule opened.
    const closed = new NetworkPermissions({
      rules: [
        { mode: "allow", patterns: ["*"] },
        { mode: "deny", patterns: ["203.0.114.0/24"] },
      ],
    });
    expect(closed.checkAddress(ip("203.0.114.7"), "203.0.114.7", 443).allowed).toBe(false);
  });

  it("opens host loopback addresses only on exempt ports", () => {
    const p = new NetworkPermissions({ rules: [{ mode: "allow", patterns: ["127.0.0.0/8"] }] }, [5432]);
    expect(p.checkAddress(ip("127.0.0.1"), "127.0.0.1", 80).allowed).toBe(false);
    expect(p.checkAddress(ip("127.0.0.1"), "127.0.0.1", 5432).allowed).toBe(true);
  });

  it("rejects malformed policies with clear errors", () => {
    expect(() => new NetworkPermissions({ default: "open" as "allow" })).toThrow(/default must be/);
    expect(() => new NetworkPermissions({ rules: [{ mode: "allow", patterns: [] }] })).toThrow(/non-empty/);
    expect(
      () =>
        new NetworkPermissions({
          rules: [{ mode: "allow", operations: ["send" as "connect"], patterns: ["*"] }],
        }),
    ).toThrow(/unknown operation "send"/);
  });
});

describe("filesystem policy", () => {
  it("globs: * within a segment, ** across segments, relative patterns at any depth", () => {
    const re = (g: string, p: string) => globToRegExp(g).test(p);
    expect(re("/etc/**", "/etc")).toBe(true);
    expect(re("/etc/**", "/etc/ssl/certs/x.pem")).toBe(true);
    expect(re("/etc/**", "/etcetera")).toBe(false);
    expect(re("/home/user/secret/*", "/home/user/secret/a")).toBe(true);
    expect(re("/home/user/secret/*", "/home/user/secret/a/b")).toBe(false);
    expect(re("/a/**/z", "/a/z")).toBe(true);
    expect(re("/a/**/z", "/a/b/c/z")).toBe(true);
    expect(re("*.key", "/home/user/id.key")).toBe(true);
    expect(re("/f?o", "/foo")).toBe(true);
    expect(re("/f.o", "/fxo")).toBe(false);
  });

  it("checks the path as named and as resolved, and the last rule wins", () => {
    const vfs = new KernelVfs({ root: new MemoryMount(), limits: {} });
    vfs.mkdir("/data/private", { recursive: true });
    vfs.writeFile("/data/private/x", "x");
    vfs.symlink("/data/private", "/data/door");
    const fs = new FilesystemPermissions(
      {
        default: "deny",
        rules: [
          { mode: "allow", patterns: ["/data/**", "/tmp/**"] },
          { mode: "deny", operations: ["write"], patterns: ["/data/private/**"] },
        ],
      },
      vfs,
    );
    expect(() => fs.check("/data/private/x", "read", "open")).not.toThrow();
    expect(() => fs.check("/data/private/x", "write", "open")).toThrow(
      expect.objectContaining({ code: "EACCES" }),
    );
    expect(() => fs.check("/data/door/x", "write", "open")).toThrow(
      expect.objectContaining({ code: "EACCES" }),
    );
    expect(() => fs.check("/data/door/new", "write", "open")).toThrow(
      expect.objectContaining({ code: "EACCES" }),
    );
    // Unlinking the link itself touches only the link.
    expect(() => fs.check("/data/door", "write", "unlink", { follow: false })).not.toThrow();
    expect(() => fs.check("/etc/passwd", "read", "open")).toThrow(/filesystem policy/);
  });
});
