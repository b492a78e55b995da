/**
 * Workspace drives and checks shared by the no-outbound and persistence groups: boot a
 * workspace through the engine, use its files and processes, and check what must persist.
 */
import { CONFORMANCE_WORKSPACE } from "../app.js";
import { check, expectStatus } from "../check.js";
import type { ActorRef, SuiteContext } from "../context.js";
import type { Json } from "../http.js";

const text = (bytes: Json): string =>
  typeof bytes === "object" && bytes !== null && typeof bytes.$bytes === "string"
    ? Buffer.from(bytes.$bytes as string, "base64").toString("utf8")
    : `(not bytes: ${JSON.stringify(bytes)})`;

export function createWorkspace(ctx: SuiteContext, label: string): Promise<ActorRef> {
  return ctx.createActor(label, CONFORMANCE_WORKSPACE);
}

/** Calls a workspace action; a non-200 answer fails the case with the engine's error. */
export async function ws(ctx: SuiteContext, id: string, action: string, ...args: unknown[]): Promise<Json> {
  const a = await ctx.callAction(id, action, args);
  expectStatus(a, 200, `workspace action ${action}`);
  return (a.json as Json)?.output as Json;
}

/** Reads a file of the workspace as text. */
export async function readText(ctx: SuiteContext, id: string, path: string): Promise<string> {
  return text(await ws(ctx, id, "readFile", path));
}

export interface WrittenFiles {
  ws: ActorRef;
  files: Record<string, string>;
}

/** Writes files in /home/user by the writeFile action and by a shell command, each acknowledged. */
export async function writeWorkspaceFiles(ctx: SuiteContext, label: string): Promise<WrittenFiles> {
  const w = await createWorkspace(ctx, label);
  const files: Record<string, string> = {};
  const direct = `/home/user/${label}/direct.txt`;
  files[direct] = `${label} ${ctx.runId} direct`;
  await ws(ctx, w.actorId, "writeFile", direct, files[direct], { recursive: true });
  const viaShell = `/home/user/${label}/shell.txt`;
  files[viaShell] = `${label} ${ctx.runId} shell\n`;
  const r = await ws(ctx, w.actorId, "exec", `echo '${label} ${ctx.runId} shell' > ${viaShell}`);
  check(r?.exitCode === 0, `exec wrote no file: ${JSON.stringify(r)}`);
  return { ws: w, files };
}

export async function verifyWorkspaceFiles(ctx: SuiteContext, w: WrittenFiles, after: string): Promise<void> {
  for (const [path, content] of Object.entries(w.files)) {
    const got = await readText(ctx, w.ws.actorId, path);
    check(got === content, `workspace file ${path} lost ${after}: ${JSON.stringify(got)}`);
  }
}
