/** Namespaces kept in the store. "default" always exists and cannot be deleted. */
import { Errors, err } from "../errors.js";
import { Subspace, packKey, prefixRange } from "../store/keys.js";
import type { Store } from "../store/types.js";
import { NAMESPACE_NAME, type NamespaceCatalog } from "./auth.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface NamespaceInfo {
  name: string;
  displayName: string;
  createdAt: number;
}

function key(name: string): Uint8Array {
  return packKey([Subspace.namespace, name]);
}

export class StoreNamespaces implements NamespaceCatalog {
  readonly #store: Store;
  /** Names known to exist; namespaces are few and looked up on every admin request. */
  readonly #known = new Set<string>();

  constructor(store: Store) {
    this.#store = store;
  }

  async ensureDefault(): Promise<void> {
    if (await this.exists("default")) return;
    await this.#put({ name: "default", displayName: "Default", createdAt: Date.now() });
  }

  async exists(name: string): Promise<boolean> {
    if (this.#known.has(name)) return true;
    const found = (await this.#store.get(key(name))) !== undefined;
    if (found) this.#known.add(name);
    return found;
  }

  async create(name: string, displayName?: string): Promise<NamespaceInfo> {
    if (!NAMESPACE_NAME.test(name))
      throw err(Errors.invalidNamespace, undefined, { name: name.slice(0, 64) });
    if (await this.exists(name)) throw err(Errors.namespaceAlreadyExists, undefined, { name });
    const info: NamespaceInfo = { name, displayName: displayName ?? name, createdAt: Date.now() };
    await this.#put(info);
    return info;
  }

  async list(): Promise<NamespaceInfo[]> {
    const out: NamespaceInfo[] = [];
    for await (const [, v] of this.#store.range(prefixRange([Subspace.namespace]))) {
      out.push(JSON.parse(decoder.decode(v)) as NamespaceInfo);
    }
    return out;
  }

  /** Deletes an empty namespace. The caller revokes its tokens. */
  async delete(name: string): Promise<void> {
    if (name === "default") throw err(Errors.namespaceProtected);
    if (!(await this.exists(name)))
      throw err(Errors.namespaceNotFound, `No namespace named "${name.slice(0, 64)}"`);
    for await (const _ of this.#store.range({ ...prefixRange([Subspace.actorIndex, name]), limit: 1 })) {
      throw err(Errors.namespaceNotEmpty, undefined, { name });
    }
    await this.#store.batch([{ type: "del", key: key(name) }]);
    this.#known.delete(name);
  }

  async #put(info: NamespaceInfo): Promise<void> {
    await this.#store.batch([
      { type: "put", key: key(info.name), value: encoder.encode(JSON.stringify(info)) },
    ]);
    this.#known.add(info.name);
  }
}
