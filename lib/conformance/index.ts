/**
 * `enclave/conformance`: the conformance suite as a library. `runConformance(options)` runs it
 * against an endpoint or a local engine it spawns and returns the report; the CLI
 * (`enclave conformance`) is a thin layer over it. `startConformanceRunner` hosts the suite's
 * actor types on a deployment (what `conformance/app/main.mjs` runs).
 */
export { runConformance, selectCases, ConformanceUsageError, type ConformanceOptions } from "./suite.js";
export type { RestartFn, RestartMode } from "./context.js";
export { ALL_CASES } from "./groups/index.js";
export type { ConformanceCase } from "./case.js";
export {
  PROFILES,
  profileIncludes,
  type Profile,
  type GroupName,
  type CaseStatus,
  type CaseResult,
  type ConformanceReport,
  type EngineInfo,
  type TargetInfo,
} from "./types.js";
export { toJUnit, writeReports, progressLine, JSON_REPORT, JUNIT_REPORT } from "./report.js";
export {
  CONFORMANCE_ACTOR,
  conformanceActor,
  conformanceRegistry,
  startConformanceRunner,
  type ConformanceRunnerOptions,
} from "./app.js";
export { NETNS_MARKER_ENV, netnsSupport, inLoopbackOnlyNamespace, spawnInNamespace } from "./netns.js";
