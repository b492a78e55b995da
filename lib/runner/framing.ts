/**
 * Framing of runner protocol messages on the WebSocket. A message is one text frame of JSON. A
 * message longer than the receiver accepts in one frame goes as binary frames instead: each
 * starts with one flag byte (1: more follows, 0: last) followed by a slice of the message's
 * UTF-8 bytes; the receiver joins the slices and reads the result as one text message.
 */

const MORE = 1;
const LAST = 0;

/** The frames that carry `text` when at most `maxFrameBytes` fit in one frame. */
export function toFrames(text: string, maxFrameBytes: number): (string | Buffer)[] {
  // Cheap test first: a UTF-8 encoding is at most 3 bytes per UTF-16 code unit.
  if (text.length * 3 <= maxFrameBytes || Buffer.byteLength(text) <= maxFrameBytes) return [text];
  const bytes = Buffer.from(text, "utf8");
  const slice = Math.max(1, maxFrameBytes - 1);
  const frames: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += slice) {
    const end = Math.min(bytes.length, at + slice);
    const frame = Buffer.allocUnsafe(1 + end - at);
    frame[0] = end === bytes.length ? LAST : MORE;
    bytes.copy(frame, 1, at, end);
    frames.push(frame);
  }
  return frames;
}

/** Thrown when chunks add up to more than the receiver accepts. */
export class FrameTooLargeError extends RangeError {
  constructor(readonly limit: number) {
    super(`a chunked message is longer than ${limit} bytes`);
    this.name = "FrameTooLargeError";
  }
}

/** Joins binary chunks back into messages. */
export class Reassembler {
  readonly #limit: number;
  #parts: Buffer[] = [];
  #size = 0;

  constructor(limitBytes: number) {
    this.#limit = limitBytes;
  }

  /** The complete message this frame carries or ends, or undefined while more chunks follow. */
  push(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): string | undefined {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (!isBinary) {
      if (this.#parts.length > 0)
        throw new RangeError("a text frame arrived in the middle of a chunked message");
      return buf.toString("utf8");
    }
    if (buf.length === 0) throw new RangeError("an empty binary frame");
    const flag = buf[0];
    if (flag !== MORE && flag !== LAST) throw new RangeError(`unknown chunk flag ${String(flag)}`);
    this.#size += buf.length - 1;
    if (this.#size > this.#limit) throw new FrameTooLargeError(this.#limit);
    this.#parts.push(buf.subarray(1));
    if (flag === MORE) return undefined;
    const text = Buffer.concat(this.#parts).toString("utf8");
    this.#parts = [];
    this.#size = 0;
    return text;
  }
}

/** What an outbox writes to. */
export interface FrameSink {
  send(frame: string | Buffer): void;
}

/**
 * Outgoing messages, batched: the messages of one turn of the event loop go out together, as one
 * text frame holding a JSON array of them (one message alone goes as itself), so a busy
 * connection writes a frame per turn instead of a frame per message. Order is kept.
 */
export class Outbox {
  readonly #sink: FrameSink;
  readonly #maxFrameBytes: () => number;
  #queue: string[] = [];
  #scheduled = false;

  constructor(sink: FrameSink, maxFrameBytes: () => number) {
    this.#sink = sink;
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Queues one encoded message (a JSON object). */
  push(json: string): void {
    this.#queue.push(json);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Writes whatever is queued now. */
  flush(): void {
    this.#scheduled = false;
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    const text = queue.length === 1 ? (queue[0] as string) : `[${queue.join(",")}]`;
    for (const frame of toFrames(text, this.#maxFrameBytes())) this.#sink.send(frame);
  }

  /** Drops whatever is queued (the connection is gone). */
  clear(): void {
    this.#queue = [];
  }
}
