/**
 * The store's data format version, written on first start. An engine refuses a store written
 * by a newer format rather than misread it; a future format change adds a migration here.
 */
import { Subspace, packKey } from "../store/keys.js";
import type { Store } from "../store/types.js";

export const STORE_FORMAT_VERSION = 1;

const FORMAT_KEY = packKey([Subspace.meta, "format"]);

export class StoreFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreFormatError";
  }
}

/** Stamps a new store, accepts a current one, refuses one from a newer engine. */
export async function checkStoreFormat(store: Store, where: string): Promise<number> {
  const bytes = await store.get(FORMAT_KEY);
  if (!bytes) {
    await store.batch([
      { type: "put", key: FORMAT_KEY, value: new TextEncoder().encode(String(STORE_FORMAT_VERSION)) },
    ]);
    return STORE_FORMAT_VERSION;
  }
  const found = Number(new TextDecoder().decode(bytes));
  if (!Number.isInteger(found) || found < 1) {
    throw new StoreFormatError(
      `The store at ${where} has an unreadable format marker; restore it from a backup`,
    );
  }
  if (found > STORE_FORMAT_VERSION) {
    throw new StoreFormatError(
      `The store at ${where} was written by a newer Enclave (data format ${found}; this version reads up to ${STORE_FORMAT_VERSION}). Upgrade Enclave, or restore a backup taken with this version.`,
    );
  }
  return found;
}
