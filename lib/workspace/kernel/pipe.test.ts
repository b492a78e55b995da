import { describe, expect, it } from "vitest";
import { KernelError } from "./errno.js";
import { PIPE_CAPACITY, createPipe } from "./pipe.js";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("pipes", () => {
  it("passes bytes in order and gives EOF once every write end is closed", async () => {
    const [r, w] = createPipe();
    expect(w.write(bytes("ab"))).toBe(2);
    expect(w.write(bytes("cd"))).toBe(2);
    const buf = new Uint8Array(3);
    expect(r.read(buf)).toBe(3);
    expect(new TextDecoder().decode(buf)).toBe("abc");
    expect(r.read(buf)).toBe(1);
    expect(r.readReady()).toBe(false);
    const pending = r.read(buf);
    expect(pending).toBeInstanceOf(Promise);
    const w2 = w.ref();
    w.close();
    w2.write(bytes("e"));
    expect(await pending).toBe(1);
    expect(buf[0]).toBe(101);
    const waiting = r.read(buf);
    w2.close();
    expect(await waiting).toBe(0);
    expect(r.readReady()).toBe(true);
    expect(r.read(buf)).toBe(0);
  });

  it("fails writes with EPIPE once every read end is closed", async () => {
    const [r, w] = createPipe();
    w.write(new Uint8Array(PIPE_CAPACITY));
    const blocked = w.write(bytes("x"));
    expect(blocked).toBeInstanceOf(Promise);
    r.close();
    await expect(blocked).rejects.toMatchObject({ code: "EPIPE" });
    expect(() => w.write(bytes("x"))).toThrow(KernelError);
    try {
      w.write(bytes("x"));
    } catch (err) {
      expect((err as KernelError).code).toBe("EPIPE");
      expect((err as KernelError).errno).toBe(64);
    }
  });

  it("applies backpressure at 64 KiB with partial writes", async () => {
    const [r, w] = createPipe();
    expect(w.write(new Uint8Array(PIPE_CAPACITY - 10))).toBe(PIPE_CAPACITY - 10);
    expect(w.write(new Uint8Array(100).fill(7))).toBe(10);
    const blocked = w.write(new Uint8Array(100).fill(9));
    expect(blocked).toBeInstanceOf(Promise);
    let settled = false;
    void (blocked as Promise<number>).then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    const buf = new Uint8Array(30);
    expect(r.read(buf)).toBe(30);
    expect(await blocked).toBe(30);
    const all = new Uint8Array(PIPE_CAPACITY * 2);
    let total = 0;
    while (r.readReady() && total < PIPE_CAPACITY) total += r.read(all.subarray(total)) as number;
    expect(total).toBe(PIPE_CAPACITY);
    expect([all[PIPE_CAPACITY - 41], all[PIPE_CAPACITY - 40], all[PIPE_CAPACITY - 31]]).toEqual([0, 7, 7]);
    expect([all[PIPE_CAPACITY - 30], all[PIPE_CAPACITY - 1]]).toEqual([9, 9]);
  });

  it("is not seekable and ends report the right direction", () => {
    const [r, w] = createPipe();
    expect(r.kind).toBe("pipe");
    expect([r.readable, r.writable, w.readable, w.writable]).toEqual([true, false, false, true]);
    expect(() => r.seek(0, "set")).toThrow(/ESPIPE/);
    expect(() => r.write(bytes("x"))).toThrow(/EBADF/);
    expect(() => w.read(new Uint8Array(1))).toThrow(/EBADF/);
    expect(r.stat().type).toBe("fifo");
  });
});
