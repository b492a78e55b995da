/**
 * A child process for the kill -9 test, run with `node --import tsx crash-child.ts <dir>`.
 * Starts an engine on `<dir>`, prints `id <actorId>`, then runs actions from 16 concurrent
 * workers forever, printing one line per ACKNOWLEDGED action (after its promise resolved):
 *   inc <count>            state increment acknowledged with this count
 *   put <key>              KV put of <key> = "v:<key>" acknowledged
 *   both <count> <key>     both in one action
 * The parent kills it with SIGKILL mid-stream.
 */
import { createEngine } from "../../create-engine.js";
import { setup } from "../../setup.js";
import { crashCounter } from "./crash-actors.js";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: crash-child.ts <dir>");

const running = await createEngine({
  registry: setup({ use: { crashCounter } }),
  storage: { fileSystem: { path: dir } },
  gateway: { host: "127.0.0.1", port: 0 },
  auth: { adminToken: "a".repeat(32) },
  log: { level: "silent" },
  env: {},
});
const { engine } = running;
const { record } = await engine.getOrCreate("default", "crashCounter", "victim", undefined, "getOrCreate");
const id = record.actorId;
// stdout to a pipe is synchronous on Linux: once written, the parent can read it.
process.stdout.write(`id ${id}\n`);

let next = 0;
const worker = async () => {
  for (;;) {
    const i = next++;
    const key = `key-${i}`;
    switch (i % 3) {
      case 0: {
        const count = await engine.action("default", id, "inc", []);
        process.stdout.write(`inc ${String(count)}\n`);
        break;
      }
      case 1:
        await engine.action("default", id, "put", [key, `v:${key}`]);
        process.stdout.write(`put ${key}\n`);
        break;
      default: {
        const count = await engine.action("default", id, "both", [key, `v:${key}`]);
        process.stdout.write(`both ${String(count)} ${key}\n`);
      }
    }
  }
};
await Promise.all(Array.from({ length: 16 }, worker));
