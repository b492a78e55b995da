/**
 * Which property names a handle or connection proxy treats as actions. Mirrors the definition
 * rules in lib/actor/definition.ts (kept here so the client imports no engine code at runtime).
 */

import { RESERVED_ACTION_NAMES as RESERVED_NAMES } from "../wire/protocol.js";

export { RESERVED_NAMES };

const ACTION_NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,127}$/;

/** True for a name that could be an action: an identifier, not reserved, not `$$`-prefixed (framework probes). */
export function isActionName(name: string): boolean {
  return (
    ACTION_NAME.test(name) && !RESERVED_NAMES.has(name) && !name.startsWith("$$") && !name.startsWith("@@")
  );
}

type Call = (name: string, args: unknown[]) => Promise<unknown>;

/**
 * A proxy whose own members are `base`'s (named in `members`) and whose every other identifier
 * is an action method (cached per name). Anything else reads as undefined (so `then` never
 * makes it look like a promise) and nothing can be assigned.
 */
export function actionProxy<T extends object>(base: T, members: ReadonlySet<string>, call: Call): unknown {
  const actions = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(base, {
    get(target, prop) {
      if (typeof prop !== "string") return undefined;
      if (members.has(prop)) return Reflect.get(target, prop, target);
      if (!isActionName(prop)) return undefined;
      let fn = actions.get(prop);
      if (fn === undefined) {
        fn = (...args: unknown[]) => call(prop, args);
        actions.set(prop, fn);
      }
      return fn;
    },
    has(_target, prop) {
      return typeof prop === "string" && (members.has(prop) || isActionName(prop));
    },
    set() {
      return false;
    },
  });
}
