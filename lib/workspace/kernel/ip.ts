/**
 * IP addresses as numbers, CIDR ranges, and the classes the network policy treats differently
 * (loopback, internal, public). Only canonical textual forms are accepted (what `net.isIP`
 * accepts): "127.1" or "0x7f.0.0.1" are host names here, and are resolved, never guessed at.
 */
import { isIPv4, isIPv6 } from "node:net";

export interface IpAddress {
  version: 4 | 6;
  value: bigint;
}

export interface Cidr {
  version: 4 | 6;
  base: bigint;
  prefix: number;
}

export type AddressClass = "loopback" | "internal" | "public";

function bits(version: 4 | 6): number {
  return version === 4 ? 32 : 128;
}

function parseV4(text: string): bigint {
  let value = 0n;
  for (const part of text.split(".")) value = (value << 8n) | BigInt(Number(part));
  return value;
}

function parseV6(text: string): bigint {
  let head = text;
  let tailV4: bigint | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    tailV4 = parseV4(text.slice(lastColon + 1));
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left = "", right] = head.split("::");
  const l = left === "" ? [] : left.split(":");
  const r = right === undefined || right === "" ? [] : right.split(":");
  const groups = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill("0"), ...r];
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(parseInt(g, 16));
  if (tailV4 !== undefined) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/** The address in `text` (brackets allowed around IPv6), or undefined when it is not an IP literal. */
export function parseIp(text: string): IpAddress | undefined {
  const t = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (isIPv4(t)) return { version: 4, value: parseV4(t) };
  // Zones ("fe80::1%eth0") name host interfaces: not an address a guest may use.
  if (!t.includes("%") && isIPv6(t)) return { version: 6, value: parseV6(t) };
  return undefined;
}

/** "10.0.0.0/8", "fd00::/8", or a single address (a /32 or /128). Throws a TypeError when malformed. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  const addr = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (addr === undefined) throw new TypeError(`"${text}" is not an IP address or CIDR range`);
  const max = bits(addr.version);
  let prefix = max;
  if (slash !== -1) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) {
      throw new TypeError(`"${text}": the prefix length must be 0-${max}`);
    }
    prefix = Number(p);
  }
  const shift = BigInt(max - prefix);
  return { version: addr.version, base: (addr.value >> shift) << shift, prefix };
}

export function cidrContains(range: Cidr, addr: IpAddress): boolean {
  const a = unmapped(addr);
  if (range.version !== a.version) return false;
  const shift = BigInt(bits(a.version) - range.prefix);
  return a.value >> shift === range.base >> shift;
}

/**
 * The IPv4 address an IPv6 one stands for, where it does: IPv4-mapped (::ffff:a.b.c.d),
 * IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) all reach an IPv4
 * host, so they are classed and matched as that host.
 */
export function unmapped(addr: IpAddress): IpAddress {
  if (addr.version === 4) return addr;
  const v = addr.value;
  const low32 = v & 0xffffffffn;
  const high96 = v >> 32n;
  if (high96 === 0xffffn || (high96 === 0n && low32 > 1n)) return { version: 4, value: low32 };
  if (high96 === 0x0064ff9b0000000000000000n) return { version: 4, value: low32 };
  if (v >> 112n === 0x2002n) return { version: 4, value: (v >> 80n) & 0xffffffffn };
  return addr;
}

const LOOPBACK = ["127.0.0.0/8", "0.0.0.0/8", "::1/128", "::/128"].map(parseCidr);

/**
 * Not public: private networks, carrier-grade NAT, link-local (cloud metadata lives at
 * 169.254.169.254), benchmarking, documentation, multicast and reserved space.
 */
const INTERNAL = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "169.254.0.0/16",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
  "fc00::/7",
  "fe80::/10",
  "fec0::/10",
  "ff00::/8",
  "2001:db8::/32",
  "100::/64",
].map(parseCidr);

export function classify(addr: IpAddress): AddressClass {
  const a = unmapped(addr);
  if (LOOPBACK.some((r) => cidrContains(r, a))) return "loopback";
  if (INTERNAL.some((r) => cidrContains(r, a))) return "internal";
  return "public";
}
