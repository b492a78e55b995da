/**
 * Builds the runtime's C test programs (testdata/*.c) with Debian's clang for wasm32-wasi into
 * the OS temp directory, once per source version. Binaries are never committed.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

function clangResourceDir(): string {
  try {
    return execFileSync("clang", ["-print-resource-dir"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(
      "clang is needed to build the WASI test program: apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32",
    );
  }
}

/** The test program's bytes (compiled on first use, then read from the cache file). */
export function testProgram(): Uint8Array {
  return buildTestProgram("wtest");
}

/** testdata/NAME.c compiled (on first use, then read from the cache file). */
export function buildTestProgram(name: string): Uint8Array {
  const file = fileURLToPath(new URL(`../testdata/${name}.c`, import.meta.url));
  const source = readFileSync(file);
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 16);
  const out = join(tmpdir(), `enclave-wasi-${name}-${hash}.wasm`);
  if (!existsSync(out)) {
    const partial = `${out}.${process.pid}.tmp`;
    // Debian's clang also searches the glibc headers after the WASI ones: keep only the WASI sysroot.
    execFileSync("clang", [
      "--target=wasm32-wasi",
      "-O2",
      "-nostdinc",
      "-isystem",
      "/usr/include/wasm32-wasi",
      "-isystem",
      join(clangResourceDir(), "include"),
      file,
      "-o",
      partial,
    ]);
    renameSync(partial, out);
  }
  return new Uint8Array(readFileSync(out));
}
