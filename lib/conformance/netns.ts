/**
 * Network namespaces and sockets, Linux only. When the suite spawns the engine as root on
 * Linux, it re-runs itself inside a fresh network namespace (`unshare --net`) with only `lo`
 * up, so neither it nor the engine it spawns has any route out: an outbound connect fails with
 * ENETUNREACH before a packet exists. The helpers here check that seal from the inside and read
 * a process's sockets from /proc.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import net from "node:net";
import { childEnv, enclaveCommand } from "./process.js";

/** Set in the environment of the suite re-run inside the namespace. */
export const NETNS_MARKER_ENV = "ENCLAVE_CONFORMANCE_IN_NETNS";

/**
 * TEST-NET-1 (RFC 5737): documentation addresses, never assigned. The only non-loopback
 * destination the suite ever names, and only where no packet can leave (inside the namespace,
 * or with the engine's enforcement confirmed on).
 */
export const TEST_NET_HOST = "192.0.2.1";

function onPath(cmd: string): boolean {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
  return r.status === 0;
}

/** Whether this process can create a loopback-only network namespace, and if not, why. */
export function netnsSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== "linux") return { ok: false, reason: `not Linux (${process.platform})` };
  if (typeof process.getuid !== "function" || process.getuid() !== 0)
    return { ok: false, reason: "not root" };
  if (!onPath("unshare")) return { ok: false, reason: "no unshare(1) (util-linux)" };
  if (!onPath("ip")) return { ok: false, reason: "no ip(8) (iproute2) to bring lo up" };
  const probe = spawnSync("unshare", ["--net", "--", "ip", "link", "set", "lo", "up"], { stdio: "ignore" });
  if (probe.status !== 0)
    return { ok: false, reason: "unshare --net is not permitted here (a container without CAP_SYS_ADMIN?)" };
  return { ok: true };
}

/** The network interfaces of `pid`'s namespace (from /proc/PID/net/dev). */
export function interfacesOf(pid: number | "self" = "self"): string[] {
  const text = readFileSync(`/proc/${pid}/net/dev`, "utf8");
  return text
    .split("\n")
    .slice(2)
    .map((l) => l.split(":")[0]?.trim() ?? "")
    .filter((n) => n !== "");
}

/** The network namespace id of `pid` (`net:[NNN]`). */
export function netnsOf(pid: number | "self" = "self"): string {
  return readlinkSync(`/proc/${pid}/ns/net`);
}

/** True when this process is in a network namespace whose only interface is `lo`. */
export function inLoopbackOnlyNamespace(): boolean {
  if (process.platform !== "linux") return false;
  try {
    const names = interfacesOf("self");
    return names.length === 1 && names[0] === "lo";
  } catch {
    return false;
  }
}

/**
 * The canary: from inside the namespace, an outbound connect to a TEST-NET address must fail
 * at once (ENETUNREACH: no route; EACCES/EPERM: refused by policy). Only ever called after
 * `inLoopbackOnlyNamespace()` said there is nothing but `lo`. Resolves with the error code, or
 * throws describing why the seal is not proven.
 */
export async function outboundCanary(timeoutMs = 3000): Promise<{ code: string; ms: number }> {
  if (!inLoopbackOnlyNamespace()) {
    throw new Error("refusing to run the canary outside a loopback-only network namespace");
  }
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: TEST_NET_HOST, port: 9 });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`an outbound connect to ${TEST_NET_HOST}:9 did not fail within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(`an outbound connect to ${TEST_NET_HOST}:9 succeeded: the namespace is not sealed`));
    });
    socket.once("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const code = e.code ?? "unknown";
      const ms = Date.now() - started;
      if (["ENETUNREACH", "EACCES", "EPERM", "EHOSTUNREACH"].includes(code)) resolve({ code, ms });
      else reject(new Error(`an outbound connect to ${TEST_NET_HOST}:9 failed with ${code}, not "no route"`));
    });
  });
}

// ---- sockets of a process -------------------------------------------------------------------

export interface SocketEntry {
  proto: string;
  local: string;
  remote: string;
}

function ipv4(hex: string): string {
  const n = parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join(".");
}

function ipv6(hex: string): string {
  // Four 32-bit words, each in host (little-endian) byte order.
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  const text = groups.join(":");
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

function parseAddress(field: string, v6: boolean): string {
  const [addr = "", port = "0"] = field.split(":");
  const host = v6 ? ipv6(addr) : ipv4(addr);
  return `${v6 ? `[${host}]` : host}:${parseInt(port, 16)}`;
}

/** Loopback or unspecified (a listener or an unconnected socket): never off the machine. */
export function isLocalAddress(address: string): boolean {
  const host = address.startsWith("[") ? address.slice(1, address.indexOf("]")) : address.split(":")[0]!;
  if (net.isIPv4(host)) return host.startsWith("127.") || host === "0.0.0.0";
  return host === "::1" || host === "::" || host.startsWith("::ffff:127.") || /^::ffff:7f/.test(host);
}

/** The inet sockets `pid` holds open (its fds matched against /proc/PID/net/*). */
export function socketsOf(pid: number): SocketEntry[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const out: SocketEntry[] = [];
  for (const proto of ["tcp", "tcp6", "udp", "udp6", "raw", "raw6"]) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${proto}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      if (!inodes.has(f[9]!)) continue;
      const v6 = proto.endsWith("6");
      out.push({ proto, local: parseAddress(f[1]!, v6), remote: parseAddress(f[2]!, v6) });
    }
  }
  return out;
}

/** Re-runs `enclave ARGS` inside a fresh network namespace with only `lo` up. */
export function spawnInNamespace(
  args: readonly string[],
  env: Record<string, string | undefined>,
): ChildProcess {
  const { command, args: rest } = enclaveCommand(args);
  const passEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) passEnv[k] = v;
  return spawn(
    "unshare",
    ["--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", command, ...rest],
    { env: { ...childEnv(), ...passEnv, [NETNS_MARKER_ENV]: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
}
