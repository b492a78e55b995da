/**
 * airgap (profile `airgap`): the engine enforces the air gap. With `airgap.enforce` on, an
 * outbound attempt is refused before a packet leaves, recorded in the egress audit and logged.
 * The deliberate attempt is the engine's own OTel export to a TEST-NET collector, configured
 * only on an engine the suite spawned with enforcement on, and made only after the engine
 * confirmed `enforcing: true`.
 */
import { cases } from "../case.js";
import { check, notApplicable, waitFor } from "../check.js";
import { CANARY_PORT } from "../local-engine.js";
import { TEST_NET_HOST } from "../netns.js";
import { waitForOtelCanary } from "./no-outbound.js";

export const airgapCases = cases("airgap", [
  {
    id: "airgap.enforcing",
    name: "the engine enforces the air gap (GET /admin/egress: enforcing)",
    profile: "airgap",
    async run(ctx) {
      const { enforcing } = await ctx.egress();
      check(
        enforcing,
        "GET /admin/egress says enforcing is false: set airgap.enforce: true for an air-gapped site",
      );
    },
  },
  {
    id: "airgap.refused-and-recorded",
    name: "a deliberate outbound attempt is refused, recorded and logged",
    profile: "airgap",
    timeoutMs: 90_000,
    async run(ctx) {
      if (!ctx.local?.options.otelCanary) {
        notApplicable(
          "remote deployment: the suite has no safe way to make the engine attempt a connection (it never sends one itself)",
        );
      }
      const { enforcing } = await ctx.egress();
      check(enforcing, "enforcement is off: the deliberate attempt is not made");
      const attempt = await waitForOtelCanary(ctx);
      check(
        attempt.kind === "connect" && attempt.allowed === false,
        "the attempt was not recorded as a refused connect",
      );
      const local = ctx.local;
      await waitFor(
        "a warn log line for the refused attempt",
        () =>
          local
            .output()
            .split("\n")
            .some(
              (l) =>
                l.includes("egress denied") && l.includes(TEST_NET_HOST) && l.includes(String(CANARY_PORT)),
            ),
        10_000,
      );
    },
  },
]);
