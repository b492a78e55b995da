/**
 * `enclave token create|list|revoke`: namespace tokens, through a running engine's admin API
 * (`POST /tokens`, `GET /tokens?namespace=`, `DELETE /tokens/{id}`). The secret of a new
 * token is printed exactly once, by `create`; nothing else ever prints a secret.
 */
import { Option, type Command } from "commander";
import { CliError, UsageError, formatTable, formatTime, line, printJson, type CliIo } from "../io.js";
import { parseTime } from "../options.js";
import { addRemoteOptions, resolveRemote, type Remote, type RemoteOptions } from "../remote.js";

export interface TokenInfo {
  id: string;
  namespace: string;
  kind: string;
  name?: string | null;
  createdAt?: number;
  expiresAt?: number | null;
  revokedAt?: number | null;
}

/** active, revoked or expired (at `now`). */
export function tokenStatus(t: TokenInfo, now: number = Date.now()): string {
  if (typeof t.revokedAt === "number") return "revoked";
  if (typeof t.expiresAt === "number" && t.expiresAt <= now) return "expired";
  return "active";
}

interface CreateOptions extends RemoteOptions {
  namespace?: string;
  kind: "secret" | "public";
  name?: string;
  expiresAt?: number;
  json?: boolean;
}

interface ListOptions extends RemoteOptions {
  namespace?: string;
  json?: boolean;
}

/** The namespace a token command acts on: `--namespace`, else the one in the endpoint URL. */
export function namespaceFor(option: string | undefined, remote: Remote): string | undefined {
  if (option !== undefined && remote.urlNamespace !== undefined && option !== remote.urlNamespace) {
    throw new UsageError(
      `the namespace is given twice with different values (--namespace ${option}, and ${remote.urlNamespace} in the endpoint URL); give it once`,
    );
  }
  return option ?? remote.urlNamespace;
}

export function registerToken(program: Command, io: CliIo): void {
  const token = program
    .command("token")
    .description("create, list and revoke namespace tokens (on a running engine)");

  addRemoteOptions(
    token
      .command("create")
      .description("create a namespace token; prints its secret once")
      .option("--namespace <ns>", "the token's namespace (default: the namespace in the endpoint URL)")
      .addOption(
        new Option("--kind <kind>", "secret (backends, runners) or public (browser clients)")
          .choices(["secret", "public"])
          .makeOptionMandatory(),
      )
      .option("--name <name>", "a label for the token")
      .option("--expires-at <time>", "expiry: ISO-8601 time or epoch milliseconds (default: never)", (v) =>
        parseTime(v),
      )
      .option("--json", "print JSON: { token, secret }"),
  ).action(async (options: CreateOptions) => {
    const remote = resolveRemote(options, io);
    const namespace = namespaceFor(options.namespace, remote);
    if (namespace === undefined) {
      throw new UsageError("--namespace is required (or name the namespace in the endpoint URL)");
    }
    const body: Record<string, unknown> = { namespace, kind: options.kind };
    if (options.name !== undefined) body.name = options.name;
    if (options.expiresAt !== undefined) body.expiresAt = options.expiresAt;
    const res = (await remote.call("POST", "/tokens", { body })) as { token?: TokenInfo; secret?: unknown };
    if (!res || typeof res.secret !== "string" || !res.token || typeof res.token.id !== "string") {
      throw new CliError(
        `the engine at ${remote.baseUrl} answered POST /tokens without a token and its secret`,
      );
    }
    if (options.json) {
      printJson(io.stdout, res);
      line(
        io.stderr,
        "enclave: the secret is shown only this once; it will not be shown again. Store it now.",
      );
      return;
    }
    const t = res.token;
    line(io.stdout, `Created a ${t.kind} token in namespace "${t.namespace}".`);
    line(io.stdout, `  id:       ${t.id}`);
    line(io.stdout, `  name:     ${t.name ?? "-"}`);
    line(io.stdout, `  created:  ${formatTime(t.createdAt)}`);
    line(io.stdout, `  expires:  ${formatTime(t.expiresAt, "never")}`);
    line(io.stdout);
    line(io.stdout, "Secret (shown only this once; it will not be shown again, store it now):");
    line(io.stdout, `  ${res.secret}`);
  });

  addRemoteOptions(
    token
      .command("list")
      .description("list namespace tokens (never their secrets)")
      .option("--namespace <ns>", "only this namespace's tokens")
      .option("--json", "print JSON: { tokens }"),
  ).action(async (options: ListOptions) => {
    const remote = resolveRemote(options, io);
    const namespace = namespaceFor(options.namespace, remote);
    const res = (await remote.call("GET", "/tokens", { query: { namespace } })) as { tokens?: unknown };
    if (!res || !Array.isArray(res.tokens)) {
      throw new CliError(`the engine at ${remote.baseUrl} answered GET /tokens without a token list`);
    }
    const tokens = res.tokens as TokenInfo[];
    if (options.json) {
      printJson(io.stdout, { tokens: tokens.map(withoutSecret) });
      return;
    }
    io.stdout.write(
      formatTable(
        ["ID", "NAMESPACE", "KIND", "NAME", "STATUS", "CREATED", "EXPIRES"],
        tokens.map((t) => [
          String(t.id),
          String(t.namespace),
          String(t.kind),
          t.name ?? "",
          tokenStatus(t),
          formatTime(t.createdAt),
          formatTime(t.expiresAt, "never"),
        ]),
      ),
    );
  });

  addRemoteOptions(
    token
      .command("revoke")
      .description("revoke a namespace token at once")
      .argument("<id>", "the token's id, from token list (one that starts with - goes after --)")
      .option("--json", "print JSON: { id, revoked: true }"),
  ).action(async (id: string, options: RemoteOptions & { json?: boolean }) => {
    const remote = resolveRemote(options, io);
    await remote.call("DELETE", `/tokens/${encodeURIComponent(id)}`);
    if (options.json) printJson(io.stdout, { id, revoked: true });
    else line(io.stdout, `Revoked token ${id}.`);
  });
}

/** Defence in depth: a list is never printed with a secret, whatever the engine sends. */
function withoutSecret(t: TokenInfo): TokenInfo {
  const copy = { ...(t as unknown as Record<string, unknown>) };
  delete copy.secret;
  delete copy.token;
  delete copy.hash;
  return copy as unknown as TokenInfo;
}
