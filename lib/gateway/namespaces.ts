/** Namespaces kept in the store. "default" always exists. */
import { Subspace, packKey } from "../store/keys.js";
import type { Store } from "../store/types.js";
import type { NamespaceCatalog } from "./auth.js";

const encoder = new TextEncoder();

export class StoreNamespaces implements NamespaceCatalog {
  readonly #store: Store;
  readonly #known = new Set<string>();

  constructor(store: Store) {
    this.#store = store;
  }

  async ensureDefault(): Promise<void> {
    if (await this.exists("default")) return;
    await this.#store.batch([
      {
        type: "put",
        key: packKey([Subspace.namespace, "default"]),
        value: encoder.encode(
          JSON.stringify({ name: "default", displayName: "Default", createdAt: Date.now() }),
        ),
      },
    ]);
    this.#known.add("default");
  }

  async exists(name: string): Promise<boolean> {
    if (this.#known.has(name)) return true;
    const found = (await this.#store.get(packKey([Subspace.namespace, name]))) !== undefined;
    if (found) this.#known.add(name);
    return found;
  }
}
