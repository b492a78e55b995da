/**
 * `runConformance(options)`: the suite as a library. Against `endpoint`, or a local engine it
 * spawns itself; runs the cases of the profile (narrowed by focus/skip) one after the other,
 * writes a progress line per case, and returns the report (also written to `reportDir`).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseEndpoint } from "../client/endpoint.js";
import { VERSION } from "../version.js";
import type { CaseTools, ConformanceCase } from "./case.js";
import { SuiteContext, type RestartFn } from "./context.js";
import { ALL_CASES } from "./groups/index.js";
import type { Json } from "./http.js";
import { LocalEngine } from "./local-engine.js";
import { inLoopbackOnlyNamespace } from "./netns.js";
import { progressLine, writeReports } from "./report.js";
import {
  CheckFailed,
  NotApplicable,
  PROFILES,
  profileIncludes,
  type CaseResult,
  type ConformanceReport,
  type EngineInfo,
  type Profile,
  type TargetInfo,
} from "./types.js";

export interface ConformanceOptions {
  /** `http://NAMESPACE:TOKEN@host:port`; without it the suite spawns a local engine. */
  endpoint?: string;
  /** The admin token, when the endpoint's token is not it. Never printed. */
  adminToken?: string;
  /** A file holding the admin token (one line). */
  adminTokenFile?: string;
  /** Default `core`. */
  profile?: Profile;
  /** Only cases whose id, group or name match this regular expression (case-insensitive). */
  focus?: string;
  /** Leave out cases whose id, group or name match this regular expression. */
  skip?: string;
  /** Where to write the JSON and JUnit reports (and the local engine's redacted log). */
  reportDir?: string;
  /**
   * Restarts a remote engine: a shell command run with ENCLAVE_CONFORMANCE_RESTART=graceful|kill
   * (and ENCLAVE_CONFORMANCE_RESTART_DOWN_MS), or a function. Returns once it has restarted.
   */
  restartHook?: string | RestartFn;
  /**
   * How a local engine is sealed: `netns` (this process must already be in a loopback-only
   * network namespace; the CLI arranges that), `enforce` (airgap.enforce), or `auto` (netns when
   * in such a namespace, else enforce). Default `auto`.
   */
  isolation?: "auto" | "netns" | "enforce";
  /** Progress lines go here (default: nowhere). */
  out?: { write(text: string): unknown };
  /** Per-case limit (default: each case's own, else 120 s). */
  caseTimeoutMs?: number;
  /** Aborting stops the run: the current case fails as interrupted, the rest do not run. */
  signal?: AbortSignal;
}

/** A problem with the options themselves (the CLI exits 2). */
export class ConformanceUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConformanceUsageError";
  }
}

function pattern(source: string | undefined, flag: string): RegExp | undefined {
  if (source === undefined || source === "") return undefined;
  try {
    return new RegExp(source, "i");
  } catch (e) {
    throw new ConformanceUsageError(`${flag}: not a valid regular expression: ${(e as Error).message}`);
  }
}

/** The cases a profile runs, narrowed by focus and skip. */
export function selectCases(profile: Profile, focus?: string, skip?: string): ConformanceCase[] {
  const f = pattern(focus, "--focus");
  const s = pattern(skip, "--skip");
  return ALL_CASES.filter((c) => {
    if (!profileIncludes(profile, c.profile)) return false;
    const hit = (re: RegExp) => re.test(c.id) || re.test(c.group) || re.test(c.name);
    if (f && !hit(f)) return false;
    if (s && hit(s)) return false;
    return true;
  });
}

function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(path.resolve(file), "utf8");
  } catch (e) {
    throw new ConformanceUsageError(
      `cannot read the admin token file ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  const token = text.replace(/^\uFEFF/, "").trim();
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new ConformanceUsageError(
      `the admin token file ${file} does not hold a token (one line, no spaces)`,
    );
  }
  return token;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(`${what} did not finish within ${ms} ms`)), ms);
    onAbort = () => reject(new CheckFailed(`${what} was interrupted`));
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([p, t]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  });
}

async function engineInfo(ctx: SuiteContext): Promise<EngineInfo> {
  try {
    const j = (await ctx.api.call("GET", "/metadata", { timeoutMs: 10_000 })).json as Json;
    return {
      name: typeof j?.name === "string" ? j.name : null,
      version: typeof j?.version === "string" ? j.version : null,
      apiVersion: Number.isInteger(j?.apiVersion) ? j.apiVersion : null,
      runnerProtocolVersion: Number.isInteger(j?.runnerProtocolVersion) ? j.runnerProtocolVersion : null,
    };
  } catch {
    return { name: null, version: null, apiVersion: null, runnerProtocolVersion: null };
  }
}

async function runCase(
  c: ConformanceCase,
  ctx: SuiteContext,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<CaseResult> {
  const warnings: string[] = [];
  const tools: CaseTools = { warn: (m) => warnings.push(m) };
  const started = performance.now();
  const result: CaseResult = { id: c.id, group: c.group, name: c.name, status: "passed", durationMs: 0 };
  try {
    await withTimeout(c.run(ctx, tools), timeoutMs, c.id, signal);
  } catch (e) {
    if (e instanceof NotApplicable) {
      result.status = "not-applicable";
      result.reason = e.message;
    } else {
      result.status = "failed";
      result.reason = e instanceof Error ? e.message : String(e);
      if (e instanceof CheckFailed && e.details) result.details = e.details;
      else if (!(e instanceof CheckFailed) && e instanceof Error && e.stack) {
        result.details = e.stack.split("\n").slice(1, 6).join("\n");
      }
    }
  }
  result.durationMs = Math.round(performance.now() - started);
  if (warnings.length > 0) result.warnings = warnings;
  return result;
}

/** Replaces every secret the run knew of with `[redacted]`. */
function redact(text: string, ctx: SuiteContext | undefined, extra: (string | undefined)[] = []): string {
  let out = text;
  const values = [...(ctx?.scanner.values().map((v) => v.value) ?? []), ...extra].filter(
    (v): v is string => typeof v === "string" && v.length >= 8,
  );
  for (const v of values) out = out.split(v).join("[redacted]");
  return out;
}

export async function runConformance(options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const profile = options.profile ?? "core";
  if (!PROFILES.includes(profile)) {
    throw new ConformanceUsageError(`unknown profile "${String(profile)}" (one of ${PROFILES.join(", ")})`);
  }
  const selected = selectCases(profile, options.focus, options.skip);
  if (selected.length === 0) {
    throw new ConformanceUsageError(`no case of the ${profile} profile matches --focus/--skip`);
  }
  const write = (text: string) => options.out?.write(`${text}\n`);
  const startedAt = new Date();
  const t0 = performance.now();

  if (options.adminToken !== undefined && options.adminTokenFile !== undefined) {
    throw new ConformanceUsageError(
      "the admin token is given twice (adminToken and adminTokenFile); give it once",
    );
  }
  const adminToken =
    options.adminTokenFile !== undefined ? readToken(options.adminTokenFile) : options.adminToken;
  if (options.endpoint === undefined && options.restartHook !== undefined) {
    throw new ConformanceUsageError(
      "--restart-hook is for a remote --endpoint; a local engine is restarted by the suite",
    );
  }
  if (options.endpoint === undefined && adminToken !== undefined) {
    throw new ConformanceUsageError(
      "an admin token is only for a remote --endpoint; a local engine gets its own",
    );
  }

  let local: LocalEngine | undefined;
  let ctx: SuiteContext | undefined;
  let target: TargetInfo;
  const results: CaseResult[] = [];
  let engine: EngineInfo = { name: null, version: null, apiVersion: null, runnerProtocolVersion: null };
  try {
    try {
      if (options.endpoint !== undefined) {
        let ep: ReturnType<typeof parseEndpoint>;
        try {
          ep = parseEndpoint({ endpoint: options.endpoint });
        } catch (e) {
          throw new ConformanceUsageError(`--endpoint: ${(e as Error).message}`);
        }
        ctx = new SuiteContext({
          baseUrl: ep.baseUrl,
          namespace: ep.namespace,
          profile,
          endpointToken: ep.token,
          adminToken,
          isolation: "none",
          restartHook: options.restartHook,
        });
      } else {
        const wanted = options.isolation ?? "auto";
        const inNs = inLoopbackOnlyNamespace();
        if (wanted === "netns" && !inNs) {
          throw new ConformanceUsageError(
            "isolation netns: this process is not in a loopback-only network namespace",
          );
        }
        const isolation = wanted === "auto" ? (inNs ? "netns" : "enforce") : wanted;
        const enforce = isolation === "enforce" || profile === "airgap";
        write(
          `starting a local engine (${isolation === "netns" ? "in a loopback-only network namespace" : "with airgap.enforce"})...`,
        );
        local = await LocalEngine.start({ enforce, otelCanary: enforce });
        ctx = new SuiteContext({ baseUrl: local.url, namespace: "default", profile, local, isolation });
        if (local.options.otelCanary) {
          // The OTel canary may only ever run against confirmed enforcement: check it before
          // anything can make a span (nothing has run an action yet; the runner is not up).
          const eg = await ctx.egress().catch(() => undefined);
          if (!eg?.enforcing) {
            await local.kill9();
            throw new Error(
              "the local engine does not report airgap enforcement (GET /admin/egress: enforcing is not true); " +
                "stopped it before anything could make it attempt a connection",
            );
          }
        }
      }
      await ctx.classifyCredentials().catch(() => undefined);
      engine = await engineInfo(ctx);
      target = {
        kind: local ? "local" : "remote",
        url: ctx.baseUrl,
        namespace: ctx.namespace,
        isolation: ctx.isolation,
        runner: "none",
        restarts: ctx.restartKind,
      };
      write(
        `enclave conformance ${VERSION}: profile ${profile}, ${selected.length} cases, ${target.kind} engine ` +
          `${engine.name ?? "?"} ${engine.version ?? "?"} (api ${engine.apiVersion ?? "?"}) at ${target.url}` +
          (local ? ` [${target.isolation === "netns" ? "network namespace" : "airgap.enforce"}]` : ""),
      );
      if (profile !== "smoke" && engine.version === null) {
        ctx.runnerProblem = "the engine did not answer GET /metadata";
        write(`no conformance runner: ${ctx.runnerProblem}`);
      } else if (profile !== "smoke") {
        await ctx.startRunner();
        target.runner = ctx.runner ? "suite" : "none";
        if (!ctx.runner) write(`no conformance runner: ${ctx.runnerProblem}`);
      }
    } catch (e) {
      if (e instanceof ConformanceUsageError) throw e;
      const message = e instanceof Error ? e.message : String(e);
      results.push({
        id: "setup",
        group: "smoke",
        name: options.endpoint ? "reach the engine" : "start a local engine",
        status: "failed",
        durationMs: Math.round(performance.now() - t0),
        reason: redact(message, ctx, [adminToken]),
      });
      write(progressLine(results[0]!));
      target = {
        kind: options.endpoint ? "remote" : "local",
        url: ctx?.baseUrl ?? "",
        namespace: ctx?.namespace ?? "default",
        isolation: ctx?.isolation ?? "none",
        runner: "none",
        restarts: "none",
      };
      return await finish();
    }

    for (const c of selected) {
      if (options.signal?.aborted) {
        write("interrupted: the remaining cases do not run");
        break;
      }
      const r = await runCase(c, ctx, options.caseTimeoutMs ?? c.timeoutMs ?? 120_000, options.signal);
      if (r.reason) r.reason = redact(r.reason, ctx);
      if (r.details) r.details = redact(r.details, ctx);
      results.push(r);
      write(progressLine(r));
    }
    return await finish();
  } finally {
    await ctx?.cleanup().catch(() => undefined);
    await local?.dispose().catch(() => undefined);
  }

  async function finish(): Promise<ConformanceReport> {
    const summary = {
      total: results.length,
      passed: results.filter((r) => r.status === "passed").length,
      failed: results.filter((r) => r.status === "failed").length,
      notApplicable: results.filter((r) => r.status === "not-applicable").length,
      warnings: results.reduce((n, r) => n + (r.warnings?.length ?? 0), 0),
    };
    const report: ConformanceReport = {
      tool: "enclave conformance",
      suiteVersion: VERSION,
      engine,
      profile,
      target,
      focus: options.focus ?? null,
      skip: options.skip ?? null,
      startedAt: startedAt.toISOString(),
      durationMs: Math.round(performance.now() - t0),
      summary,
      ok: summary.failed === 0 && !options.signal?.aborted,
      cases: results,
    };
    write(
      `${summary.passed} passed, ${summary.failed} failed, ${summary.notApplicable} not applicable` +
        `${summary.warnings ? `, ${summary.warnings} warning(s)` : ""} (${(report.durationMs / 1000).toFixed(1)} s): ` +
        (report.ok ? "PASS" : "FAIL"),
    );
    if (options.reportDir !== undefined) {
      const extra: Record<string, string> = {};
      if (local) extra["engine.log"] = redact(local.output(), ctx, [local.adminToken]);
      if (ctx && ctx.runnerLog.length > 0) extra["runner.log"] = redact(ctx.runnerLog.join(""), ctx);
      const files = await writeReports(options.reportDir, report, extra);
      write(`reports: ${files.join(", ")}`);
    }
    return report;
  }
}
