import { describe, expect, it } from "vitest";
import { packKey, prefixRange, unpackKey, type KeyPart } from "./keys.js";

const cmp = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b);

/** Packs, sorts by bytes and unpacks: the order a store would list the keys in. */
function byteOrder(tuples: KeyPart[][]): KeyPart[][] {
  return tuples
    .map((t) => packKey(t))
    .sort(cmp)
    .map((k) => unpackKey(k));
}

function shuffle<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function inRange(key: Uint8Array, range: { gte: Uint8Array; lt: Uint8Array }): boolean {
  return cmp(key, range.gte) >= 0 && cmp(key, range.lt) < 0;
}

describe("packKey order", () => {
  it("round-trips every kind of part", () => {
    const tuple: KeyPart[] = [
      "s",
      "",
      "日本",
      0,
      -5,
      1_700_000_000_000,
      null,
      new Uint8Array([0, 255]),
      ["x", [1]],
    ];
    expect(unpackKey(packKey(tuple))).toEqual(tuple);
  });

  it("orders strings by code point, prefixes first", () => {
    const sorted = ["", "\u0000", "a", "a\u0000", "a\u0001", "aa", "ab", "b", "z", "é", "日", "😀"];
    expect(byteOrder(shuffle(sorted).map((s) => ["k", s]))).toEqual(sorted.map((s) => ["k", s]));
  });

  it("orders integers numerically, negatives and large epoch milliseconds included", () => {
    const fixed = [
      -Number.MAX_SAFE_INTEGER,
      -1_700_000_000_000,
      -65536,
      -256,
      -255,
      -1,
      0,
      1,
      255,
      256,
      65535,
      65536,
      2 ** 32,
      1_700_000_000_000,
      1_700_000_000_001,
      4_102_444_800_000, // 2100-01-01
      Number.MAX_SAFE_INTEGER,
    ];
    const random = Array.from({ length: 500 }, () => Math.floor((Math.random() - 0.5) * 2 ** 53));
    const all = [...new Set([...fixed, ...random])];
    const sorted = [...all].sort((a, b) => a - b);
    expect(byteOrder(shuffle(all).map((n) => ["d", n]))).toEqual(sorted.map((n) => ["d", n]));
  });

  it("sorts every non-integer number (and -0) after all integers: keep key numbers to safe integers", () => {
    const order = byteOrder([
      ["n", 1.5],
      ["n", -0],
      ["n", 2 ** 53],
      ["n", 1e6],
      ["n", -5],
    ]);
    expect(order.slice(0, 2)).toEqual([
      ["n", -5],
      ["n", 1e6],
    ]);
    expect(order.slice(2).map((t) => t[1])).toEqual([-0, 1.5, 2 ** 53]);
  });

  it("orders alarm keys by due time before actor id", () => {
    const sorted: KeyPart[][] = [
      ["d", 1_700_000_000_000, "zzz", "1"],
      ["d", 1_700_000_000_001, "aaa", "1"],
      ["d", 1_700_000_000_001, "aaa", "2"],
      ["d", 1_800_000_000_000, "aaa", "0"],
    ];
    expect(byteOrder(shuffle(sorted))).toEqual(sorted);
  });

  it("orders nested arrays element by element, shorter first", () => {
    const sorted: KeyPart[][] = [
      ["i", "ns", "chat", []],
      ["i", "ns", "chat", [""]],
      ["i", "ns", "chat", ["a"]],
      ["i", "ns", "chat", ["a", "b"]],
      ["i", "ns", "chat", ["a", "b", "c"]],
      ["i", "ns", "chat", ["a", "c"]],
      ["i", "ns", "chat", ["ab"]],
      ["i", "ns", "chat", ["b"]],
      ["i", "ns", "chat", [1]],
      ["i", "ns", "chat", [2, "x"]],
      ["i", "ns", "chat", [10]],
      ["i", "ns", "chatroom", []],
    ];
    expect(byteOrder(shuffle(sorted))).toEqual(sorted);
  });
});

describe("prefixRange", () => {
  const range = prefixRange(["k", "actor1"]);

  it("covers the prefix's children at any depth", () => {
    for (const child of [
      ["k", "actor1", ""],
      ["k", "actor1", "a"],
      ["k", "actor1", 0],
      ["k", "actor1", -1],
      ["k", "actor1", null],
      ["k", "actor1", new Uint8Array([0xff, 0xff])],
      ["k", "actor1", ["nested"]],
      ["k", "actor1", "a", "b", 3],
    ] as KeyPart[][]) {
      expect(inRange(packKey(child), range), JSON.stringify(child)).toBe(true);
    }
  });

  it("excludes the tuple itself, its parent and its siblings", () => {
    for (const other of [
      ["k", "actor1"],
      ["k"],
      ["k", "actor"],
      ["k", "actor10"],
      ["k", "actor1\u0000"],
      ["k", "actor2", "a"],
      ["k", "actor0", "z"],
      ["kv", "actor1", "a"],
      ["s", "actor1"],
    ] as KeyPart[][]) {
      expect(inRange(packKey(other), range), JSON.stringify(other)).toBe(false);
    }
  });

  it("for an integer prefix excludes neighbouring integers", () => {
    const r = prefixRange(["d", 256]);
    expect(inRange(packKey(["d", 256, "x"]), r)).toBe(true);
    expect(inRange(packKey(["d", 255, "x"]), r)).toBe(false);
    expect(inRange(packKey(["d", 257]), r)).toBe(false);
    expect(inRange(packKey(["d", 65536]), r)).toBe(false);
  });
});

describe("packKey fast path", () => {
  it("packs ASCII string tuples byte for byte as the tuple encoding does", async () => {
    const tuple = await import("fdb-tuple");
    const cases: string[][] = [
      ["s", "jv9W-X_WYY1As4at7wU5Ww"],
      ["a", ""],
      ["n", "default"],
      ["i", "default", "counter"],
      ["x", "~!@#$%^&*()_+{}|:<>?`-=[]\\;',./ \t"],
    ];
    for (const parts of cases) {
      expect(Buffer.from(packKey(parts)).equals(tuple.pack(parts))).toBe(true);
      expect(unpackKey(packKey(parts))).toEqual(parts);
    }
  });

  it("leaves strings with NUL or non-ASCII characters to the general encoder", () => {
    for (const parts of [
      ["a", "x\u0000y"],
      ["a", "é"],
      ["a", "日本"],
    ]) {
      expect(unpackKey(packKey(parts))).toEqual(parts);
    }
  });
});
