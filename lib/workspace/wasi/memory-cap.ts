/**
 * Caps a module's linear memory by rewriting the maximum in its memory section, so the engine
 * itself refuses `memory.grow` past the limit (malloc then fails inside the program, as under a
 * real rlimit). Worker `resourceLimits` do not cover Wasm memory, and V8's page limit is
 * process-wide, so this is the per-program mechanism.
 */

const PAGE = 65536;

function readLeb(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++];
    if (b === undefined) throw new Error("truncated module");
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [result, pos];
  }
}

function writeLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}

export class MemoryCapError extends Error {}

/**
 * The module bytes with every defined memory limited to `maxBytes` (rounded down to pages).
 * Returns the input when the module defines no memory (an imported memory is checked at run time).
 * Throws `MemoryCapError` when the program's initial memory is already above the cap.
 */
export function capMemory(bytes: Uint8Array, maxBytes: number): Uint8Array {
  const capPages = Math.floor(maxBytes / PAGE);
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const [size, contentStart] = readLeb(bytes, pos + 1);
    const end = contentStart + size;
    if (id === 5) {
      const [count, first] = readLeb(bytes, contentStart);
      const content: number[] = writeLeb(count);
      let p = first;
      for (let i = 0; i < count; i++) {
        const flags = bytes[p++]!;
        if ((flags & 4) !== 0) return bytes; // memory64: left to the run-time check
        const [min, afterMin] = readLeb(bytes, p);
        p = afterMin;
        let max = capPages;
        if ((flags & 1) !== 0) {
          const [declared, afterMax] = readLeb(bytes, p);
          p = afterMax;
          max = Math.min(declared, capPages);
        }
        if (min > max) {
          throw new MemoryCapError(
            `the program needs ${min * PAGE} bytes of memory, the limit is ${maxBytes}`,
          );
        }
        content.push(flags | 1, ...writeLeb(min), ...writeLeb(max));
      }
      const header = [5, ...writeLeb(content.length)];
      const out = new Uint8Array(pos + header.length + content.length + (bytes.length - end));
      out.set(bytes.subarray(0, pos), 0);
      out.set(header, pos);
      out.set(content, pos + header.length);
      out.set(bytes.subarray(end), pos + header.length + content.length);
      return out;
    }
    pos = end;
  }
  return bytes;
}
