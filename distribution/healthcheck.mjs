/* global process, fetch, AbortSignal -- Node.js globals (this file runs under plain node) */
// The image's HEALTHCHECK: GET /health (or the path given as the first argument, e.g.
// /health/ready) on the engine's own port, with node: the image has no curl. Exits 0 when the
// engine answers 2xx, else 1. ENCLAVE_HEALTHCHECK_URL overrides the whole URL; otherwise the
// port follows ENCLAVE__GATEWAY__PORT (default 6420).
const port = process.env.ENCLAVE__GATEWAY__PORT || "6420";
const path = process.argv[2] || "/health";
const url = process.env.ENCLAVE_HEALTHCHECK_URL || `http://127.0.0.1:${port}${path}`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
