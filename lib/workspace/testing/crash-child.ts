/**
 * A child process for the workspace kill -9 test (`node --import tsx crash-child.ts <dir>`).
 * Starts an engine on <dir>, prints `id <actorId>`, then writes files in /home/user from 8
 * concurrent workers forever, printing `ack <n>` once the writeFile action for file n resolved.
 * The parent kills it with SIGKILL mid-stream.
 */
import { createEngine } from "../../create-engine.js";
import { setup } from "../../setup.js";
import { workspace } from "../index.js";

const dir = process.argv[2];
if (dir === undefined) throw new Error("usage: crash-child.ts <dir>");

const running = await createEngine({
  registry: setup({ use: { vm: workspace() } }),
  storage: { fileSystem: { path: dir } },
  gateway: { host: "127.0.0.1", port: 0 },
  auth: { adminToken: "a".repeat(32) },
  log: { level: "silent" },
  env: {},
});
const { engine } = running;
const { record } = await engine.getOrCreate("default", "vm", "victim", undefined, "getOrCreate");
const id = record.actorId;
await engine.action("default", id, "mkdir", ["/home/user/out"]);
process.stdout.write(`id ${id}\n`);

let next = 0;
const worker = async () => {
  for (;;) {
    const n = next++;
    if (n % 2 === 0) {
      await engine.action("default", id, "writeFile", [`/home/user/out/f${n}`, `content ${n}\n`]);
    } else {
      // Through a WASI process: the exec's writes are durable when exec returns too.
      await engine.action("default", id, "exec", [`echo content ${n} > /home/user/out/f${n}`]);
    }
    process.stdout.write(`ack ${n}\n`);
  }
};
await Promise.all(Array.from({ length: 8 }, worker));
