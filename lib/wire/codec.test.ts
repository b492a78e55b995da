import { describe, expect, it } from "vitest";
import { decodeWire, encodeWire, isPlainJson, wireReplacer } from "./codec.js";

describe("isPlainJson (the fast path of encodeWire)", () => {
  it("encodes plain data exactly as the replacer path does, and routes everything else through it", () => {
    const plain = { a: 1, b: "x", c: [true, null, { d: -0.5 }], e: {}, f: Number.NaN };
    expect(isPlainJson(plain)).toBe(true);
    expect(encodeWire(plain)).toBe(JSON.stringify(plain, wireReplacer));
    for (const special of [
      { bytes: new Uint8Array([1, 2]) },
      [Buffer.from("hi")],
      { when: new Date(0) },
      { gone: undefined },
      { fn: () => 1 },
      new Map([[1, 2]]),
      { nested: { deeper: [new Uint8Array([9])] } },
    ]) {
      expect(isPlainJson(special)).toBe(false);
    }
    expect(decodeWire(encodeWire({ nested: { deeper: [new Uint8Array([9])] } }))).toEqual({
      nested: { deeper: [new Uint8Array([9])] },
    });
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(isPlainJson(deep)).toBe(false);
    expect(encodeWire(deep)).toBe(JSON.stringify(deep));
  });
});
