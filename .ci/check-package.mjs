// The package as a vendor gets it: the files `npm pack` would ship, imported by plain node
// (no TypeScript loader) through the package name and its export map.
import { execFileSync } from "node:child_process";
import process from "node:process";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const packed = JSON.parse(
  execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" }),
);
const files = new Set(packed[0].files.map((f) => f.path));
for (const needed of [
  "dist/lib/index.js",
  "dist/lib/index.d.ts",
  "dist/lib/client/index.js",
  "dist/lib/workspace/index.js",
  "software/dist/toybox.wasm",
  "software/dist/toybox.json",
  "package.json",
  "README.md",
]) {
  if (!files.has(needed)) throw new Error(`npm pack would not ship ${needed}`);
}
for (const path of files) {
  if (path.endsWith(".test.js") || path.includes("/testing/"))
    throw new Error(`npm pack would ship test file ${path}`);
}

const dir = mkdtempSync(join(tmpdir(), "enclave-pkg-"));
try {
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(root, join(dir, "node_modules", "enclave"), "dir");
  writeFileSync(
    join(dir, "check.mjs"),
    `
import { actor, setup, UserError, createEngine } from "enclave";
import { createClient } from "enclave/client";
import { workspace } from "enclave/workspace";
import { runConformance, conformanceRegistry } from "enclave/conformance";
if (typeof runConformance !== "function" || typeof conformanceRegistry?.start !== "function") throw new Error("enclave/conformance exports are missing");
const counter = actor({ state: { count: 0 }, actions: { increment: (c, n) => (c.state.count += n) } });
const registry = setup({ use: { counter, vm: workspace() } });
const running = await createEngine({ registry, storage: { driver: "memory" }, gateway: { host: "127.0.0.1", port: 0 }, auth: { adminToken: "x".repeat(32) }, log: { level: "silent" }, env: {} });
await running.listen();
const client = createClient({ endpoint: running.endpoint });
const h = client.counter.getOrCreate("pkg");
const a = await h.increment(2);
const b = await h.increment(3);
const box = client.vm.getOrCreate("pkg");
const shout = await box.exec("echo hello | tr a-z A-Z");
if (shout.stdout !== "HELLO\\n") throw new Error("workspace exec from the built package gave " + JSON.stringify(shout));
client.dispose?.();
await running.close();
if (a !== 2 || b !== 5 || typeof UserError !== "function") throw new Error("unexpected results " + a + " " + b);
console.log("package entry points work from plain node: enclave, enclave/client, enclave/workspace (toybox exec), enclave/conformance");
`,
  );
  execFileSync(process.execPath, ["check.mjs"], { cwd: dir, stdio: "inherit" });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
