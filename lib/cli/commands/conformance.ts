/**
 * `enclave conformance`: the conformance suite (lib/conformance) against `--endpoint`, or
 * against a local engine it spawns. As root on Linux the local run happens inside a fresh
 * loopback-only network namespace: the command re-runs itself under `unshare --net` (with `lo`
 * up), so the suite, its runner and the engine it spawns have no route out; elsewhere the
 * engine runs with `airgap.enforce`. Every flag has an ENCLAVE_CONFORMANCE_* variable; flags win.
 * Exit 0 only when every applicable case passed; 1 when one failed; 2 for usage errors.
 */
import path from "node:path";
import { Option, type Command } from "commander";
import {
  ConformanceUsageError,
  NETNS_MARKER_ENV,
  PROFILES,
  netnsSupport,
  runConformance,
  spawnInNamespace,
  type Profile,
} from "../../conformance/index.js";
import { SignalWatch } from "../../shutdown.js";
import { CliError, EXIT_FAILURE, EXIT_OK, UsageError, line, type CliIo } from "../io.js";

type Isolation = "auto" | "netns" | "enforce";

export interface ConformanceFlags {
  endpoint?: string;
  adminTokenFile?: string;
  profile?: string;
  focus?: string;
  skip?: string;
  reportDir?: string;
  restartHook?: string;
  isolation?: string;
}

/** Each flag and its environment variable. */
export const CONFORMANCE_ENV: Record<keyof ConformanceFlags, string> = {
  endpoint: "ENCLAVE_CONFORMANCE_ENDPOINT",
  adminTokenFile: "ENCLAVE_CONFORMANCE_ADMIN_TOKEN_FILE",
  profile: "ENCLAVE_CONFORMANCE_PROFILE",
  focus: "ENCLAVE_CONFORMANCE_FOCUS",
  skip: "ENCLAVE_CONFORMANCE_SKIP",
  reportDir: "ENCLAVE_CONFORMANCE_REPORT_DIR",
  restartHook: "ENCLAVE_CONFORMANCE_RESTART_HOOK",
  isolation: "ENCLAVE_CONFORMANCE_ISOLATION",
};

const ISOLATIONS: readonly Isolation[] = ["auto", "netns", "enforce"];

export function registerConformance(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command("conformance")
    .description("run the conformance suite against a deployment, or a local engine it starts")
    .option(
      "--endpoint <url>",
      `the deployment, http://NAMESPACE:TOKEN@host:port (default: spawn a local engine) [${CONFORMANCE_ENV.endpoint}]`,
    )
    .option(
      "--admin-token-file <file>",
      `file holding the admin token, if the endpoint's token is not it [${CONFORMANCE_ENV.adminTokenFile}]`,
    )
    .addOption(
      new Option("--profile <profile>", `what to run (default core) [${CONFORMANCE_ENV.profile}]`).choices([
        ...PROFILES,
      ]),
    )
    .option(
      "--focus <pattern>",
      `only cases whose id, group or name match (regular expression) [${CONFORMANCE_ENV.focus}]`,
    )
    .option("--skip <pattern>", `leave out cases that match (regular expression) [${CONFORMANCE_ENV.skip}]`)
    .option(
      "--report-dir <dir>",
      `write conformance-report.json and conformance-junit.xml here [${CONFORMANCE_ENV.reportDir}]`,
    )
    .option(
      "--restart-hook <command>",
      `shell command that restarts a remote engine (ENCLAVE_CONFORMANCE_RESTART=graceful|kill) [${CONFORMANCE_ENV.restartHook}]`,
    )
    .addOption(
      new Option(
        "--isolation <mode>",
        `local engine: netns (network namespace; root on Linux), enforce (airgap.enforce) or auto [${CONFORMANCE_ENV.isolation}]`,
      ).choices([...ISOLATIONS]),
    )
    .addHelpText(
      "after",
      [
        "",
        "Profiles: smoke (health, metadata, one authenticated call, 401 without a token);",
        "core (smoke + no-outbound, tokens, persistence); airgap (core + enforcement);",
        "disruptive (core + kill -9 of the engine: a local engine or --restart-hook).",
        "Progress: one line per case (✓ passed, ✗ failed, – not applicable).",
        "Exit 0 only when every applicable case passed, 1 when one failed, 2 on bad usage.",
      ].join("\n"),
    )
    .action(async (flags: ConformanceFlags) => done(await conformance(flags, io)));
}

/** Flags, else their ENCLAVE_CONFORMANCE_* variables; paths made absolute. */
export function resolveFlags(flags: ConformanceFlags, env: CliIo["env"]): ConformanceFlags {
  const out: ConformanceFlags = {};
  for (const key of Object.keys(CONFORMANCE_ENV) as (keyof ConformanceFlags)[]) {
    const fromEnv = env[CONFORMANCE_ENV[key]];
    const value = flags[key] ?? (fromEnv !== undefined && fromEnv.trim() !== "" ? fromEnv : undefined);
    if (value !== undefined) out[key] = value;
  }
  if (out.profile !== undefined && !PROFILES.includes(out.profile as Profile)) {
    throw new UsageError(
      `${CONFORMANCE_ENV.profile}: unknown profile "${out.profile}" (one of ${PROFILES.join(", ")})`,
    );
  }
  if (out.isolation !== undefined && !ISOLATIONS.includes(out.isolation as Isolation)) {
    throw new UsageError(
      `${CONFORMANCE_ENV.isolation}: "${out.isolation}" is not one of ${ISOLATIONS.join(", ")}`,
    );
  }
  if (out.reportDir !== undefined) out.reportDir = path.resolve(out.reportDir);
  if (out.adminTokenFile !== undefined) out.adminTokenFile = path.resolve(out.adminTokenFile);
  if (out.endpoint === undefined && out.restartHook !== undefined) {
    throw new UsageError(
      "--restart-hook restarts a remote engine; give --endpoint too (a local engine is restarted by the suite)",
    );
  }
  if (out.endpoint === undefined && out.adminTokenFile !== undefined) {
    throw new UsageError("--admin-token-file is for a remote --endpoint; a local engine gets its own token");
  }
  return out;
}

function toArgs(f: ConformanceFlags): string[] {
  const args = ["conformance"];
  const add = (flag: string, v: string | undefined) => v !== undefined && args.push(flag, v);
  add("--profile", f.profile);
  add("--focus", f.focus);
  add("--skip", f.skip);
  add("--report-dir", f.reportDir);
  args.push("--isolation", "netns");
  return args;
}

export async function conformance(raw: ConformanceFlags, io: CliIo): Promise<number> {
  const flags = resolveFlags(raw, io.env);
  const isolation = (flags.isolation ?? "auto") as Isolation;
  const inside = io.env[NETNS_MARKER_ENV] === "1";

  if (flags.endpoint === undefined && isolation !== "enforce" && !inside) {
    const support = netnsSupport();
    if (support.ok) return runInNamespace(flags, io);
    if (isolation === "netns")
      throw new UsageError(`--isolation netns: cannot create a network namespace: ${support.reason}`);
    line(
      io.stderr,
      `enclave: no network namespace (${support.reason}): the local engine runs with airgap.enforce instead`,
    );
  }

  const watch = new SignalWatch(io.signals ?? process);
  const abort = new AbortController();
  void watch.first.then(() => abort.abort());
  try {
    const report = await runConformance({
      ...(flags.endpoint !== undefined ? { endpoint: flags.endpoint } : {}),
      ...(flags.adminTokenFile !== undefined ? { adminTokenFile: flags.adminTokenFile } : {}),
      profile: (flags.profile ?? "core") as Profile,
      ...(flags.focus !== undefined ? { focus: flags.focus } : {}),
      ...(flags.skip !== undefined ? { skip: flags.skip } : {}),
      ...(flags.reportDir !== undefined ? { reportDir: flags.reportDir } : {}),
      ...(flags.restartHook !== undefined ? { restartHook: flags.restartHook } : {}),
      ...(flags.endpoint === undefined ? { isolation: inside ? "netns" : isolation } : {}),
      out: io.stdout,
      signal: abort.signal,
    });
    return report.ok ? EXIT_OK : EXIT_FAILURE;
  } catch (e) {
    if (e instanceof ConformanceUsageError) throw new UsageError(e.message);
    throw new CliError(`conformance: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    watch.dispose();
  }
}

/** Re-runs this command inside a fresh loopback-only network namespace; returns its exit code. */
async function runInNamespace(flags: ConformanceFlags, io: CliIo): Promise<number> {
  line(io.stderr, "enclave: running the suite and its local engine in a loopback-only network namespace");
  const child = spawnInNamespace(toArgs(flags), {});
  child.stdout?.setEncoding("utf8").on("data", (s: string) => io.stdout.write(s));
  child.stderr?.setEncoding("utf8").on("data", (s: string) => io.stderr.write(s));
  const watch = new SignalWatch(io.signals ?? process);
  void watch.first.then((sig) => child.kill(sig));
  void watch.second.then(() => child.kill("SIGKILL"));
  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        child.once("error", reject);
        child.once("close", (c, s) => resolve({ code: c, signal: s }));
      },
    );
    if (code === null) throw new CliError(`the suite in the network namespace was killed (${signal ?? "?"})`);
    return code;
  } finally {
    watch.dispose();
  }
}
