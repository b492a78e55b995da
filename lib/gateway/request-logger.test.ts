/**
 * The per-request logger: built only when something logs through it, and then the same as the
 * child fastify would have built (the request id and the parent's bindings on every line).
 */
import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { lazyRequestLogger } from "./request-logger.js";

function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: "info", base: { app: "enclave" } }, sink), lines };
}

describe("lazyRequestLogger", () => {
  it("builds no child until something logs, then logs with the request's bindings at the parent's level", async () => {
    const { logger, lines } = memoryLogger();
    const child = vi.spyOn(logger, "child");
    const log = lazyRequestLogger(logger, { reqId: "req-1" }, {});
    expect(child).not.toHaveBeenCalled();
    expect(log.level).toBe("info");
    log.debug("below the level");
    log.warn({ detail: 1 }, "something odd");
    log.error("failed %s", "badly");
    expect(child).toHaveBeenCalledTimes(1);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      app: "enclave",
      reqId: "req-1",
      detail: 1,
      msg: "something odd",
      level: 40,
    });
    expect(lines[1]).toMatchObject({ reqId: "req-1", msg: "failed badly", level: 50 });
    const sub = log.child({ part: "x" });
    sub.info("from a grandchild");
    await new Promise((r) => setImmediate(r));
    expect(lines[2]).toMatchObject({ reqId: "req-1", part: "x", msg: "from a grandchild" });
  });

  it("takes the level from the child options (a route's logLevel) before the child exists", () => {
    const { logger } = memoryLogger();
    expect(lazyRequestLogger(logger, { reqId: "r" }, { level: "warn" }).level).toBe("warn");
  });
});
