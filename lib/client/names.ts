/**
 * Which property names a handle or connection proxy treats as actions. Mirrors the definition
 * rules in lib/actor/definition.ts (kept here so the client imports no engine code at runtime).
 */

/** Names a handle uses for itself (must match RESERVED_ACTION_NAMES in lib/actor/definition.ts). */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "resolve",
  "action",
  "connect",
  "fetch",
  "getGatewayUrl",
  "then",
  "constructor",
  "toString",
  "toJSON",
  "valueOf",
]);

const ACTION_NAME = /^[A-Za-z_$][A-Za-z0-9_$]{0,127}$/;

/** True for a name that could be an action: an identifier, not reserved, not `$$`-prefixed (framework probes). */
export function isActionName(name: string): boolean {
  return (
    ACTION_NAME.test(name) && !RESERVED_NAMES.has(name) && !name.startsWith("$$") && !name.startsWith("@@")
  );
}
