/* global process, performance, setTimeout */
// The rivetkit peer's load client: runs inside the same private network namespace as
// server.mjs (started by bench/peer.ts) and writes its figures as JSON to argv[2].
// Actors are created one at a time (concurrent creates on new keys make this engine fail some).
import { writeFileSync } from "node:fs";
import { createClient } from "rivetkit/client";

const [out, settingsJson] = process.argv.slice(2);
const s = JSON.parse(settingsJson);
const client = createClient(s.endpoint);
const progress = (m) => process.stderr.write(`[bench:peer client] ${m}\n`);

function summary(values) {
  const v = Float64Array.from(values).sort();
  const at = (q) => (v.length ? v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))] : null);
  return { count: v.length, p50: at(0.5), p99: at(0.99), max: at(1) };
}

async function timedLoop(workers, seconds, fn) {
  const lat = [];
  let ok = 0;
  let errors = 0;
  let firstError;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      let i = 0;
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await fn(w, i++);
          lat.push(performance.now() - t);
          ok++;
        } catch (e) {
          errors++;
          firstError ??= String(e?.message ?? e);
        }
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return { rate: ok / secs, ok, errors, firstError, seconds: secs, latency: summary(lat) };
}

const result = {};
// Readiness: the first create can take a while as the engine and the actor host come up.
const deadline = performance.now() + 90_000;
for (;;) {
  try {
    await client.counter.getOrCreate(["ready"]).increment(1);
    break;
  } catch (e) {
    if (performance.now() > deadline) throw e;
    await new Promise((r) => setTimeout(r, 500));
  }
}
progress("ready; creating actors one at a time");
const create = [];
const handles = [];
for (let i = 0; i < s.actors; i++) {
  const t = performance.now();
  const h = client.counter.getOrCreate([`a-${i}`]);
  await h.increment(1);
  create.push(performance.now() - t);
  handles.push(h);
}
result.create = summary(create);
const hot = handles[0];

progress(`HTTP: ${s.sequential} sequential actions`);
const seq = [];
for (let i = 0; i < s.sequential; i++) {
  const t = performance.now();
  await hot.increment(1);
  seq.push(performance.now() - t);
}
result.httpSequential = summary(seq);

progress(`HTTP: ${s.connections} concurrent callers, warm-up then ${s.seconds}s on 1 hot actor`);
await timedLoop(s.connections, s.warmup, () => hot.increment(1));
result.httpHot = await timedLoop(s.connections, s.seconds, () => hot.increment(1));
progress(`HTTP: ${s.connections} concurrent callers over ${s.actors} actors for ${s.seconds}s`);
result.httpMany = await timedLoop(s.connections, s.seconds, (w, i) =>
  handles[(w + i * s.connections) % handles.length].increment(1),
);

progress(`WebSocket: ${s.connections} connections`);
const conns = [];
for (let i = 0; i < s.connections; i++) {
  const conn = handles[i % handles.length].connect();
  await conn.increment(1);
  conns.push(conn);
}
const wsSeq = [];
for (let i = 0; i < s.sequential; i++) {
  const t = performance.now();
  await conns[0].increment(1);
  wsSeq.push(performance.now() - t);
}
result.wsSequential = summary(wsSeq);
progress(`WebSocket: ${s.connections} connections x ${s.depth} in flight, warm-up then ${s.seconds}s`);
await timedLoop(s.connections * s.depth, s.warmup, (w) => conns[w % conns.length].increment(1));
result.ws = await timedLoop(s.connections * s.depth, s.seconds, (w) => conns[w % conns.length].increment(1));
for (const c of conns) await c.dispose().catch(() => undefined);
writeFileSync(out, JSON.stringify(result));
progress("done");
process.exit(0);
