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
