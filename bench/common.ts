/**
 * Small helpers shared by the benchmarks written for the orchestrator (bench/main.ts):
 * bench/storage.ts, bench/directory.ts, bench/peer.ts. Each of them is a script that takes
 * `--quick` and `--out FILE` and writes `{ data, md }` to FILE: the machine-readable figures and
 * the markdown section the orchestrator puts in bench/RESULTS.md.
 */
import { writeFile } from "node:fs/promises";
import type * as EngineModuleNs from "../lib/index.js";

type EngineModule = typeof EngineModuleNs;

/** The benchmarks of bench/actions.ts, by name (also accepted by `npm run bench -- --only`). */
export const ACTIONS_BENCHMARKS = [
  "bare",
  "http-hot",
  "http-1000",
  "http-wide",
  "ws",
  "sequential",
  "wake",
  "create",
  "durability",
  "heap",
] as const;

export interface Latency {
  count: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

export interface ScriptArgs {
  quick: boolean;
  out: string | undefined;
}

export function scriptArgs(argv = process.argv.slice(2)): ScriptArgs {
  let quick = false;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") quick = true;
    else if (a === "--out") out = argv[++i];
    else if (a?.startsWith("--out=")) out = a.slice("--out=".length);
    else throw new Error(`unknown argument ${a}`);
  }
  return { quick, out };
}

export function progressFor(name: string): (message: string) => void {
  const t0 = performance.now();
  return (message) => {
    const t = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[bench:${name} ${t}s] ${message}\n`);
  };
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function latencyOf(values: readonly number[]): Latency {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  const at = (q: number) => (n ? (s[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] ?? NaN) : NaN);
  let sum = 0;
  for (const v of s) sum += v;
  return { count: n, p50: at(0.5), p99: at(0.99), mean: n ? sum / n : NaN, max: n ? (s[n - 1] ?? NaN) : NaN };
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight; results in order. */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

export function fmtRate(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return Math.round(n).toLocaleString("en-US");
}

export function fmtMs(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(1)} ms`;
}

export function fmtBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}

export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

export function errorText(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

/** Prints the section and, with `--out`, hands `{ data, md }` to the orchestrator. */
export async function finish(args: ScriptArgs, data: unknown, md: string): Promise<void> {
  process.stdout.write(`${md}\n`);
  if (args.out) await writeFile(args.out, JSON.stringify({ data, md }));
}

/**
 * The engine the benchmarks drive: with BENCH_FROM_DIST=1 (what `npm run bench` sets after
 * building) the compiled package in dist/, which is what vendors run; otherwise the TypeScript
 * sources under tsx (whose helpers add a little CPU per call).
 */
export function fromDist(): boolean {
  return process.env.BENCH_FROM_DIST === "1";
}

export async function importEngine(): Promise<EngineModule> {
  if (!fromDist()) return import("../lib/index.js");
  const url = new URL("../dist/lib/index.js", import.meta.url).href;
  return (await import(url)) as EngineModule;
}
