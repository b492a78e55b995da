/**
 * What guest programs may reach: the network policy, the SSRF guard, the listen policy and the
 * filesystem policy. Evaluated by the kernel for guest syscalls only; the workspace's own host
 * code (file actions, vmFetch) is the vendor's and is not checked here.
 *
 * ## Rules (network and filesystem alike)
 * Rules are read in order and the LAST rule that matches decides (so exceptions go after the
 * rule they refine, as in .gitignore); no matching rule means the policy's `default`. A rule
 * without `operations` applies to every operation.
 *
 * ## Network: which connect is which
 * 1. Loopback names ("localhost", "*.localhost", 127.0.0.0/8, 0.0.0.0/8, ::1, ::, and their
 *    IPv4-mapped forms) are the WORKSPACE's own loopback: a listener in this kernel on that port
 *    answers. Network rules never apply to them.
 * 2. If nothing in the workspace listens there and the port is in `loopbackExemptPorts`, the
 *    connect goes to the HOST's loopback (127.0.0.1, or ::1 when the guest said ::1). The
 *    exemption is the whole permission: no network rule is needed and none can refuse it.
 * 3. Otherwise a loopback connect is refused with ECONNREFUSED and reported (reason "loopback").
 * 4. Any other host is outbound. It needs the network policy (default "deny"):
 *    - a host name needs both `connect` (pattern matched with the port) and `dns` (pattern
 *      matched without the port) allowed for that name, BEFORE it is resolved: a name the policy
 *      refuses is never looked up;
 *    - an IP literal needs `connect` allowed for the address;
 *    then every address (the literal, or each address the name resolved to) passes the
 *    ADDRESS CHECK, which is the SSRF guard and catches DNS rebinding:
 *    - loopback addresses are refused unless the port is in `loopbackExemptPorts`;
 *    - otherwise only rules whose pattern is an IP or CIDR are read (the last match decides);
 *    - with no such rule, internal addresses (10/8, 172.16/12, 192.168/16, 100.64/10,
 *      169.254/16 incl. cloud metadata, fc00::/7, fe80::/10, multicast, documentation and
 *      reserved ranges; IPv4-mapped, NAT64 and 6to4 forms count as their IPv4 address) are
 *      refused, and public ones pass.
 *    So "*" or `default: "allow"` opens the public internet but never an internal network; an
 *    internal host is reached only through a rule that names its address or range
 *    ("10.1.2.3", "10.0.0.0/8:5432"), and, when reached by name, a rule for the name as well.
 *    A name is connected to through the addresses that passed, in resolver order, never
 *    resolved a second time. Refusals by policy or by the address check fail with EACCES.
 * 5. The engine's egress audit sees the real connect and DNS lookup (they go through Node's
 *    `net` and `dns`), so air-gap enforcement applies on top: its refusal fails with EACCES and is
 *    reported with reason "airgap".
 *
 * Patterns: "*" (anything), "api.example.com" (that name), "*.example.com" (names under it at
 * any depth, not example.com itself), "10.0.0.0/8" / "10.1.2.3" / "fd00::/8" / "[fd00::1]"
 * (addresses only: they never match a name), each optionally with ":port" or ":*"
 * ("[fd00::/8]:443" for IPv6 with a port).
 *
 * ## Listen
 * Ports 1-65535 inside [portMin, portMax]; below 1024 only with `allowPrivileged`; EACCES
 * otherwise. Network rules take part only if they list "listen" explicitly (not via "*" or a
 * missing `operations`), matched against "localhost"/127.0.0.1 and the port, default allow:
 * `{ mode: "deny", operations: ["listen"], patterns: ["*:22"] }`.
 *
 * ## Filesystem
 * Globs on absolute paths: `*` and `?` within one path segment, `**` any number of segments
 * ("/etc/**" is /etc and everything below it), a pattern without a leading "/" matches at any
 * depth ("*.key"). Opens for reading need "read"; opens for writing, creating or truncating,
 * mkdir, rmdir, unlink, rename (both paths), symlink and link (the new name; link also needs
 * read and write on the existing file, since a hard link shares its data), utimes need "write";
 * readlink needs "read". stat and readdir of an opened directory are not checked. A path is
 * checked as named and as resolved through symlinks; both must be allowed.
 */
import { KernelError } from "./errno.js";
import { cidrContains, classify, parseCidr, parseIp, type Cidr, type IpAddress } from "./ip.js";
import { basename, dirname, resolvePath } from "./path.js";
import type {
  FilesystemAccess,
  FilesystemOperation,
  FilesystemPolicy,
  ListenPolicy,
  NetworkOperation,
  NetworkPolicy,
  Vfs,
} from "./types.js";

// ---- network patterns -------------------------------------------------------------------------

type HostMatcher =
  | { kind: "any" }
  | { kind: "name"; name: string }
  | { kind: "suffix"; suffix: string }
  | { kind: "cidr"; cidr: Cidr };

interface HostPattern {
  source: string;
  host: HostMatcher;
  /** null: any port. */
  port: number | null;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;

function parsePort(text: string, pattern: string): number | null {
  if (text === "*") return null;
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new TypeError(`network pattern "${pattern}": the port must be 1-65535 or *`);
  }
  return Number(text);
}

function parseHost(text: string, pattern: string): HostMatcher {
  if (text === "*") return { kind: "any" };
  if (text.includes("/") || parseIp(text) !== undefined) {
    try {
      return { kind: "cidr", cidr: parseCidr(text) };
    } catch (err) {
      throw new TypeError(`network pattern "${pattern}": ${(err as Error).message}`);
    }
  }
  const wildcard = text.startsWith("*.");
  const name = wildcard ? text.slice(2) : text;
  if (name === "" || !name.split(".").every((label) => LABEL.test(label))) {
    throw new TypeError(
      `network pattern "${pattern}": expected "*", a host name, "*.domain", an IP address or a CIDR range`,
    );
  }
  return wildcard ? { kind: "suffix", suffix: `.${name}` } : { kind: "name", name };
}

/** Parses one network pattern; throws a TypeError that names it. */
export function parseHostPattern(pattern: string): HostPattern {
  let text = pattern.trim().toLowerCase();
  if (text.endsWith(".")) text = text.slice(0, -1);
  let hostText = text;
  let port: number | null = null;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close === -1) throw new TypeError(`network pattern "${pattern}": missing "]"`);
    hostText = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":"))
        throw new TypeError(`network pattern "${pattern}": expected ":port" after "]"`);
      port = parsePort(rest.slice(1), pattern);
    }
    if (!hostText.includes(":")) throw new TypeError(`network pattern "${pattern}": brackets are for IPv6`);
  } else if ((text.match(/:/g) ?? []).length === 1) {
    const colon = text.indexOf(":");
    hostText = text.slice(0, colon);
    port = parsePort(text.slice(colon + 1), pattern);
  }
  return { source: pattern, host: parseHost(hostText, pattern), port };
}

/** A destination as the rules see it: a name, an address, or (listen) both. */
export interface NetTarget {
  name?: string;
  ip?: IpAddress;
}

function hostMatches(m: HostMatcher, t: NetTarget): boolean {
  switch (m.kind) {
    case "any":
      return true;
    case "name":
      return t.name === m.name;
    case "suffix":
      return t.name !== undefined && t.name.endsWith(m.suffix);
    case "cidr":
      return t.ip !== undefined && cidrContains(m.cidr, t.ip);
  }
}

interface CompiledRule {
  mode: "allow" | "deny";
  operations: Set<NetworkOperation | "*">;
  patterns: HostPattern[];
}

export interface Verdict {
  allowed: boolean;
  /** Why, for the attempt report: "<kind>: <detail>". */
  reason: string;
}

/** The evaluated network policy and SSRF guard (see the module comment). */
export class NetworkPermissions {
  readonly #rules: CompiledRule[];
  readonly #default: "allow" | "deny";
  readonly #exempt: ReadonlySet<number>;

  constructor(policy: NetworkPolicy = {}, loopbackExemptPorts: readonly number[] = []) {
    if (policy.default !== undefined && policy.default !== "allow" && policy.default !== "deny") {
      throw new TypeError(`network policy default must be "allow" or "deny", not ${String(policy.default)}`);
    }
    this.#default = policy.default ?? "deny";
    this.#rules = (policy.rules ?? []).map((rule, i) => {
      if (rule.mode !== "allow" && rule.mode !== "deny") {
        throw new TypeError(`network rule ${i}: mode must be "allow" or "deny"`);
      }
      const operations = new Set<NetworkOperation | "*">(rule.operations ?? ["*"]);
      for (const op of operations) {
        if (!["connect", "listen", "dns", "*"].includes(op)) {
          throw new TypeError(`network rule ${i}: unknown operation "${String(op)}"`);
        }
      }
      if (!Array.isArray(rule.patterns) || rule.patterns.length === 0) {
        throw new TypeError(`network rule ${i}: patterns must be a non-empty list`);
      }
      return { mode: rule.mode, operations, patterns: rule.patterns.map(parseHostPattern) };
    });
    for (const port of loopbackExemptPorts) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new RangeError(`loopbackExemptPorts: ${port} is not a port (1-65535)`);
      }
    }
    this.#exempt = new Set(loopbackExemptPorts);
  }

  isLoopbackExempt(port: number): boolean {
    return this.#exempt.has(port);
  }

  /** The last rule matching, or undefined. `explicitOnly`: only rules naming `op` itself. */
  #match(
    op: NetworkOperation,
    target: NetTarget,
    port: number | null,
    filter: { explicitOnly?: boolean; addressOnly?: boolean } = {},
  ): { mode: "allow" | "deny"; pattern: string } | undefined {
    for (let i = this.#rules.length - 1; i >= 0; i--) {
      const rule = this.#rules[i]!;
      if (!rule.operations.has(op) && (filter.explicitOnly || !rule.operations.has("*"))) continue;
      for (const p of rule.patterns) {
        if (filter.addressOnly && p.host.kind !== "cidr") continue;
        if (port !== null && p.port !== null && p.port !== port) continue;
        if (hostMatches(p.host, target)) return { mode: rule.mode, pattern: p.source };
      }
    }
    return undefined;
  }

  #policy(op: NetworkOperation, target: NetTarget, port: number | null, what: string): Verdict {
    const rule = this.#match(op, target, port);
    const mode = rule?.mode ?? this.#default;
    const by = rule === undefined ? `the default (${this.#default})` : `rule "${rule.pattern}"`;
    return {
      allowed: mode === "allow",
      reason: `policy: ${op} ${what} ${mode === "allow" ? "allowed" : "denied"} by ${by}`,
    };
  }

  /** A host name, before it is resolved: `connect` with the port and `dns` must both be allowed. */
  checkName(name: string, port: number): Verdict {
    const connect = this.#policy("connect", { name }, port, `${name}:${port}`);
    if (!connect.allowed) return connect;
    return this.#policy("dns", { name }, null, name);
  }

  /** An IP literal the guest named (not a loopback one): the policy, then the address check. */
  checkLiteral(ip: IpAddress, text: string, port: number): Verdict {
    const policy = this.#policy("connect", { ip }, port, `${text}:${port}`);
    if (!policy.allowed) return policy;
    return this.checkAddress(ip, text, port);
  }

  /** The SSRF guard for one address (a literal, or one a permitted name resolved to). */
  checkAddress(ip: IpAddress, text: string, port: number): Verdict {
    const cls = classify(ip);
    if (cls === "loopback") {
      return this.#exempt.has(port)
        ? { allowed: true, reason: `loopback-exempt: port ${port}` }
        : {
            allowed: false,
            reason: `ssrf: ${text} is a host loopback address and port ${port} is not exempt`,
          };
    }
    const rule = this.#match("connect", { ip }, port, { addressOnly: true });
    if (rule !== undefined) {
      return rule.mode === "allow"
        ? { allowed: true, reason: `policy: ${text} allowed by rule "${rule.pattern}"` }
        : { allowed: false, reason: `policy: ${text} denied by rule "${rule.pattern}"` };
    }
    if (cls === "internal") {
      return {
        allowed: false,
        reason: `ssrf: ${text} is an internal address (allow it with a rule naming the address or range)`,
      };
    }
    return { allowed: true, reason: `policy: ${text} is public` };
  }

  /** Network rules that name "listen" explicitly; default allow (the listen policy is checked apart). */
  checkListen(port: number): Verdict {
    const target: NetTarget = { name: "localhost", ip: parseIp("127.0.0.1")! };
    const rule = this.#match("listen", target, port, { explicitOnly: true });
    if (rule?.mode === "deny")
      return { allowed: false, reason: `policy: listen ${port} denied by rule "${rule.pattern}"` };
    return { allowed: true, reason: "policy: listen allowed" };
  }
}

// ---- listen policy ---------------------------------------------------------------------------

export interface ListenRange {
  portMin: number;
  portMax: number;
  allowPrivileged: boolean;
}

/** Validates a listen policy (clear errors at construction) and fills the defaults. */
export function listenRange(policy: ListenPolicy = {}): ListenRange {
  const portMin = policy.portMin ?? 1;
  const portMax = policy.portMax ?? 65535;
  for (const [name, v] of [
    ["portMin", portMin],
    ["portMax", portMax],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 65535) {
      throw new RangeError(`listen.${name} must be an integer port 1-65535, not ${String(v)}`);
    }
  }
  if (portMin > portMax)
    throw new RangeError(`listen.portMin (${portMin}) is above listen.portMax (${portMax})`);
  return { portMin, portMax, allowPrivileged: policy.allowPrivileged ?? false };
}

/** EACCES unless `port` may be bound under the range. */
export function checkListenPort(range: ListenRange, port: number): void {
  if (port < range.portMin || port > range.portMax) {
    throw new KernelError(
      "EACCES",
      "listen",
      undefined,
      `port ${port} is outside the workspace's listen range ${range.portMin}-${range.portMax}`,
    );
  }
  if (port < 1024 && !range.allowPrivileged) {
    throw new KernelError(
      "EACCES",
      "listen",
      undefined,
      `port ${port} is privileged (listen.allowPrivileged is off)`,
    );
  }
}

// ---- filesystem policy -----------------------------------------------------------------------

/** A glob as a RegExp over absolute paths (see the module comment). */
export function globToRegExp(glob: string): RegExp {
  let out = glob.startsWith("/") ? "^" : "^(?:.*/)?";
  for (let i = 0; i < glob.length;) {
    if (glob.startsWith("/**", i) && (i + 3 === glob.length || glob[i + 3] === "/")) {
      out += "(?:/.*)?";
      i += 3;
    } else if (glob.startsWith("**", i)) {
      out += ".*";
      i += 2;
    } else if (glob[i] === "*") {
      out += "[^/]*";
      i++;
    } else if (glob[i] === "?") {
      out += "[^/]";
      i++;
    } else {
      out += glob[i]!.replace(/[.+^${}()|[\]\\]/g, "\\$&");
      i++;
    }
  }
  return new RegExp(`${out}$`);
}

interface CompiledFsRule {
  mode: "allow" | "deny";
  operations: Set<FilesystemOperation | "*">;
  patterns: RegExp[];
}

/** The evaluated filesystem policy, checking paths against the live VFS (symlinks resolved). */
export class FilesystemPermissions implements FilesystemAccess {
  readonly #rules: CompiledFsRule[];
  readonly #default: "allow" | "deny";

  constructor(
    policy: FilesystemPolicy,
    private readonly vfs: Vfs,
  ) {
    if (policy.default !== undefined && policy.default !== "allow" && policy.default !== "deny") {
      throw new TypeError(
        `filesystem policy default must be "allow" or "deny", not ${String(policy.default)}`,
      );
    }
    this.#default = policy.default ?? "allow";
    this.#rules = (policy.rules ?? []).map((rule, i) => {
      if (rule.mode !== "allow" && rule.mode !== "deny") {
        throw new TypeError(`filesystem rule ${i}: mode must be "allow" or "deny"`);
      }
      const operations = new Set<FilesystemOperation | "*">(rule.operations ?? ["*"]);
      for (const op of operations) {
        if (op !== "read" && op !== "write" && op !== "*") {
          throw new TypeError(`filesystem rule ${i}: unknown operation "${String(op)}"`);
        }
      }
      if (!Array.isArray(rule.patterns) || rule.patterns.length === 0) {
        throw new TypeError(`filesystem rule ${i}: patterns must be a non-empty list`);
      }
      return { mode: rule.mode, operations, patterns: rule.patterns.map(globToRegExp) };
    });
  }

  /** Whether the policy allows `operation` on this exact (canonical) path. */
  allows(path: string, operation: FilesystemOperation): boolean {
    for (let i = this.#rules.length - 1; i >= 0; i--) {
      const rule = this.#rules[i]!;
      if (!rule.operations.has(operation) && !rule.operations.has("*")) continue;
      if (rule.patterns.some((re) => re.test(path))) return rule.mode === "allow";
    }
    return this.#default === "allow";
  }

  check(
    path: string,
    operation: FilesystemOperation,
    syscall: string,
    options: { follow?: boolean } = {},
  ): void {
    const named = resolvePath("/", path);
    const resolved = this.#resolved(named, options.follow ?? true);
    for (const p of resolved === undefined || resolved === named ? [named] : [named, resolved]) {
      if (!this.allows(p, operation)) {
        throw new KernelError(
          "EACCES",
          syscall,
          path,
          `${operation} denied by the workspace's filesystem policy`,
        );
      }
    }
  }

  /** The path with symlinks resolved (the last component only with `follow`); undefined if the parent is missing. */
  #resolved(path: string, follow: boolean): string | undefined {
    if (follow) {
      try {
        return this.vfs.realpath(path);
      } catch {
        // Not there yet (a create): the parent decides where it will be.
      }
    }
    if (path === "/") return path;
    try {
      const parent = this.vfs.realpath(dirname(path));
      return parent === "/" ? `/${basename(path)}` : `${parent}/${basename(path)}`;
    } catch {
      return undefined;
    }
  }
}
