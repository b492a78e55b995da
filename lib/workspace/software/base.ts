/**
 * The base package: toybox compiled to WASI by `npm run build:software` (software/toybox), one
 * hard link per applet in /usr/bin, the kernel's shell as /usr/bin/sh and the guest JavaScript
 * engine as /usr/bin/node.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SoftwareError, type SoftwareFile, type SoftwarePackage } from "./package.js";

interface Manifest {
  source: { package: string; version: string; sha256?: string };
  applets: string[];
}

/** Where the built toybox lives: ENCLAVE_SOFTWARE_DIR, else software/dist of this package. */
export function softwareDir(): string {
  const fromEnv = process.env.ENCLAVE_SOFTWARE_DIR;
  if (fromEnv) return fromEnv;
  // Source layout (lib/workspace/software) and built layout (dist/lib/workspace/software).
  for (const rel of ["../../../software/dist", "../../../../software/dist"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}/toybox.json`)) return dir;
  }
  return fileURLToPath(new URL("../../../software/dist", import.meta.url));
}

/** The shell is a host program; its file is the marker the kernel resolves. */
export const SHELL_FILE: SoftwareFile = {
  path: "/usr/bin/sh",
  data: new TextEncoder().encode("#!enclave-host sh\n"),
  mode: 0o755,
};

/** `node`: guest JavaScript in a sandboxed engine (lib/workspace/node). */
export const NODE_FILE: SoftwareFile = {
  path: "/usr/bin/node",
  data: new TextEncoder().encode("#!enclave-host node\n"),
  mode: 0o755,
};

// Host-implemented commands take precedence over toybox applets of the same name.
const HOST_COMMANDS = new Set(["sh", "node"]);

let cached: readonly SoftwareFile[] | undefined;
let cachedManifest: Manifest | undefined;

function load(): readonly SoftwareFile[] {
  if (cached) return cached;
  const dir = softwareDir();
  const manifestPath = `${dir}/toybox.json`;
  const wasmPath = `${dir}/toybox.wasm`;
  if (!existsSync(manifestPath) || !existsSync(wasmPath)) {
    throw new SoftwareError(
      `The base software package is not built (${wasmPath} is missing). Run \`npm run build:software\` ` +
        "(it installs clang and wasi-libc from Debian packages if needed), or set ENCLAVE_SOFTWARE_DIR.",
    );
  }
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Manifest;
  const wasm = new Uint8Array(readFileSync(wasmPath));
  const files: SoftwareFile[] = [
    { path: "/usr/bin", directory: true },
    { path: "/usr/lib/enclave", directory: true },
    { path: "/usr/bin/toybox", data: wasm, mode: 0o755 },
    SHELL_FILE,
    NODE_FILE,
  ];
  for (const applet of manifest.applets) {
    if (applet === "toybox" || HOST_COMMANDS.has(applet) || !/^[A-Za-z0-9_.[-]+$/.test(applet)) continue;
    files.push({ path: `/usr/bin/${applet}`, linkTo: "/usr/bin/toybox" });
  }
  cachedManifest = manifest;
  cached = files;
  return files;
}

/** True when `npm run build:software` has produced the base package. */
export function baseSoftwareAvailable(): boolean {
  const dir = softwareDir();
  return existsSync(`${dir}/toybox.json`) && existsSync(`${dir}/toybox.wasm`);
}

export const baseSoftware: SoftwarePackage = {
  name: "base",
  get commands(): readonly string[] {
    try {
      load();
    } catch {
      return ["sh"];
    }
    return ["sh", "node", ...(cachedManifest?.applets ?? []).filter((a) => !HOST_COMMANDS.has(a))];
  },
  files: load,
};
