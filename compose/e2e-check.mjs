#!/usr/bin/env node
/* global process, fetch, AbortSignal, setTimeout -- Node.js globals (this file runs under plain node) */
// The hand-written end-to-end check compose/test.sh runs from the host over the published
// loopback port, until `enclave conformance` replaces it. Plain node (>= 20), no dependencies.
//
//   ENCLAVE_URL=http://127.0.0.1:6420 ENCLAVE_TOKEN=... node compose/e2e-check.mjs COMMAND ...
//
//   create KEY              get-or-create counter[KEY]; prints its actor id
//   increment ID N          increments; prints the acknowledged value
//   expect ID VALUE         reads until the counter says VALUE (retries while the engine or the
//                           runner comes back); fails if it reads another value at the end
//   egress                  prints the engine's egress audit as JSON (admin)
//   workspace KEY           in the example app's workspace vm[KEY] (hosted by the app container):
//                           writes /home/user/e2e.txt, then exec("cat e2e.txt | tr a-z A-Z");
//                           prints the exec's stdout (proves the image carries the toybox build)
//
// Every call is bounded (E2E_TIMEOUT_MS, default 90000, for the retries of one command; 10 s
// per request). Requests that may meet a runner still reconnecting are retried on 5xx and
// connection errors only; a 4xx is a failure at once.
const base = (process.env.ENCLAVE_URL || "http://127.0.0.1:6420").replace(/\/$/, "");
const token = process.env.ENCLAVE_TOKEN;
if (!token) fail("ENCLAVE_TOKEN is not set");
const budgetMs = Number(process.env.E2E_TIMEOUT_MS || 90_000);
const deadline = Date.now() + budgetMs;

function fail(message) {
  process.stderr.write(`e2e-check: ${message}\n`);
  process.exit(1);
}

async function call(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** Retries on connection errors and 5xx until the deadline; returns the first 2xx/4xx answer. */
async function retrying(what, method, path, body) {
  let last = "no attempt";
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    try {
      const r = await call(method, path, body);
      if (r.status < 500) return r;
      last = `HTTP ${r.status} ${r.text.slice(0, 300)}`;
    } catch (e) {
      last = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    await new Promise((r) => setTimeout(r, Math.min(500 * attempt, 3000)));
  }
  fail(`${what}: no answer within ${budgetMs} ms (last: ${last})`);
}

function expectOk(what, r) {
  if (r.status < 200 || r.status >= 300) fail(`${what}: HTTP ${r.status} ${r.text.slice(0, 500)}`);
  return r.json;
}

const [command, ...args] = process.argv.slice(2);
switch (command) {
  case "create": {
    const key = args[0] || `e2e-${Date.now()}`;
    const body = expectOk(
      "create",
      await retrying("create", "PUT", "/actors", { name: "counter", key: [key] }),
    );
    const id = body?.actor?.actorId;
    if (typeof id !== "string") fail(`create: no actorId in ${JSON.stringify(body)}`);
    process.stdout.write(`${id}\n`);
    break;
  }
  case "increment": {
    const [id, n] = args;
    // Not retried: an increment must be acknowledged exactly once.
    let r;
    try {
      r = await call("POST", `/gateway/${encodeURIComponent(id)}/action/increment`, { args: [Number(n)] });
    } catch (e) {
      fail(`increment: ${e instanceof Error ? e.message : e}`);
    }
    const body = expectOk("increment", r);
    process.stdout.write(`${JSON.stringify(body?.output)}\n`);
    break;
  }
  case "expect": {
    const [id, want] = args;
    let got;
    while (Date.now() < deadline) {
      const body = expectOk(
        "get",
        await retrying("get", "POST", `/gateway/${encodeURIComponent(id)}/action/get`, { args: [] }),
      );
      got = body?.output;
      if (String(got) === want) {
        process.stdout.write(`${JSON.stringify(got)}\n`);
        process.exit(0);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    fail(`expected counter ${id} to be ${want}, read ${JSON.stringify(got)}`);
    break;
  }
  case "egress": {
    const body = expectOk("egress", await retrying("egress", "GET", "/admin/egress"));
    process.stdout.write(`${JSON.stringify(body)}\n`);
    break;
  }
  case "workspace": {
    const key = args[0] || `e2e-${Date.now()}`;
    const body = expectOk(
      "create vm",
      await retrying("create vm", "PUT", "/actors", { name: "vm", key: [key] }),
    );
    const id = encodeURIComponent(body?.actor?.actorId ?? "");
    expectOk(
      "writeFile",
      await retrying("writeFile", "POST", `/gateway/${id}/action/writeFile`, {
        args: ["/home/user/e2e.txt", "hello from compose\n"],
      }),
    );
    const out = expectOk(
      "exec",
      await retrying("exec", "POST", `/gateway/${id}/action/exec`, { args: ["cat e2e.txt | tr a-z A-Z"] }),
    );
    if (out?.output?.exitCode !== 0) fail(`exec: ${JSON.stringify(out)}`);
    process.stdout.write(out.output.stdout);
    break;
  }
  default:
    fail(`unknown command ${JSON.stringify(command)} (create, increment, expect, egress, workspace)`);
}
