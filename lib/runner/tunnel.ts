/**
 * A tunnel end on the engine side: a Duplex whose writes travel to the runner as `tunnelData`
 * and whose readable side is fed by the runner's messages. The runner side wires the actor's
 * own stream (from onTunnel) to the same three messages (session.ts).
 */
import { Duplex } from "node:stream";

export type TunnelMessage =
  | { t: "tunnelData"; tunnelId: string; data: Uint8Array }
  | { t: "tunnelEnd"; tunnelId: string }
  | { t: "tunnelClose"; tunnelId: string; reason?: string };

export class TunnelStream extends Duplex {
  #peerClosed = false;

  constructor(
    readonly tunnelId: string,
    private readonly send: (m: TunnelMessage) => void,
    private readonly gone: () => void,
  ) {
    super({ allowHalfOpen: true });
  }

  /** A message from the other side. */
  receive(m: TunnelMessage): void {
    if (m.t === "tunnelData") this.push(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
    else if (m.t === "tunnelEnd") this.push(null);
    else this.peerGone();
  }

  /** The other side (or the link) is gone: close without telling it. */
  peerGone(): void {
    this.#peerClosed = true;
    this.destroy();
  }

  override _read(): void {
    // Data is pushed as it arrives from the other side.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.send({ t: "tunnelData", tunnelId: this.tunnelId, data: new Uint8Array(chunk) });
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.send({ t: "tunnelEnd", tunnelId: this.tunnelId });
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#peerClosed) {
      this.send({
        t: "tunnelClose",
        tunnelId: this.tunnelId,
        ...(error ? { reason: error.message.slice(0, 200) } : {}),
      });
    }
    this.gone();
    callback(error);
  }
}
