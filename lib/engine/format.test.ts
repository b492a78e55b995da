import { describe, expect, it } from "vitest";
import { MemoryStore } from "../store/index.js";
import { Subspace, packKey } from "../store/keys.js";
import { STORE_FORMAT_VERSION, checkStoreFormat } from "./format.js";

describe("store format version", () => {
  it("stamps a new store and accepts it again", async () => {
    const store = new MemoryStore();
    expect(await checkStoreFormat(store, "mem")).toBe(STORE_FORMAT_VERSION);
    expect(await checkStoreFormat(store, "mem")).toBe(STORE_FORMAT_VERSION);
    await store.close();
  });

  it("refuses a store written by a newer format, naming both versions", async () => {
    const store = new MemoryStore();
    await store.batch([
      {
        type: "put",
        key: packKey([Subspace.meta, "format"]),
        value: new TextEncoder().encode(String(STORE_FORMAT_VERSION + 1)),
      },
    ]);
    await expect(checkStoreFormat(store, "/data")).rejects.toThrow(
      `data format ${STORE_FORMAT_VERSION + 1}; this version reads up to ${STORE_FORMAT_VERSION}`,
    );
    await store.close();
  });
});
