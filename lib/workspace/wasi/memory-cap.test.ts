import { describe, expect, it } from "vitest";
import { capMemory, MemoryCapError } from "./memory-cap.js";
import { wasmApi, type WasmMemory } from "./wasm-api.js";

const PAGE = 65536;

/** A module with one memory (`min` pages, optional `max`) exported as "mem", and a custom section after it. */
function moduleWithMemory(min: number, max?: number): Uint8Array {
  const limits = max === undefined ? [0, min] : [1, min, max];
  const memory = [5, 1 + limits.length, 1, ...limits];
  const exports = [7, 7, 1, 3, 0x6d, 0x65, 0x6d, 2, 0];
  const custom = [0, 4, 3, 0x61, 0x62, 0x63];
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...memory, ...exports, ...custom]);
}

async function memoryOf(bytes: Uint8Array): Promise<WasmMemory & { grow(pages: number): number }> {
  const instance = new wasmApi.Instance(await wasmApi.compile(bytes), {});
  return instance.exports.mem as WasmMemory & { grow(pages: number): number };
}

describe("capMemory", () => {
  it("adds a maximum to a memory that had none", async () => {
    const mem = await memoryOf(capMemory(moduleWithMemory(1), 3 * PAGE));
    expect(mem.grow(2)).toBe(1);
    expect(() => mem.grow(1)).toThrow(RangeError);
    expect(mem.buffer.byteLength).toBe(3 * PAGE);
  });

  it("lowers a larger declared maximum and keeps a smaller one", async () => {
    const lowered = await memoryOf(capMemory(moduleWithMemory(1, 100), 2 * PAGE));
    expect(() => lowered.grow(2)).toThrow(RangeError);
    const kept = await memoryOf(capMemory(moduleWithMemory(1, 2), 10 * PAGE));
    expect(() => kept.grow(2)).toThrow(RangeError);
    expect(kept.grow(1)).toBe(1);
  });

  it("rounds the cap down to whole pages", async () => {
    const mem = await memoryOf(capMemory(moduleWithMemory(1), 2 * PAGE + 100));
    expect(mem.grow(1)).toBe(1);
    expect(() => mem.grow(1)).toThrow(RangeError);
  });

  it("refuses a module whose initial memory is over the cap", () => {
    expect(() => capMemory(moduleWithMemory(4), 2 * PAGE)).toThrow(MemoryCapError);
  });

  it("leaves a module without a memory section unchanged", () => {
    const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    expect(capMemory(bytes, PAGE)).toBe(bytes);
  });
});
