/**
 * The main-thread half of a guest's sockets and stdin: it owns the kernel handles (listeners,
 * connections, fd 0) and turns them into events for the worker, and the worker's socket
 * operations into kernel calls. Everything here is asynchronous: a guest server waiting for
 * connections costs no thread time anywhere.
 *
 * Ids: the guest numbers its servers and the sockets it connects; sockets accepted here are
 * numbered from ACCEPTED_BASE so the two never collide.
 */
import type {
  FileHandle,
  KernelApi,
  KernelProcess,
  Listener,
  NetApi,
  SocketHandle,
} from "../kernel/types.js";
import type { EventMessage } from "./protocol.js";

const ACCEPTED_BASE = 1_000_000_000;
const READ_CHUNK = 64 * 1024;

type Send = (message: EventMessage, transfer?: ArrayBuffer[]) => void;

interface Conn {
  handle: SocketHandle;
  /** Writes run one after another; `end` closes once they are done. */
  queue: Promise<void>;
  paused: boolean;
  resume: (() => void) | undefined;
  closed: boolean;
}

function errorInfo(err: unknown): { code: string; message: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return {
    code: typeof code === "string" ? code : "EIO",
    message: err instanceof Error ? err.message : String(err),
  };
}

export class SocketBridge {
  readonly #listeners = new Map<number, Listener>();
  readonly #conns = new Map<number, Conn>();
  #nextAccepted = ACCEPTED_BASE;
  #stdin: { stop: boolean; paused: boolean; resume: (() => void) | undefined } | undefined;
  #closed = false;

  constructor(
    private readonly proc: KernelProcess,
    private readonly kernel: KernelApi,
    private readonly send: Send,
  ) {}

  #event(ev: string, info: Record<string, unknown>, data?: Uint8Array): void {
    if (this.#closed) return;
    if (data === undefined) this.send({ type: "event", ev, info });
    else this.send({ type: "event", ev, info, data }, [data.buffer as ArrayBuffer]);
  }

  #net(): NetApi {
    return this.kernel.net;
  }

  /** One operation from the worker. */
  handle(op: string, info: Record<string, unknown>, data: Uint8Array | undefined): void {
    if (this.#closed) return;
    const id = Number(info.id);
    switch (op) {
      case "listen":
        return this.#listen(id, Number(info.port), Number(info.backlog ?? 511));
      case "closeServer": {
        const listener = this.#listeners.get(id);
        this.#listeners.delete(id);
        listener?.close();
        return;
      }
      case "connect":
        return this.#connect(id, String(info.host ?? "127.0.0.1"), Number(info.port));
      case "write":
        return this.#write(id, data ?? new Uint8Array(0), Number(info.seq));
      case "end":
        return this.#end(id);
      case "destroy":
        return this.#destroy(id);
      case "pause":
      case "resume": {
        const conn = this.#conns.get(id);
        if (conn === undefined) return;
        conn.paused = op === "pause";
        if (!conn.paused) conn.resume?.();
        return;
      }
      case "stdin":
        return this.#stdinControl(String(info.mode));
    }
  }

  #listen(sid: number, port: number, backlog: number): void {
    let listener: Listener;
    try {
      listener = this.#net().listen(port, { backlog, pid: this.proc.pid });
    } catch (err) {
      this.#event("serverError", { id: sid, ...errorInfo(err) });
      return;
    }
    this.#listeners.set(sid, listener);
    this.#event("listening", { id: sid, port: listener.port });
    void this.#acceptLoop(sid, listener);
  }

  async #acceptLoop(sid: number, listener: Listener): Promise<void> {
    for (;;) {
      let handle: SocketHandle;
      try {
        const r = listener.accept();
        handle = r instanceof Promise ? await r : r;
      } catch {
        return; // closed
      }
      if (this.#closed || !this.#listeners.has(sid)) {
        handle.close();
        return;
      }
      const id = this.#nextAccepted++;
      this.#add(id, handle);
      this.#event("accept", {
        server: sid,
        id,
        remoteAddress: handle.remoteAddress,
        remotePort: handle.remotePort,
        localPort: handle.localPort,
      });
      void this.#readLoop(id);
    }
  }

  #connect(id: number, host: string, port: number): void {
    let pending: Promise<SocketHandle>;
    try {
      pending = this.#net().connect(host, port, { pid: this.proc.pid });
    } catch (err) {
      this.#event("error", { id, ...errorInfo(err) });
      return;
    }
    pending.then(
      (handle) => {
        if (this.#closed) {
          handle.close();
          return;
        }
        this.#add(id, handle);
        this.#event("connect", { id, localPort: handle.localPort, remotePort: handle.remotePort });
        void this.#readLoop(id);
      },
      (err: unknown) => this.#event("error", { id, ...errorInfo(err) }),
    );
  }

  #add(id: number, handle: SocketHandle): void {
    this.#conns.set(id, {
      handle,
      queue: Promise.resolve(),
      paused: false,
      resume: undefined,
      closed: false,
    });
  }

  async #readLoop(id: number): Promise<void> {
    const conn = this.#conns.get(id);
    if (conn === undefined) return;
    for (;;) {
      if (conn.paused) await new Promise<void>((resolve) => (conn.resume = resolve));
      conn.resume = undefined;
      if (conn.closed) return;
      const buf = new Uint8Array(READ_CHUNK);
      let n: number;
      try {
        const r = conn.handle.read(buf);
        n = typeof r === "number" ? r : await r;
      } catch (err) {
        if (!conn.closed) this.#event("error", { id, ...errorInfo(err) });
        return;
      }
      if (conn.closed) return;
      if (n <= 0) {
        this.#event("end", { id });
        return;
      }
      this.#event("data", { id }, n === buf.length ? buf : buf.slice(0, n));
    }
  }

  #write(id: number, data: Uint8Array, seq: number): void {
    const conn = this.#conns.get(id);
    if (conn === undefined || conn.closed) {
      this.#event("written", { id, seq, error: "EPIPE" });
      return;
    }
    conn.queue = conn.queue.then(async () => {
      let done = 0;
      try {
        while (done < data.length && !conn.closed) {
          const r = conn.handle.write(data.subarray(done));
          const n = typeof r === "number" ? r : await r;
          if (n <= 0) break;
          done += n;
        }
        this.#event("written", { id, seq });
      } catch (err) {
        this.#event("written", { id, seq, error: errorInfo(err).code });
      }
    });
  }

  /** The guest is done writing: once queued writes are out, the peer reads end of file. */
  #end(id: number): void {
    const conn = this.#conns.get(id);
    if (conn === undefined) return;
    conn.queue = conn.queue.then(() => {
      if (conn.closed) return;
      try {
        conn.handle.shutdown("write");
      } catch {
        // Already closed: nothing left to end.
      }
    });
  }

  #destroy(id: number): void {
    const conn = this.#conns.get(id);
    if (conn === undefined) return;
    this.#conns.delete(id);
    conn.closed = true;
    conn.resume?.();
    conn.handle.close();
    this.#event("close", { id });
  }

  #stdinControl(mode: string): void {
    if (mode === "start") {
      if (this.#stdin !== undefined) {
        this.#stdin.paused = false;
        this.#stdin.resume?.();
        return;
      }
      const state = { stop: false, paused: false, resume: undefined as (() => void) | undefined };
      this.#stdin = state;
      void this.#stdinLoop(state);
    } else if (mode === "pause" && this.#stdin !== undefined) {
      this.#stdin.paused = true;
    }
  }

  async #stdinLoop(state: {
    stop: boolean;
    paused: boolean;
    resume: (() => void) | undefined;
  }): Promise<void> {
    let handle: FileHandle;
    try {
      handle = this.proc.fds.get(0);
    } catch {
      this.#event("stdinEnd", {});
      return;
    }
    for (;;) {
      if (state.paused) await new Promise<void>((resolve) => (state.resume = resolve));
      state.resume = undefined;
      if (state.stop || this.#closed) return;
      const buf = new Uint8Array(READ_CHUNK);
      let n: number;
      try {
        const r = handle.read(buf);
        n = typeof r === "number" ? r : await r;
      } catch {
        n = 0;
      }
      if (state.stop || this.#closed) return;
      if (n <= 0) {
        this.#event("stdinEnd", {});
        return;
      }
      this.#event("stdin", {}, buf.slice(0, n));
    }
  }

  /** The process ended: every listener and connection it had is closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#stdin !== undefined) {
      this.#stdin.stop = true;
      this.#stdin.resume?.();
    }
    for (const listener of this.#listeners.values()) listener.close();
    this.#listeners.clear();
    for (const conn of this.#conns.values()) {
      conn.closed = true;
      conn.resume?.();
      conn.handle.close();
    }
    this.#conns.clear();
  }
}
