/** `enclave namespace create|list`, through a running engine's admin API (`/namespaces`). */
import type { Command } from "commander";
import { CliError, formatTable, formatTime, line, printJson, type CliIo } from "../io.js";
import { addRemoteOptions, resolveRemote, type RemoteOptions } from "../remote.js";

export interface NamespaceInfo {
  name: string;
  displayName?: string | null;
  createdAt?: number;
}

export function registerNamespace(program: Command, io: CliIo): void {
  const ns = program.command("namespace").description("create and list namespaces (on a running engine)");

  addRemoteOptions(
    ns
      .command("create")
      .description("create a namespace")
      .argument("<name>", "lower-case letters, digits and -, starting with a letter or digit")
      .option("--display-name <text>", "a human-readable name")
      .option("--json", "print JSON: { namespace }"),
  ).action(async (name: string, options: RemoteOptions & { displayName?: string; json?: boolean }) => {
    const remote = resolveRemote(options, io);
    const body: Record<string, unknown> = { name };
    if (options.displayName !== undefined) body.displayName = options.displayName;
    const res = (await remote.call("POST", "/namespaces", { body })) as { namespace?: NamespaceInfo };
    if (options.json) {
      printJson(io.stdout, res);
      return;
    }
    const created = res?.namespace ?? { name };
    const display = created.displayName ? ` (display name "${created.displayName}")` : "";
    line(io.stdout, `Created namespace "${created.name}"${display}.`);
  });

  addRemoteOptions(
    ns.command("list").description("list namespaces").option("--json", "print JSON: { namespaces }"),
  ).action(async (options: RemoteOptions & { json?: boolean }) => {
    const remote = resolveRemote(options, io);
    const res = (await remote.call("GET", "/namespaces")) as { namespaces?: unknown };
    if (!res || !Array.isArray(res.namespaces)) {
      throw new CliError(`the engine at ${remote.baseUrl} answered GET /namespaces without a namespace list`);
    }
    if (options.json) {
      printJson(io.stdout, res);
      return;
    }
    const list = res.namespaces as NamespaceInfo[];
    io.stdout.write(
      formatTable(
        ["NAME", "DISPLAY NAME", "CREATED"],
        list.map((n) => [String(n.name), n.displayName ?? "", formatTime(n.createdAt)]),
      ),
    );
  });
}
