/**
 * `npm start`: the example app on the embedded engine, data in ./.enclave/data, port 6420.
 * Configuration comes from the same places as `enclave start` (files, ENCLAVE__* variables).
 */
import { registry } from "./registry.js";

const running = await registry.start();
const tokenHint = running.adminTokenPath
  ? `the admin token is in ${running.adminTokenPath}`
  : "the admin token is the one you configured";
process.stdout.write(
  `\nEnclave is running at ${running.url} with actor types: ${Object.keys(registry.use).join(", ")}\n` +
    `Try it (${tokenHint}):\n` +
    (running.adminTokenPath ? `  TOKEN=$(cat ${running.adminTokenPath})\n` : "") +
    `  curl -s -X PUT ${running.url}/actors -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"counter","key":["demo"]}'\n\n`,
);
