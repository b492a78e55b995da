/** The shape of a case: a named async function, tagged with the smallest profile that runs it. */
import type { SuiteContext } from "./context.js";
import type { GroupName, Profile } from "./types.js";

export interface CaseTools {
  /** A warning: shown and reported, never a failure. */
  warn(message: string): void;
}

export interface ConformanceCase {
  /** Stable and unique: `group.topic.detail`. */
  id: string;
  group: GroupName;
  /** What it proves, in a few words (the progress line and the report). */
  name: string;
  profile: Profile;
  /** Default 120 s. */
  timeoutMs?: number;
  run(ctx: SuiteContext, t: CaseTools): Promise<void>;
}

export function cases(group: GroupName, list: Omit<ConformanceCase, "group">[]): ConformanceCase[] {
  return list.map((c) => ({ ...c, group }));
}

/** What a case says when the feature it checks is not in this engine yet. */
export const NOT_BUILT = "not built in this engine yet";
export const NO_SESSIONS = `agent sessions are ${NOT_BUILT}`;
