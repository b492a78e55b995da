/**
 * The one error configuration loading throws for user mistakes (a bad file, an unknown key, a
 * wrong type, an unreadable secret file). Its message is meant to be printed as is, without a
 * stack; the CLI exits with code 2 on it.
 */

export interface ConfigIssue {
  /**
   * Where in the configuration: a JSON pointer (`/gateway/port`) for problems found in a file,
   * a dotted path (`gateway.port`) otherwise; empty when the problem is not about one key
   * (a file that cannot be read or parsed).
   */
  path: string;
  /** A complete, human sentence, e.g. `/gateway/port must be <= 65535`. Never holds a secret. */
  message: string;
  /**
   * What supplied the bad value: `config file /etc/enclave/a.yaml`,
   * `environment variable ENCLAVE__GATEWAY__PORT`, `options`, or `configuration`.
   */
  source?: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  /** The process exit code the CLI uses for an invalid configuration. */
  readonly exitCode = 2;

  constructor(issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join("\n") || "invalid configuration");
    this.name = "ConfigError";
    this.issues = issues;
  }
}

export function formatIssue(issue: ConfigIssue): string {
  return issue.source ? `${issue.source}: ${issue.message}` : issue.message;
}

export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof ConfigError;
}
