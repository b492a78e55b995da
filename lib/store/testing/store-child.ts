/**
 * A child process for the LevelStore tests, run with `node --import tsx`.
 *   write <dir> <max>: writes ["ack", i] for i < max, 64 at a time, printing each i once acknowledged.
 *   open <dir>:        tries to open the store and prints the outcome as JSON.
 */
import { packKey, prefixRange } from "../keys.js";
import { LevelStore } from "../level.js";

const [mode, dir, maxArg] = process.argv.slice(2);
if (dir === undefined) throw new Error("usage: store-child.ts write|open <dir> [max]");

if (mode === "open") {
  try {
    const store = await LevelStore.open(dir);
    await store.close();
    console.log(JSON.stringify({ ok: true }));
  } catch (error) {
    const e = error as { message?: string; code?: string; group?: string };
    console.log(JSON.stringify({ ok: false, message: e.message, code: e.code, group: e.group }));
  }
} else if (mode === "write") {
  const max = Number(maxArg ?? 100_000);
  const store = await LevelStore.open(dir);
  // A durable clear first: these keys must stay gone after the kill.
  await store.batch(
    Array.from({ length: 100 }, (_, i) => ({
      type: "put" as const,
      key: packKey(["pre", i]),
      value: new Uint8Array(8),
    })),
  );
  await store.clearRange(prefixRange(["pre"]));
  process.stdout.write("cleared\n");
  let next = 0;
  const worker = async () => {
    while (next < max) {
      const i = next++;
      await store.batch([{ type: "put", key: packKey(["ack", i]), value: packKey([i, "payload"]) }]);
      // stdout to a pipe is synchronous on Linux: once written, the parent can read it.
      process.stdout.write(`${i}\n`);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  await store.close();
  process.stdout.write("done\n");
} else {
  throw new Error(`unknown mode ${String(mode)}`);
}
