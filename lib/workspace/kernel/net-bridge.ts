/**
 * Joins a kernel socket end to a real host TCP connection, for outbound connects the network
 * policy allowed. The connect goes through Node's `net` (looked up at call time), so the engine's
 * egress audit records it and its air-gap enforcement can still refuse it.
 */
import net from "node:net";
import { KernelError } from "./errno.js";
import type { SocketHandle } from "./types.js";

export interface HostBridge {
  readonly closed: boolean;
  destroy(): void;
}

/** Writes all of `data` into the kernel end, waiting while its buffer is full. */
async function writeAll(end: SocketHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const n = await end.write(data.subarray(off));
    if (n === 0) throw new KernelError("EPIPE", "write");
    off += n;
  }
}

/**
 * Connects to `address`:`port` and pumps bytes both ways between the host socket and `end` (the
 * host side of a kernel socket pair). Resolves once connected; rejects with the socket's error
 * (an air-gap refusal keeps its EENCLAVE_EGRESS_DENIED code), ETIMEDOUT, or EINTR on abort.
 */
export function bridgeHostSocket(
  end: SocketHandle,
  address: string,
  port: number,
  options: { timeoutMs: number; signal?: AbortSignal; onClose: (bridge: HostBridge) => void },
): Promise<HostBridge> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port, allowHalfOpen: true });
    let connected = false;
    const bridge: HostBridge = {
      get closed() {
        return socket.destroyed;
      },
      destroy: () => socket.destroy(),
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new KernelError("ETIMEDOUT", "connect"));
    }, options.timeoutMs);
    timer.unref();
    const onAbort = (): void => {
      socket.destroy();
      reject(new KernelError("EINTR", "connect"));
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const settle = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };
    socket.once("error", (err) => {
      if (connected) return;
      settle();
      reject(err);
    });
    socket.once("close", () => {
      settle();
      // The guest reads what arrived, then end of file; its writes fail from now on.
      end.close();
      options.onClose(bridge);
    });
    socket.once("connect", () => {
      connected = true;
      settle();
      socket.setNoDelay(true);
      socket.on("error", () => {
        // 'close' follows and closes the kernel end.
      });
      pumpIn(socket, end);
      void pumpOut(socket, end);
      resolve(bridge);
    });
  });
}

/** Host -> guest: one chunk at a time, the host socket paused while the kernel buffer is full. */
function pumpIn(socket: net.Socket, end: SocketHandle): void {
  socket.on("data", (chunk: Buffer) => {
    socket.pause();
    writeAll(end, chunk).then(
      () => socket.resume(),
      () => socket.destroy(),
    );
  });
  // Paused 'data' delays 'end' until everything before it was written.
  socket.on("end", () => {
    try {
      end.shutdown("write");
    } catch {
      // Already closed.
    }
  });
}

/** Guest -> host, until the guest shuts down its write side (then a FIN) or closes. */
async function pumpOut(socket: net.Socket, end: SocketHandle): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await end.read(buf);
      if (n === 0) break;
      if (!socket.write(buf.slice(0, n))) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            socket.off("drain", done);
            socket.off("close", done);
            resolve();
          };
          socket.on("drain", done);
          socket.on("close", done);
        });
      }
      if (socket.destroyed) return;
    }
    socket.end();
  } catch {
    socket.destroy();
  }
}
