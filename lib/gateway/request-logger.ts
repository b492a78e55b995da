/**
 * The per-request logger fastify gives every request (`req.log`, carrying the request id), built
 * only when something logs through it. Fastify builds a pino child for every request; with the
 * engine's redaction rules that is several percent of the CPU time of a durable action, and
 * nothing logs per request unless it fails (request logging is off). Messages logged through it
 * are exactly those of the eager child: same bindings, same options, same level.
 */
import type { FastifyBaseLogger } from "fastify";
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString, LogFn } from "pino";

type LogArgs = Parameters<LogFn>;

/** Prototype methods only: a request that logs nothing costs one small object. */
class LazyRequestLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  get #log(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  get level(): LevelWithSilentOrString {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level;
  }
  set level(level: LevelWithSilentOrString) {
    this.#log.level = level;
  }

  fatal(...args: LogArgs): void {
    this.#log.fatal(...args);
  }
  error(...args: LogArgs): void {
    this.#log.error(...args);
  }
  warn(...args: LogArgs): void {
    this.#log.warn(...args);
  }
  info(...args: LogArgs): void {
    this.#log.info(...args);
  }
  debug(...args: LogArgs): void {
    this.#log.debug(...args);
  }
  trace(...args: LogArgs): void {
    this.#log.trace(...args);
  }
  silent(...args: LogArgs): void {
    this.#log.silent(...args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#log.child(bindings, options);
  }
}

export function lazyRequestLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}
