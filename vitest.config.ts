import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Examples and tests import the package by its public name, as a vendor would.
    alias: [
      {
        find: /^enclave\/client$/,
        replacement: fileURLToPath(new URL("./lib/client/index.ts", import.meta.url)),
      },
      {
        find: /^enclave\/workspace$/,
        replacement: fileURLToPath(new URL("./lib/workspace/index.ts", import.meta.url)),
      },
      { find: /^enclave$/, replacement: fileURLToPath(new URL("./lib/index.ts", import.meta.url)) },
    ],
  },
  test: {
    include: ["lib/**/*.test.ts", "examples/**/*.test.ts", "bench/**/*.test.ts", "charts/*/tests/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
