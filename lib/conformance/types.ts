/** The suite's vocabulary: profiles, groups, cases and their results, and the report. */

/**
 * What a run covers. `smoke`: reachability and one authenticated call. `core`: smoke plus the
 * no-outbound, tokens and persistence groups (nothing is killed). `airgap`: core plus the
 * air-gap enforcement checks. `disruptive`: core plus restarts that kill the engine (`kill -9`).
 */
export type Profile = "smoke" | "core" | "airgap" | "disruptive";
export const PROFILES: readonly Profile[] = ["smoke", "core", "airgap", "disruptive"];

/** The case tags each profile runs (a case is tagged with the smallest profile that runs it). */
const INCLUDES: Record<Profile, readonly Profile[]> = {
  smoke: ["smoke"],
  core: ["smoke", "core"],
  airgap: ["smoke", "core", "airgap"],
  disruptive: ["smoke", "core", "disruptive"],
};

export function profileIncludes(profile: Profile, tag: Profile): boolean {
  return INCLUDES[profile].includes(tag);
}

export type GroupName = "smoke" | "no-outbound" | "tokens" | "persistence" | "airgap";

export type CaseStatus = "passed" | "failed" | "not-applicable";

export interface CaseResult {
  /** Stable id, e.g. `tokens.http.missing`. */
  id: string;
  group: GroupName;
  name: string;
  status: CaseStatus;
  durationMs: number;
  /** Why a case is not applicable, or why it failed (one line). */
  reason?: string;
  /** Failure details (more lines), never a secret. */
  details?: string;
  /** Warnings: reported, never a failure (e.g. the constant-time timing check). */
  warnings?: string[];
}

export interface EngineInfo {
  name: string | null;
  version: string | null;
  apiVersion: number | null;
  runnerProtocolVersion: number | null;
}

export interface TargetInfo {
  /** `local`: the suite spawned the engine; `remote`: `--endpoint`. */
  kind: "local" | "remote";
  /** The engine's base URL, without credentials. */
  url: string;
  namespace: string;
  /**
   * How outbound traffic is sealed for a local engine: `netns` (a loopback-only network
   * namespace), `enforce` (the engine's `airgap.enforce`); `none` for a remote deployment.
   */
  isolation: "netns" | "enforce" | "none";
  /** Whether the suite hosts the conformance actors on a runner of its own. */
  runner: "suite" | "none";
  /** Whether restarts are possible (local engine or a restart hook). */
  restarts: "local" | "hook" | "none";
}

export interface ConformanceReport {
  tool: "enclave conformance";
  /** The version of the suite (the package that ran it). */
  suiteVersion: string;
  engine: EngineInfo;
  profile: Profile;
  target: TargetInfo;
  focus: string | null;
  skip: string | null;
  startedAt: string;
  durationMs: number;
  summary: { total: number; passed: number; failed: number; notApplicable: number; warnings: number };
  /** True when every applicable case passed (the exit code is 0 exactly then). */
  ok: boolean;
  cases: CaseResult[];
}

/** Thrown by a case (through `t.notApplicable`) to say it cannot apply here, and why. */
export class NotApplicable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "NotApplicable";
  }
}

/** A failed expectation: its message is the one-line reason in the report. */
export class CheckFailed extends Error {
  readonly details: string | undefined;
  constructor(message: string, details?: string) {
    super(message);
    this.name = "CheckFailed";
    this.details = details;
  }
}
