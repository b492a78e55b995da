/**
 * Workspace drives and checks shared by the no-outbound and persistence groups: boot a
 * workspace through the engine, use its files and processes, and check what must persist.
 */
import { CONFORMANCE_WORKSPACE } from "../app.js";
import { check, expectStatus, waitFor } from "../check.js";
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

/** The guest server the conformance workspace starts on every boot (`startup` in app.ts). */
export const GUEST_SERVER_PATH = "/home/user/conformance-server.js";
export const GUEST_SERVER_PORT = 3000;
const GUEST_SERVER = `require("http").createServer((req, res) => {
  res.setHeader("content-type", "text/plain");
  res.end("conformance guest " + req.method + " " + req.url + " auth=" + (req.headers.authorization ? "yes" : "no"));
}).listen(${GUEST_SERVER_PORT});`;

/** A workspace with its guest Node server answering on port 3000. */
export async function workspaceWithServer(ctx: SuiteContext, label: string): Promise<ActorRef> {
  const w = await createWorkspace(ctx, label);
  await ws(ctx, w.actorId, "writeFile", GUEST_SERVER_PATH, GUEST_SERVER);
  await ws(ctx, w.actorId, "spawn", "node", [GUEST_SERVER_PATH]);
  await waitFor(
    "the guest Node server to answer vmFetch",
    async () => {
      const a = await ctx.callAction(w.actorId, "vmFetch", [GUEST_SERVER_PORT, "/ready"]);
      return a.status === 200 ? true : undefined;
    },
    20_000,
    100,
  );
  return w;
}

export interface Preview {
  path: string;
  token: string;
  port: number;
  expiresAt: number;
}

export async function createPreview(ctx: SuiteContext, id: string, ttlSeconds?: number): Promise<Preview> {
  const args = ttlSeconds === undefined ? [GUEST_SERVER_PORT] : [GUEST_SERVER_PORT, ttlSeconds];
  return (await ws(ctx, id, "createSignedPreviewUrl", ...args)) as unknown as Preview;
}

/** GET on a preview path with no credential at all. */
export function openPreview(ctx: SuiteContext, path: string, token?: string) {
  return ctx.api.call("GET", path, token ? { token } : {});
}

export async function expectPreviewServes(ctx: SuiteContext, p: Preview, after: string): Promise<void> {
  const a = await openPreview(ctx, `${p.path}check?x=1`);
  check(
    a.status === 200 && a.text === "conformance guest GET /check?x=1 auth=no",
    `the preview URL did not reach the guest server ${after}: HTTP ${a.status} ${a.text.slice(0, 200)}`,
  );
}
