import { describe, expect, it } from "vitest";
import { FrameTooLargeError, Outbox, Reassembler, toFrames } from "./framing.js";

describe("runner message framing", () => {
  it("sends a message that fits as one text frame", () => {
    expect(toFrames('{"t":"pong","at":1}', 100)).toEqual(['{"t":"pong","at":1}']);
  });

  it("splits a longer message into binary chunks that join back byte for byte (multi-byte text too)", () => {
    const text = JSON.stringify({ t: "result", id: 1, output: "é€😀".repeat(500) + "x".repeat(3000) });
    const frames = toFrames(text, 100);
    expect(frames.length).toBeGreaterThan(10);
    for (const f of frames) {
      expect(Buffer.isBuffer(f)).toBe(true);
      expect((f as Buffer).length).toBeLessThanOrEqual(100);
    }
    const r = new Reassembler(1 << 20);
    const out = frames.map((f) => r.push(f as Buffer, true));
    expect(out.slice(0, -1).every((x) => x === undefined)).toBe(true);
    expect(out.at(-1)).toBe(text);
    // Ready for the next message.
    expect(r.push(Buffer.from('{"t":"goodbye"}'), false)).toBe('{"t":"goodbye"}');
  });

  it("refuses chunks past the limit, unknown flags and text inside a chunked message", () => {
    const frames = toFrames("y".repeat(1000), 100) as Buffer[];
    const small = new Reassembler(500);
    expect(() => frames.forEach((f) => small.push(f, true))).toThrow(FrameTooLargeError);
    expect(() => new Reassembler(10).push(Buffer.from([7, 1]), true)).toThrow(/flag/);
    const r = new Reassembler(10_000);
    r.push(frames[0] as Buffer, true);
    expect(() => r.push(Buffer.from("{}"), false)).toThrow(/middle/);
  });

  it("an outbox sends the messages of one turn as one batch frame, a lone message as itself", async () => {
    const frames: (string | Buffer)[] = [];
    const outbox = new Outbox({ send: (f) => frames.push(f) }, () => 100);
    outbox.push('{"t":"a"}');
    outbox.push('{"t":"b"}');
    expect(frames).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(frames).toEqual(['[{"t":"a"},{"t":"b"}]']);
    outbox.push('{"t":"c"}');
    outbox.flush();
    expect(frames.at(-1)).toBe('{"t":"c"}');
    // A batch too long for one frame is chunked like any long message.
    outbox.push(JSON.stringify({ t: "d", x: "z".repeat(300) }));
    outbox.push('{"t":"e"}');
    outbox.flush();
    const chunks = frames.slice(2) as Buffer[];
    expect(chunks.length).toBeGreaterThan(1);
    const r = new Reassembler(10_000);
    const joined = chunks.map((c) => r.push(c, true)).at(-1) as string;
    expect((JSON.parse(joined) as { t: string }[]).map((m) => m.t)).toEqual(["d", "e"]);
    outbox.push('{"t":"f"}');
    outbox.clear();
    await new Promise((r) => setImmediate(r));
    expect(frames).toHaveLength(2 + chunks.length);
  });
});
