/**
 * `npm start`: the example app on the embedded engine, data in ./.enclave/data, port 6420.
 * Configuration comes from the same places as `enclave start` (files, ENCLAVE__* variables).
 * With ENCLAVE_ENDPOINT set (the Compose file does that), it joins that engine as a runner.
 */
import { registry } from "./registry.js";

const running = await registry.start();
const types = Object.keys(registry.use).join(", ");
if (running.mode === "runner") {
  process.stdout.write(`\nJoined the Enclave engine as a runner hosting: ${types}\n\n`);
} else {
  const tokenHint = running.adminTokenPath
    ? `the admin token is in ${running.adminTokenPath}`
    : "the admin token is the one you configured";
  process.stdout.write(
    `\nEnclave is running at ${running.url} with actor types: ${types}\n` +
      `Try it (${tokenHint}):\n` +
      (running.adminTokenPath ? `  TOKEN=$(cat ${running.adminTokenPath})\n` : "") +
      `  curl -s -X PUT ${running.url}/actors -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"counter","key":["demo"]}'\n` +
      `A workspace (vm): create one the same way with "name":"vm", then\n` +
      `  curl -s -X POST ${running.url}/gateway/ID/action/exec -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"args":["echo hello | tr a-z A-Z"]}'\n\n`,
  );
}
