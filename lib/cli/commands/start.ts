/**
 * `enclave start`: the engine standalone (no actor types of its own; apps join as runners),
 * until SIGTERM/SIGINT. Human-readable lines go to stderr (one of them is always
 * `enclave listening on http://HOST:PORT`); the JSON log goes to stdout.
 */
import path from "node:path";
import type { Command } from "commander";
import type { Logger } from "pino";
import { loadConfig, type EngineConfigInput, type LoadedConfig } from "../../config/index.js";
import { createEngine, type EnclaveEngine } from "../../create-engine.js";
import { EnclaveError } from "../../errors.js";
import { createLogger } from "../../telemetry/index.js";
import { VERSION } from "../../version.js";
import { CliError, EXIT_FAILURE, EXIT_OK, line, type CliIo } from "../io.js";
import { collect, configError, parsePort } from "../options.js";
import { SignalWatch, shutdown } from "../../shutdown.js";

export interface StartOptions {
  config?: string[];
  dev?: boolean;
  port?: number;
  host?: string;
  data?: string;
}

export function registerStart(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command("start")
    .description("run the engine standalone until SIGTERM or SIGINT")
    .option(
      "--config <path>",
      "a config file or directory (repeatable; default $ENCLAVE_CONFIG_PATH, else /etc/enclave/)",
      collect,
    )
    .option("--dev", "development mode: the fixed, publicly known admin token (never in production)")
    .option("--port <n>", "gateway.port (0 picks a free port)", parsePort)
    .option("--host <host>", "gateway.host, the address to listen on")
    .option("--data <dir>", "storage.fileSystem.path, the data directory")
    .addHelpText(
      "after",
      [
        "",
        "Flags win over ENCLAVE__* variables, which win over files. On first start",
        "without a configured token the engine writes a strong admin token to",
        "DATA_DIR/admin-token (mode 0600); its path is printed, the token never is.",
        "SIGTERM/SIGINT: drain requests, put actors to sleep, close the store and",
        "exit 0 within shutdown.timeoutMs; a second signal or the deadline exits at",
        "once with code 1.",
      ].join("\n"),
    )
    .action(async (options: StartOptions) => done(await start(options, io)));
}

export function overridesFrom(options: StartOptions): EngineConfigInput {
  const overrides: EngineConfigInput = {};
  if (options.data !== undefined) overrides.storage = { fileSystem: { path: options.data } };
  if (options.port !== undefined || options.host !== undefined) {
    overrides.gateway = {};
    if (options.port !== undefined) overrides.gateway.port = options.port;
    if (options.host !== undefined) overrides.gateway.host = options.host;
  }
  if (options.dev) overrides.dev = true;
  return overrides;
}

export async function start(options: StartOptions, io: CliIo): Promise<number> {
  const say = (text: string) => line(io.stderr, `enclave: ${text}`);
  const overrides = overridesFrom(options);
  const loadOptions = { configPaths: options.config ?? [], env: io.env, overrides };

  // Validate first: every problem, exit 2, before anything touches the disk.
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(loadOptions);
  } catch (e) {
    throw configError(e);
  }
  const { config } = loaded;

  const watch = new SignalWatch(io.signals ?? process);
  try {
    const logger: Logger | undefined =
      io.stdout === process.stdout
        ? undefined
        : createLogger({ level: config.log.level, destination: io.stdout as NodeJS.WritableStream });

    // Starting cannot be interrupted half-way; a signal during startup stops right after it.
    const starting = startEngine(loadOptions, logger);
    starting.catch(() => undefined); // handled below, unless a second signal has won already
    const first = await Promise.race([
      starting.then((running) => ({ running })),
      watch.second.then(() => ({ running: undefined })),
    ]);
    if (!first.running) {
      say("second signal during startup: exiting now");
      return EXIT_FAILURE;
    }
    const running = first.running;

    line(io.stderr, `enclave ${VERSION}`);
    if (config.storage.driver === "memory") {
      say("store: memory (nothing is kept after the engine stops)");
    } else {
      say(`data directory: ${path.resolve(config.storage.fileSystem.path)}`);
    }
    say(adminTokenLine(running, loaded));
    const { host } = config.gateway;
    const bound = host === "0.0.0.0" || host === "::" ? ` (all interfaces, ${host})` : "";
    line(io.stderr, `enclave listening on ${running.url}${bound}`);

    const signal = await watch.first;
    const timeoutMs = config.shutdown.timeoutMs;
    say(
      `${signal}: shutting down (draining requests, putting actors to sleep, closing the store; ` +
        `deadline ${timeoutMs} ms). Send it again to exit at once.`,
    );
    const result = await shutdown(() => running.close(), watch, timeoutMs);
    switch (result.outcome) {
      case "closed":
        say("stopped");
        return EXIT_OK;
      case "second-signal":
        say("second signal: exiting now, without waiting for the shutdown to finish");
        return EXIT_FAILURE;
      case "deadline":
        say(`the shutdown deadline (shutdown.timeoutMs = ${timeoutMs} ms) passed: exiting now`);
        return EXIT_FAILURE;
      default:
        say(`shutdown failed: ${describe(result.error)}`);
        return EXIT_FAILURE;
    }
  } finally {
    watch.dispose();
  }
}

async function startEngine(
  loadOptions: { configPaths: string[]; env: CliIo["env"]; overrides: EngineConfigInput },
  logger: Logger | undefined,
): Promise<EnclaveEngine> {
  let running: EnclaveEngine;
  try {
    running = await createEngine({
      ...loadOptions.overrides,
      configPaths: loadOptions.configPaths,
      env: loadOptions.env,
      ...(logger ? { logger } : {}),
    });
  } catch (e) {
    throw startupError(e);
  }
  try {
    await running.listen();
  } catch (e) {
    await running.close().catch(() => undefined);
    const { host, port } = running.config.gateway;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new CliError(`cannot listen on ${host}:${port}: the address is in use`);
    if (code === "EACCES") throw new CliError(`cannot listen on ${host}:${port}: permission denied`);
    throw new CliError(`cannot listen on ${host}:${port}: ${describe(e)}`);
  }
  return running;
}

function startupError(e: unknown): unknown {
  const converted = configError(e);
  if (converted !== e) return converted;
  if (e instanceof EnclaveError && e.group === "store" && e.code === "unavailable") {
    const dir = (e.metadata as { path?: unknown } | undefined)?.path;
    return new CliError(
      typeof dir === "string"
        ? `the data directory ${dir} is in use by another process (is an engine already running on it?)`
        : e.message,
    );
  }
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM") return new CliError(`cannot start: ${describe(e)}`);
  return e;
}

function adminTokenLine(running: EnclaveEngine, loaded: LoadedConfig): string {
  if (running.adminTokenPath) {
    return `admin token file: ${path.resolve(running.adminTokenPath)} (never printed; readable by this user only)`;
  }
  if (loaded.config.auth.adminToken !== undefined) {
    return `admin token: from ${loaded.origins["auth.adminToken"] ?? "the configuration"}`;
  }
  if (loaded.config.dev) {
    return "admin token: the fixed DEVELOPMENT token (--dev). Anyone who can reach this port has full control.";
  }
  return "admin token: generated for this process only (memory store); nothing on disk";
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
