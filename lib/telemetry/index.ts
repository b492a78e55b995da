export { createLogger, REDACT_PATHS, type LoggerOptions } from "./logger.js";
