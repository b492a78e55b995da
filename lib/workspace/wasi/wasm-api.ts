/**
 * The parts of the WebAssembly and Atomics globals this runtime uses, typed here because the
 * project's `lib` setting (ES2023, no DOM) does not declare them.
 */

declare global {
  // The build's `lib` has no WebAssembly types, yet the kernel contract names WebAssembly.Module.
  // An empty interface merges with the DOM lib's (or a tool's) declaration where there is one.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace WebAssembly {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Module {}
  }
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export type WasmImports = Record<string, Record<string, unknown>>;

export interface WasmApi {
  Module: abstract new (...args: never[]) => WebAssembly.Module;
  Instance: new (module: WebAssembly.Module, imports: WasmImports) => WasmInstance;
  Memory: abstract new (...args: never[]) => WasmMemory;
  RuntimeError: ErrorConstructor;
  compile(bytes: Uint8Array): Promise<WebAssembly.Module>;
}

export interface AtomicsWaitAsync {
  waitAsync(
    array: Int32Array,
    index: number,
    value: number,
  ): { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
}

export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
export const atomicsWaitAsync = Atomics as unknown as AtomicsWaitAsync;
