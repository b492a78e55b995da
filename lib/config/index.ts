export * from "./schema.js";
export { ConfigError, isConfigError, formatIssue, type ConfigIssue } from "./errors.js";
export { engineConfigJsonSchema, ENGINE_CONFIG_SCHEMA_ID, type JsonSchema } from "./json-schema.js";
export {
  readConfigFile,
  configPathsFrom,
  envOverrides,
  loadConfig,
  redactConfig,
  CONFIG_FILE_EXTENSIONS,
  DEFAULT_CONFIG_DIR,
  ENV_PREFIX,
  REDACTED,
  type ConfigPathsOptions,
  type Env,
  type LoadConfigOptions,
  type LoadedConfig,
} from "./load.js";
export { envVarName } from "./schema-tree.js";
