/** Every case, in the order they run: steady-engine groups first, restarts, then final checks. */
import type { ConformanceCase } from "../case.js";
import { airgapCases } from "./airgap.js";
import { noOutboundCases, noOutboundFinalCases } from "./no-outbound.js";
import { persistenceCases, restartCases } from "./persistence.js";
import { smokeCases } from "./smoke.js";
import { tokenCases, tokenFinalCases } from "./tokens.js";

export const ALL_CASES: readonly ConformanceCase[] = [
  ...smokeCases,
  ...noOutboundCases,
  ...tokenCases,
  ...persistenceCases,
  ...airgapCases,
  ...restartCases,
  ...noOutboundFinalCases,
  ...tokenFinalCases,
];
