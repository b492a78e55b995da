#!/usr/bin/env node
/* global process, console, URL, setTimeout -- Node.js globals (this file runs under plain node) */
// A loopback pull-through proxy for the npm registry, for building the image where the build
// container cannot reach the registry itself (CI here: the machine reaches the registry only
// through a TLS-intercepting egress proxy whose CA the build container does not trust).
//
//   node distribution/npm-registry-proxy.mjs [--port N] [--upstream URL] [--port-file FILE]
//
// Listens on 127.0.0.1 only, forwards GET/HEAD to ONE upstream registry (default: this host's
// `npm config get registry`, else https://registry.npmjs.org/) with this host's TLS trust, and
// nothing else. The build then uses the Dockerfile's own mirror hook:
//   docker build --network host --build-arg NPM_CONFIG_REGISTRY=http://127.0.0.1:PORT/ ...
// npm rewrites registry.npmjs.org tarball URLs to the configured registry (its default
// `replace-registry-host=npmjs`), so tarballs come through here too. Package integrity is still
// checked by npm against package-lock.json. Vendors with a registry mirror (Verdaccio,
// Artifactory, Nexus) pass their mirror's URL instead and do not need this.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

function hostRegistry() {
  try {
    return execFileSync("npm", ["config", "get", "registry"], { encoding: "utf8", timeout: 15_000 }).trim();
  } catch {
    return "";
  }
}

const upstream = new URL(
  opt("--upstream") || process.env.NPM_PROXY_UPSTREAM || hostRegistry() || "https://registry.npmjs.org/",
);
if (upstream.protocol !== "https:" && upstream.protocol !== "http:") {
  console.error(`npm-registry-proxy: unsupported upstream ${upstream.href}`);
  process.exit(2);
}
const client = upstream.protocol === "https:" ? https : http;
const agent = new client.Agent({ keepAlive: true, maxSockets: 16 });
const basePath = upstream.pathname.replace(/\/$/, "");
const HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "host",
  "te",
  "trailer",
]);
let served = 0;
let failed = 0;

const server = http.createServer((req, res) => {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { "content-type": "text/plain" }).end("read-only proxy\n");
    return;
  }
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && k !== "authorization") headers[k] = v;
  const up = client.request(
    {
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port || undefined,
      method: req.method,
      path: basePath + req.url,
      headers,
      agent,
      timeout: 60_000,
    },
    (upRes) => {
      const out = {};
      for (const [k, v] of Object.entries(upRes.headers)) if (!HOP.has(k)) out[k] = v;
      res.writeHead(upRes.statusCode ?? 502, out);
      upRes.pipe(res);
      upRes.on("end", () => served++);
    },
  );
  up.on("timeout", () => up.destroy(new Error("upstream timeout")));
  up.on("error", (e) => {
    failed++;
    console.error(`npm-registry-proxy: ${req.url}: ${e.message}`);
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
    res.end();
  });
  req.pipe(up);
});

server.listen(Number(opt("--port") ?? 0), "127.0.0.1", () => {
  const { port } = server.address();
  const portFile = opt("--port-file");
  if (portFile) writeFileSync(portFile, `${port}\n`);
  console.error(`npm-registry-proxy: http://127.0.0.1:${port}/ -> ${upstream.href}`);
});

const stop = () => {
  console.error(`npm-registry-proxy: stopping (${served} responses, ${failed} upstream errors)`);
  server.close();
  agent.destroy();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
