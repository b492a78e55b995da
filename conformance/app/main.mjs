#!/usr/bin/env node
/* global process, console -- Node.js globals (this file runs under plain node) */
// The conformance actor types (`enclaveConformance`) as a runner app to deploy next to a
// standalone engine, for sites that want the suite's actors hosted inside the deployment
// rather than by the suite itself (which it does by default). Plain node, no build step:
//
//   ENCLAVE_ENDPOINT=http://NAMESPACE:SECRET_TOKEN@enclave:6420 node conformance/app/main.mjs
//
// or, from the installed package or the engine image (no file needed):
//
//   node --input-type=module -e 'import("enclave/conformance").then((m) => m.conformanceRegistry.start())'
//
// SIGTERM/SIGINT drain it gracefully. The token must be a secret token of the namespace.
import { conformanceRegistry } from "enclave/conformance";

if (!process.env.ENCLAVE_ENDPOINT) {
  console.error(
    "conformance app: set ENCLAVE_ENDPOINT=http://NAMESPACE:SECRET_TOKEN@host:6420 (a secret token of the namespace)",
  );
  process.exit(2);
}
const runner = await conformanceRegistry.start();
console.error(
  `conformance app: hosting enclaveConformance for namespace "${runner.namespace}" on ${runner.url}` +
    ` (runner ${runner.runnerId ?? "?"})`,
);
