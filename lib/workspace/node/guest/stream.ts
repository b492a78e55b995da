// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-nocheck -- guest code: it runs inside QuickJS (shipped as its source text), not in Node.
/**
 * Guest `stream` (also `stream/promises` and a minimal `readline`): Readable, Writable, Duplex,
 * Transform, PassThrough, pipeline and finished. Constructors are plain functions, not classes,
 * because much of npm still calls `Readable.call(this)` from its own constructors.
 */
export function guestStream(module, exports, require, internal, name) {
  "use strict";
  const EE = require("events");
  const { Buffer } = require("buffer");
  const nextTick = process.nextTick;

  function inherit(ctor, base) {
    Object.setPrototypeOf(ctor.prototype, base.prototype);
    Object.setPrototypeOf(ctor, base);
  }
  function codeError(Ctor, code, message) {
    const err = new Ctor(message);
    err.code = code;
    return err;
  }

  function Stream(opts) {
    EE.call(this, opts);
  }
  inherit(Stream, EE);
  Stream.prototype.pipe = function (dest, options) {
    return Readable.prototype.pipe.call(this, dest, options);
  };

  // ---------------------------------------------------------------- Readable
  function ReadableState(options, stream) {
    this.objectMode = Boolean(options.objectMode || options.readableObjectMode);
    this.highWaterMark =
      options.readableHighWaterMark !== undefined
        ? options.readableHighWaterMark
        : options.highWaterMark !== undefined
          ? options.highWaterMark
          : this.objectMode
            ? 16
            : 16384;
    this.buffer = [];
    this.length = 0;
    this.flowing = null;
    this.ended = false;
    this.endEmitted = false;
    this.reading = false;
    this.flowScheduled = false;
    this.readableListening = false;
    this.needReadable = false;
    this.emittedReadable = false;
    this.destroyed = false;
    this.closed = false;
    this.errored = null;
    this.emitClose = options.emitClose !== false;
    this.autoDestroy = options.autoDestroy !== false;
    this.decoder = null;
    this.encoding = null;
    this.pipes = [];
    this.stream = stream;
    if (options.encoding) {
      const { StringDecoder } = require("string_decoder");
      this.decoder = new StringDecoder(options.encoding);
      this.encoding = options.encoding;
    }
  }

  function Readable(options) {
    if (!(this instanceof Readable)) return new Readable(options);
    options = options || {};
    const isDuplex = this instanceof Duplex;
    this._readableState = new ReadableState(options, this);
    if (typeof options.read === "function") this._read = options.read;
    if (typeof options.destroy === "function") this._destroy = options.destroy;
    if (typeof options.construct === "function") this._construct = options.construct;
    if (options.signal) addAbortSignal(options.signal, this);
    Stream.call(this, options);
    if (!isDuplex && typeof this._construct === "function") constructStream(this);
  }
  inherit(Readable, Stream);
  function constructStream(stream) {
    const r = stream._readableState;
    const w = stream._writableState;
    if (r) r.constructing = true;
    if (w) w.constructing = true;
    nextTick(() => {
      stream._construct((err) => {
        if (r) r.constructing = false;
        if (w) w.constructing = false;
        if (err) stream.destroy(err);
        else {
          if (r) scheduleFlow(stream);
          if (w) clearBuffer(stream, w);
        }
      });
    });
  }

  const RP = Readable.prototype;
  Object.defineProperties(RP, {
    readable: {
      get() {
        const s = this._readableState;
        return Boolean(s) && !s.destroyed && !s.endEmitted && !s.errored && this._readableFlag !== false;
      },
      set(v) {
        this._readableFlag = v;
      },
      configurable: true,
    },
    readableEnded: {
      get() {
        return this._readableState.endEmitted;
      },
      configurable: true,
    },
    readableFlowing: {
      get() {
        return this._readableState.flowing;
      },
      set(v) {
        this._readableState.flowing = v;
      },
      configurable: true,
    },
    readableLength: {
      get() {
        return this._readableState.length;
      },
      configurable: true,
    },
    readableHighWaterMark: {
      get() {
        return this._readableState.highWaterMark;
      },
      configurable: true,
    },
    readableObjectMode: {
      get() {
        return this._readableState.objectMode;
      },
      configurable: true,
    },
    readableEncoding: {
      get() {
        return this._readableState.encoding;
      },
      configurable: true,
    },
    destroyed: {
      get() {
        const r = this._readableState;
        const w = this._writableState;
        return Boolean((r && r.destroyed) || (w && w.destroyed));
      },
      set(v) {
        if (this._readableState) this._readableState.destroyed = v;
        if (this._writableState) this._writableState.destroyed = v;
      },
      configurable: true,
    },
    closed: {
      get() {
        const r = this._readableState;
        const w = this._writableState;
        return Boolean((r && r.closed) || (w && w.closed));
      },
      configurable: true,
    },
    errored: {
      get() {
        const r = this._readableState;
        const w = this._writableState;
        return (r && r.errored) || (w && w.errored) || null;
      },
      configurable: true,
    },
  });

  RP._read = function () {
    throw codeError(Error, "ERR_METHOD_NOT_IMPLEMENTED", "The _read() method is not implemented");
  };
  RP.push = function (chunk, encoding) {
    const s = this._readableState;
    s.reading = false;
    if (chunk === null) {
      if (!s.ended) {
        if (s.decoder) {
          const rest = s.decoder.end();
          if (rest) {
            s.buffer.push(rest);
            s.length += s.objectMode ? 1 : rest.length;
          }
        }
        s.ended = true;
        scheduleFlow(this);
      }
      return false;
    }
    if (s.destroyed) return false;
    if (s.ended) {
      this.destroy(codeError(Error, "ERR_STREAM_PUSH_AFTER_EOF", "stream.push() after EOF"));
      return false;
    }
    if (!s.objectMode) {
      if (typeof chunk === "string") chunk = Buffer.from(chunk, encoding || "utf8");
      else if (chunk instanceof Uint8Array && !Buffer.isBuffer(chunk))
        chunk = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      else if (!(chunk instanceof Uint8Array)) {
        this.destroy(
          codeError(
            TypeError,
            "ERR_INVALID_ARG_TYPE",
            'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array',
          ),
        );
        return false;
      }
      if (s.decoder) chunk = s.decoder.write(chunk);
      if (chunk.length === 0) return s.length < s.highWaterMark;
    }
    s.buffer.push(chunk);
    s.length += s.objectMode ? 1 : chunk.length;
    scheduleFlow(this);
    return s.length < s.highWaterMark;
  };
  RP.unshift = function (chunk) {
    const s = this._readableState;
    if (chunk === null) return;
    if (!s.objectMode && typeof chunk === "string") chunk = Buffer.from(chunk);
    s.buffer.unshift(chunk);
    s.length += s.objectMode ? 1 : chunk.length;
    scheduleFlow(this);
  };
  function scheduleFlow(stream) {
    const s = stream._readableState;
    if (s.flowScheduled) return;
    s.flowScheduled = true;
    nextTick(flow, stream);
  }
  function joinChunks(s, chunks) {
    if (s.objectMode) return chunks[0];
    if (s.decoder || typeof chunks[0] === "string") return chunks.join("");
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }
  function take(s, n) {
    if (s.length === 0) return null;
    if (s.objectMode) {
      s.length--;
      return s.buffer.shift();
    }
    if (n === undefined || n >= s.length) {
      const all = joinChunks(s, s.buffer);
      s.buffer = [];
      s.length = 0;
      return all;
    }
    const parts = [];
    let need = n;
    while (need > 0) {
      const head = s.buffer[0];
      if (head.length <= need) {
        parts.push(s.buffer.shift());
        need -= head.length;
      } else {
        parts.push(head.slice(0, need));
        s.buffer[0] = head.slice(need);
        need = 0;
      }
    }
    s.length -= n;
    return joinChunks(s, parts);
  }
  function flow(stream) {
    const s = stream._readableState;
    s.flowScheduled = false;
    if (s.destroyed || s.constructing) return;
    if (s.flowing) {
      while (s.flowing && s.length > 0 && !s.destroyed) {
        const chunk = take(s, s.objectMode ? undefined : s.buffer[0].length);
        stream.emit("data", chunk);
      }
    } else if (s.readableListening && (s.length > 0 || s.ended) && !s.emittedReadable) {
      s.emittedReadable = true;
      stream.emit("readable");
      s.emittedReadable = false;
    }
    if (s.ended && s.length === 0) {
      endReadable(stream);
      return;
    }
    maybeRead(stream);
  }
  function maybeRead(stream) {
    const s = stream._readableState;
    if (s.reading || s.ended || s.destroyed || s.constructing) return;
    if (s.length < s.highWaterMark || (s.flowing && s.length === 0)) {
      s.reading = true;
      try {
        stream._read(s.highWaterMark);
      } catch (err) {
        stream.destroy(err);
      }
    }
  }
  function endReadable(stream) {
    const s = stream._readableState;
    if (s.endEmitted || s.destroyed) return;
    // 'end' is for a consumer: one that reads in flowing mode, listens for 'readable' or called read().
    if (!(s.flowing || s.readableListening || s.readCalled)) return;
    s.endEmitted = true;
    stream.emit("end");
    const w = stream._writableState;
    if (w && !w.ended && stream.allowHalfOpen === false) stream.end();
    if (s.autoDestroy && (!w || (w.finished && w.autoDestroy !== false))) stream.destroy();
  }
  RP.read = function (n) {
    const s = this._readableState;
    s.readCalled = true;
    if (n === 0) {
      maybeRead(this);
      return null;
    }
    if (!s.objectMode && n !== undefined && n > s.length) {
      if (s.ended) n = undefined;
      else {
        maybeRead(this);
        return null;
      }
    }
    const chunk = take(s, n);
    if (chunk !== null && chunk !== undefined) this.emit("data", chunk);
    if (s.ended && s.length === 0) nextTick(endReadable, this);
    else nextTick(maybeRead, this);
    return chunk === undefined ? null : chunk;
  };
  RP.on = function (ev, fn) {
    const res = Stream.prototype.on.call(this, ev, fn);
    const s = this._readableState;
    if (ev === "data") {
      if (s.flowing !== false) this.resume();
    } else if (ev === "readable") {
      if (!s.endEmitted) {
        s.readableListening = true;
        s.flowing = false;
        scheduleFlow(this);
      }
    }
    return res;
  };
  RP.addListener = RP.on;
  RP.removeListener = function (ev, fn) {
    const res = Stream.prototype.removeListener.call(this, ev, fn);
    if (ev === "readable" && this.listenerCount("readable") === 0)
      this._readableState.readableListening = false;
    return res;
  };
  RP.off = RP.removeListener;
  RP.resume = function () {
    const s = this._readableState;
    if (!s.flowing) {
      s.flowing = true;
      this.emit("resume");
      scheduleFlow(this);
    }
    return this;
  };
  RP.pause = function () {
    const s = this._readableState;
    if (s.flowing !== false) {
      s.flowing = false;
      this.emit("pause");
    }
    return this;
  };
  RP.isPaused = function () {
    return this._readableState.flowing === false;
  };
  RP.setEncoding = function (enc) {
    const { StringDecoder } = require("string_decoder");
    const s = this._readableState;
    s.decoder = new StringDecoder(enc);
    s.encoding = s.decoder.encoding;
    const pending = s.buffer;
    s.buffer = [];
    s.length = 0;
    for (const c of pending) {
      const str = typeof c === "string" ? c : s.decoder.write(c);
      if (str.length > 0) {
        s.buffer.push(str);
        s.length += str.length;
      }
    }
    return this;
  };
  RP.pipe = function (dest, options) {
    return pipeStreams(this, dest, options);
  };
  function pipeStreams(src, dest, options) {
    const s = src._readableState;
    const doEnd = !options || options.end !== false;
    if (s) s.pipes.push(dest);
    const ondata = (chunk) => {
      if (dest.write(chunk) === false) src.pause();
    };
    const ondrain = () => src.resume();
    const onend = () => {
      if (doEnd && dest !== process.stdout && dest !== process.stderr) dest.end();
    };
    const cleanup = () => {
      src.removeListener("data", ondata);
      dest.removeListener("drain", ondrain);
      src.removeListener("end", onend);
    };
    src.on("data", ondata);
    dest.on("drain", ondrain);
    src.once("end", onend);
    dest.once("close", cleanup);
    dest.once("unpipe", (from) => {
      if (from === src) cleanup();
    });
    dest.on("error", function onerror(err) {
      cleanup();
      if (dest.listenerCount("error") === 1) {
        dest.removeListener("error", onerror);
        dest.emit("error", err);
      }
    });
    if (typeof dest.emit === "function") dest.emit("pipe", src);
    if (s && !s.flowing) src.resume();
    return dest;
  }
  RP.unpipe = function (dest) {
    const s = this._readableState;
    const targets = dest ? [dest] : s.pipes.slice();
    for (const d of targets) {
      const i = s.pipes.indexOf(d);
      if (i >= 0) s.pipes.splice(i, 1);
      d.emit("unpipe", this);
    }
    if (s.pipes.length === 0) this.pause();
    return this;
  };
  RP.wrap = function (old) {
    old.on("data", (chunk) => {
      if (!this.push(chunk)) old.pause();
    });
    old.on("end", () => this.push(null));
    old.on("error", (err) => this.destroy(err));
    this._read = () => old.resume();
    return this;
  };
  RP[Symbol.asyncIterator] = function () {
    return iterate(this);
  };
  function iterate(stream) {
    const queue = [];
    const waiters = [];
    let done = false;
    let error = null;
    const settle = () => {
      while (waiters.length > 0) {
        const w = waiters.shift();
        if (queue.length > 0) w.resolve({ value: queue.shift(), done: false });
        else if (error) w.reject(error);
        else if (done) w.resolve({ value: undefined, done: true });
        else {
          waiters.unshift(w);
          break;
        }
      }
    };
    stream.on("data", (chunk) => {
      queue.push(chunk);
      settle();
    });
    stream.on("end", () => {
      done = true;
      settle();
    });
    stream.on("error", (err) => {
      error = err;
      settle();
    });
    stream.on("close", () => {
      done = true;
      settle();
    });
    return {
      next() {
        return new Promise((resolve, reject) => {
          waiters.push({ resolve, reject });
          settle();
        });
      },
      return() {
        stream.destroy();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
  RP.toArray = async function () {
    const out = [];
    for await (const chunk of this) out.push(chunk);
    return out;
  };
  Readable.from = function (iterable, options) {
    if (typeof iterable === "string" || iterable instanceof Uint8Array) {
      const r = new Readable(Object.assign({ objectMode: true }, options, { read() {} }));
      r.push(iterable);
      r.push(null);
      return r;
    }
    const it = iterable[Symbol.asyncIterator]
      ? iterable[Symbol.asyncIterator]()
      : iterable[Symbol.iterator]();
    let busy = false;
    return new Readable(
      Object.assign({ objectMode: true }, options, {
        read() {
          if (busy) return;
          busy = true;
          Promise.resolve(it.next()).then(
            (res) => {
              busy = false;
              Promise.resolve(res.value).then((value) => {
                if (res.done) this.push(null);
                else if (this.push(value)) this.read(0);
              });
            },
            (err) => this.destroy(err),
          );
        },
      }),
    );
  };

  // ---------------------------------------------------------------- destroy (shared)
  function destroy(err, cb) {
    const r = this._readableState;
    const w = this._writableState;
    if ((r && r.destroyed) || (w && w.destroyed)) {
      if (typeof cb === "function") cb(err);
      return this;
    }
    if (r) r.destroyed = true;
    if (w) w.destroyed = true;
    if (err) {
      if (r) r.errored = err;
      if (w) w.errored = err;
    }
    const finish = (e) => {
      if (typeof cb === "function") cb(e);
      nextTick(() => {
        if (e && !(r && r.errorEmitted) && !(w && w.errorEmitted)) {
          if (r) r.errorEmitted = true;
          if (w) w.errorEmitted = true;
          this.emit("error", e);
        }
        if (r) r.closed = true;
        if (w) w.closed = true;
        if ((r && r.emitClose) || (w && w.emitClose)) this.emit("close");
      });
    };
    try {
      this._destroy(err || null, finish);
    } catch (e) {
      finish(e);
    }
    return this;
  }
  RP.destroy = destroy;
  RP._destroy = function (err, cb) {
    cb(err);
  };
  RP[EE.captureRejectionSymbol || Symbol.for("nodejs.rejection")] = function (err) {
    this.destroy(err);
  };

  // ---------------------------------------------------------------- Writable
  function WritableState(options) {
    this.objectMode = Boolean(options.objectMode || options.writableObjectMode);
    this.highWaterMark =
      options.writableHighWaterMark !== undefined
        ? options.writableHighWaterMark
        : options.highWaterMark !== undefined
          ? options.highWaterMark
          : this.objectMode
            ? 16
            : 16384;
    this.decodeStrings = options.decodeStrings !== false;
    this.defaultEncoding = options.defaultEncoding || "utf8";
    this.queue = [];
    this.length = 0;
    this.writing = false;
    this.corked = 0;
    this.ending = false;
    this.ended = false;
    this.finished = false;
    this.finalCalled = false;
    this.prefinished = false;
    this.needDrain = false;
    this.destroyed = false;
    this.closed = false;
    this.errored = null;
    this.emitClose = options.emitClose !== false;
    this.autoDestroy = options.autoDestroy !== false;
    this.pendingcb = 0;
  }
  function Writable(options) {
    const isDuplex = this instanceof Duplex;
    if (!isDuplex && !(this instanceof Writable)) return new Writable(options);
    options = options || {};
    this._writableState = new WritableState(options);
    if (typeof options.write === "function") this._write = options.write;
    if (typeof options.writev === "function") this._writev = options.writev;
    if (typeof options.final === "function") this._final = options.final;
    if (typeof options.destroy === "function") this._destroy = options.destroy;
    if (typeof options.construct === "function") this._construct = options.construct;
    if (options.signal) addAbortSignal(options.signal, this);
    if (!isDuplex) {
      Stream.call(this, options);
      if (typeof this._construct === "function") constructStream(this);
    }
  }
  inherit(Writable, Stream);
  Object.defineProperty(Writable, Symbol.hasInstance, {
    value(obj) {
      if (Function.prototype[Symbol.hasInstance].call(this, obj)) return true;
      if (this !== Writable) return false;
      return Boolean(obj && obj._writableState instanceof WritableState);
    },
  });
  const WP = Writable.prototype;
  Object.defineProperties(WP, {
    writable: {
      get() {
        const w = this._writableState;
        return Boolean(w) && !w.destroyed && !w.ending && !w.errored && this._writableFlag !== false;
      },
      set(v) {
        this._writableFlag = v;
      },
      configurable: true,
    },
    writableEnded: {
      get() {
        return this._writableState.ending;
      },
      configurable: true,
    },
    writableFinished: {
      get() {
        return this._writableState.finished;
      },
      configurable: true,
    },
    writableLength: {
      get() {
        return this._writableState.length;
      },
      configurable: true,
    },
    writableHighWaterMark: {
      get() {
        return this._writableState.highWaterMark;
      },
      configurable: true,
    },
    writableObjectMode: {
      get() {
        return this._writableState.objectMode;
      },
      configurable: true,
    },
    writableCorked: {
      get() {
        return this._writableState.corked;
      },
      configurable: true,
    },
    writableNeedDrain: {
      get() {
        return this._writableState.needDrain;
      },
      configurable: true,
    },
    destroyed: Object.getOwnPropertyDescriptor(RP, "destroyed"),
    closed: Object.getOwnPropertyDescriptor(RP, "closed"),
    errored: Object.getOwnPropertyDescriptor(RP, "errored"),
  });
  WP._write = function (chunk, encoding, cb) {
    if (this._writev) this._writev([{ chunk, encoding }], cb);
    else throw codeError(Error, "ERR_METHOD_NOT_IMPLEMENTED", "The _write() method is not implemented");
  };
  WP.write = function (chunk, encoding, cb) {
    const w = this._writableState;
    if (typeof encoding === "function") {
      cb = encoding;
      encoding = null;
    }
    if (!encoding) encoding = w.defaultEncoding;
    if (typeof cb !== "function") cb = () => {};
    if (chunk === null)
      throw codeError(TypeError, "ERR_STREAM_NULL_VALUES", "May not write null values to stream");
    if (!w.objectMode) {
      if (typeof chunk === "string") {
        if (w.decodeStrings) {
          chunk = Buffer.from(chunk, encoding);
          encoding = "buffer";
        }
      } else if (chunk instanceof Uint8Array) {
        if (!Buffer.isBuffer(chunk)) chunk = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        encoding = "buffer";
      } else {
        throw codeError(
          TypeError,
          "ERR_INVALID_ARG_TYPE",
          'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array',
        );
      }
    }
    let err;
    if (w.ending) err = codeError(Error, "ERR_STREAM_WRITE_AFTER_END", "write after end");
    else if (w.destroyed)
      err = codeError(Error, "ERR_STREAM_DESTROYED", "Cannot call write after a stream was destroyed");
    if (err) {
      nextTick(cb, err);
      if (!w.destroyed) this.destroy(err);
      return false;
    }
    const len = w.objectMode ? 1 : chunk.length;
    w.length += len;
    const ret = w.length < w.highWaterMark;
    if (!ret) w.needDrain = true;
    w.pendingcb++;
    if (w.writing || w.corked || w.errored || w.constructing) w.queue.push({ chunk, encoding, cb, len });
    else doWrite(this, w, chunk, encoding, cb, len);
    return ret && !w.errored && !w.destroyed;
  };
  function doWrite(stream, w, chunk, encoding, cb, len) {
    w.writing = true;
    let sync = true;
    let called = false;
    const onwrite = (err) => {
      if (called) return;
      called = true;
      w.writing = false;
      w.length -= len;
      w.pendingcb--;
      if (err) {
        if (sync) nextTick(cb, err);
        else cb(err);
        stream.destroy(err);
        return;
      }
      if (w.queue.length > 0 && !w.corked && !w.destroyed) clearBuffer(stream, w);
      const after = () => {
        cb(null);
        afterWrite(stream, w);
      };
      if (sync) nextTick(after);
      else after();
    };
    try {
      stream._write(chunk, encoding, onwrite);
    } catch (err) {
      onwrite(err);
    }
    sync = false;
  }
  function clearBuffer(stream, w) {
    if (w.writing || w.destroyed || w.constructing) return;
    if (w.queue.length > 1 && typeof stream._writev === "function" && stream._writev !== WP._writev) {
      const batch = w.queue.splice(0);
      const len = batch.reduce((n, e) => n + e.len, 0);
      w.pendingcb -= batch.length - 1;
      doWriteV(stream, w, batch, len);
      return;
    }
    const next = w.queue.shift();
    if (next) doWrite(stream, w, next.chunk, next.encoding, next.cb, next.len);
    else maybeFinish(stream, w);
  }
  function doWriteV(stream, w, batch, len) {
    w.writing = true;
    stream._writev(
      batch.map((e) => ({ chunk: e.chunk, encoding: e.encoding })),
      (err) => {
        w.writing = false;
        w.length -= len;
        w.pendingcb--;
        for (const e of batch) nextTick(e.cb, err || null);
        if (err) stream.destroy(err);
        else {
          if (w.queue.length > 0) clearBuffer(stream, w);
          nextTick(afterWrite, stream, w);
        }
      },
    );
  }
  function afterWrite(stream, w) {
    if (w.needDrain && w.length === 0 && !w.ending && !w.destroyed) {
      w.needDrain = false;
      stream.emit("drain");
    }
    if (w.queue.length > 0 && !w.writing && !w.corked) clearBuffer(stream, w);
    maybeFinish(stream, w);
  }
  function maybeFinish(stream, w) {
    if (
      !w.ending ||
      w.finished ||
      w.writing ||
      w.queue.length > 0 ||
      w.destroyed ||
      w.errored ||
      w.pendingcb > 0 ||
      w.constructing
    )
      return;
    if (!w.finalCalled && typeof stream._final === "function") {
      w.finalCalled = true;
      w.pendingcb++;
      let done = false;
      const onfinal = (err) => {
        if (done) return;
        done = true;
        w.pendingcb--;
        if (err) {
          stream.destroy(err);
          return;
        }
        w.prefinished = true;
        stream.emit("prefinish");
        maybeFinish(stream, w);
      };
      try {
        stream._final(onfinal);
      } catch (err) {
        onfinal(err);
      }
      return;
    }
    if (w.finalCalled && !w.prefinished) return;
    if (!w.prefinished) {
      w.prefinished = true;
      stream.emit("prefinish");
    }
    w.finished = true;
    nextTick(() => {
      if (w.destroyed) return;
      stream.emit("finish");
      const r = stream._readableState;
      if (w.autoDestroy && (!r || (r.autoDestroy && (r.endEmitted || r.readable === false))))
        stream.destroy();
    });
  }
  WP.end = function (chunk, encoding, cb) {
    const w = this._writableState;
    if (typeof chunk === "function") {
      cb = chunk;
      chunk = null;
      encoding = null;
    } else if (typeof encoding === "function") {
      cb = encoding;
      encoding = null;
    }
    if (chunk !== null && chunk !== undefined) this.write(chunk, encoding);
    if (w.corked) {
      w.corked = 1;
      this.uncork();
    }
    if (typeof cb === "function") {
      if (w.finished) nextTick(cb);
      else if (w.ending && w.destroyed)
        nextTick(
          cb,
          codeError(Error, "ERR_STREAM_ALREADY_FINISHED", "Cannot call end after a stream was finished"),
        );
      else this.once("finish", () => cb());
    }
    if (!w.ending) {
      w.ending = true;
      w.ended = true;
      maybeFinish(this, w);
    }
    return this;
  };
  WP.cork = function () {
    this._writableState.corked++;
  };
  WP.uncork = function () {
    const w = this._writableState;
    if (w.corked > 0) {
      w.corked--;
      if (w.corked === 0 && !w.writing) clearBuffer(this, w);
    }
  };
  WP.setDefaultEncoding = function (enc) {
    this._writableState.defaultEncoding = enc;
    return this;
  };
  WP.destroy = destroy;
  WP._destroy = RP._destroy;

  // ---------------------------------------------------------------- Duplex, Transform, PassThrough
  function Duplex(options) {
    if (!(this instanceof Duplex)) return new Duplex(options);
    options = options || {};
    Readable.call(this, options);
    Writable.call(this, options);
    this.allowHalfOpen = options.allowHalfOpen !== false;
    if (options.readable === false) {
      this._readableState.ended = true;
      this._readableState.endEmitted = true;
    }
    if (options.writable === false) {
      this._writableState.ending = true;
      this._writableState.ended = true;
      this._writableState.finished = true;
    }
    if (typeof this._construct === "function") constructStream(this);
  }
  inherit(Duplex, Readable);
  for (const key of Object.getOwnPropertyNames(WP)) {
    if (
      key === "constructor" ||
      key === "destroy" ||
      key === "_destroy" ||
      Object.prototype.hasOwnProperty.call(Duplex.prototype, key)
    )
      continue;
    if (key === "destroyed" || key === "closed" || key === "errored") continue;
    Object.defineProperty(Duplex.prototype, key, Object.getOwnPropertyDescriptor(WP, key));
  }
  Duplex.from = function (body) {
    if (body instanceof Duplex) return body;
    if (body && typeof body.then === "function") {
      const r = new PassThrough();
      body.then(
        (v) => r.end(v),
        (err) => r.destroy(err),
      );
      return r;
    }
    return Readable.from(body);
  };

  function Transform(options) {
    if (!(this instanceof Transform)) return new Transform(options);
    options = options || {};
    Duplex.call(this, options);
    this._readableState.sync = false;
    if (typeof options.transform === "function") this._transform = options.transform;
    if (typeof options.flush === "function") this._flush = options.flush;
    this._transformCallback = null;
  }
  inherit(Transform, Duplex);
  Transform.prototype._transform = function () {
    throw codeError(Error, "ERR_METHOD_NOT_IMPLEMENTED", "The _transform() method is not implemented");
  };
  Transform.prototype._write = function (chunk, encoding, cb) {
    const r = this._readableState;
    this._transform(chunk, encoding, (err, data) => {
      if (err) {
        cb(err);
        return;
      }
      if (data !== undefined && data !== null) this.push(data);
      if (r.length < r.highWaterMark || r.flowing) cb();
      else this._transformCallback = cb;
    });
  };
  Transform.prototype._read = function () {
    const cb = this._transformCallback;
    if (cb) {
      this._transformCallback = null;
      cb();
    }
  };
  Transform.prototype._final = function (cb) {
    const done = (err, data) => {
      if (err) {
        cb(err);
        return;
      }
      if (data !== undefined && data !== null) this.push(data);
      this.push(null);
      cb();
    };
    if (typeof this._flush === "function") this._flush(done);
    else done();
  };

  function PassThrough(options) {
    if (!(this instanceof PassThrough)) return new PassThrough(options);
    Transform.call(this, options);
  }
  inherit(PassThrough, Transform);
  PassThrough.prototype._transform = function (chunk, encoding, cb) {
    cb(null, chunk);
  };

  // ---------------------------------------------------------------- utilities
  function addAbortSignal(signal, stream) {
    const onAbort = () => {
      const err = new Error("The operation was aborted");
      err.name = "AbortError";
      err.code = "ABORT_ERR";
      stream.destroy(err);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    return stream;
  }
  function finished(stream, options, callback) {
    if (typeof options === "function") {
      callback = options;
      options = {};
    }
    options = options || {};
    let called = false;
    const done = (err) => {
      if (called) return;
      called = true;
      cleanup();
      callback.call(stream, err);
    };
    const r = stream._readableState;
    const w = stream._writableState;
    const wantRead =
      options.readable !== false && (r ? stream.readable !== false || !r.endEmitted : stream.readable);
    const wantWrite = options.writable !== false && (w ? !w.finished : stream.writable);
    let readDone = !wantRead || (r && r.endEmitted);
    let writeDone = !wantWrite || (w && w.finished);
    const onend = () => {
      readDone = true;
      if (writeDone) done();
    };
    const onfinish = () => {
      writeDone = true;
      if (readDone) done();
    };
    const onerror = (err) => done(err);
    const onclose = () => {
      if (!readDone || !writeDone) {
        const err = new Error("Premature close");
        err.code = "ERR_STREAM_PREMATURE_CLOSE";
        done(err);
      } else done();
    };
    const onrequest = () => stream.req && stream.req.on("finish", onfinish);
    stream.on("end", onend);
    stream.on("finish", onfinish);
    if (options.error !== false) stream.on("error", onerror);
    stream.on("close", onclose);
    if (stream.req) onrequest();
    function cleanup() {
      stream.removeListener("end", onend);
      stream.removeListener("finish", onfinish);
      stream.removeListener("error", onerror);
      stream.removeListener("close", onclose);
    }
    if (readDone && writeDone) nextTick(done);
    else if ((r && r.closed) || (w && w.closed)) nextTick(onclose);
    return cleanup;
  }
  function pipeline(...streams) {
    const callback = typeof streams[streams.length - 1] === "function" ? streams.pop() : () => {};
    if (streams.length === 1 && Array.isArray(streams[0])) streams = streams[0];
    streams = streams.map((s, i) => {
      if (typeof s === "function") s = s(i === 0 ? undefined : streams[i - 1]);
      if (s && typeof s.pipe !== "function" && (s[Symbol.asyncIterator] || s[Symbol.iterator]))
        return Readable.from(s);
      return s;
    });
    let error;
    let remaining = streams.length;
    const destroyAll = (err) => {
      for (const s of streams) if (typeof s.destroy === "function" && !s.destroyed) s.destroy(err);
    };
    let called = false;
    const finish = (err) => {
      if (called) return;
      called = true;
      callback(err);
    };
    streams.forEach((s, i) => {
      const last = i === streams.length - 1;
      finished(s, { readable: !last || !s.writable, writable: i > 0 }, (err) => {
        if (err && !error) {
          error = err;
          destroyAll(err);
          finish(err);
          return;
        }
        if (--remaining === 0 || last) {
          if (last) finish(error);
        }
      });
      if (i > 0) streams[i - 1].pipe(s);
    });
    return streams[streams.length - 1];
  }
  const promises = {
    pipeline: (...streams) =>
      new Promise((resolve, reject) => {
        if (
          streams.length > 0 &&
          streams[streams.length - 1] &&
          typeof streams[streams.length - 1] === "object" &&
          !streams[streams.length - 1].pipe &&
          !streams[streams.length - 1].on &&
          !(Symbol.asyncIterator in streams[streams.length - 1])
        )
          streams.pop();
        pipeline(...streams, (err) => (err ? reject(err) : resolve()));
      }),
    finished: (stream, options) =>
      new Promise((resolve, reject) => finished(stream, options, (err) => (err ? reject(err) : resolve()))),
  };

  if (name === "stream/promises") {
    module.exports = promises;
    return;
  }
  if (name === "readline") {
    module.exports = readline(Readable);
    return;
  }
  module.exports = Stream;
  Object.assign(Stream, {
    Stream,
    Readable,
    Writable,
    Duplex,
    Transform,
    PassThrough,
    pipeline,
    finished,
    promises,
    addAbortSignal,
    isReadable: (s) => Boolean(s && s.readable),
    isErrored: (s) => Boolean(s && s.errored),
    isDisturbed: (s) =>
      Boolean(s && s._readableState && (s._readableState.endEmitted || s._readableState.flowing !== null)),
    getDefaultHighWaterMark: (objectMode) => (objectMode ? 16 : 16384),
    setDefaultHighWaterMark: () => {},
  });

  /** A minimal `readline`: line events over a readable, and `question` over it and an output. */
  function readline() {
    const EventEmitter = EE;
    class Interface extends EventEmitter {
      constructor(input, output) {
        super();
        const opts = input && input.input ? input : { input, output };
        this.input = opts.input;
        this.output = opts.output;
        this.terminal = false;
        this.closed = false;
        this.line = "";
        this._buffer = "";
        this._questions = [];
        this._paused = false;
        this._onData = (chunk) => {
          this._buffer += typeof chunk === "string" ? chunk : chunk.toString("utf8");
          let i;
          while ((i = this._buffer.search(/\r?\n/)) !== -1) {
            const line = this._buffer.slice(0, i);
            this._buffer = this._buffer.slice(this._buffer[i] === "\r" ? i + 2 : i + 1);
            this._line(line);
          }
        };
        this._onEnd = () => {
          if (this._buffer.length > 0) this._line(this._buffer);
          this._buffer = "";
          this.close();
        };
        this.input.on("data", this._onData);
        this.input.on("end", this._onEnd);
      }
      _line(line) {
        const q = this._questions.shift();
        if (q) q(line);
        else this.emit("line", line);
      }
      setPrompt(p) {
        this._prompt = p;
      }
      getPrompt() {
        return this._prompt || "> ";
      }
      prompt() {
        if (this.output) this.output.write(this.getPrompt());
      }
      question(query, opts, cb) {
        if (typeof opts === "function") cb = opts;
        if (this.output) this.output.write(query);
        if (typeof cb === "function") {
          this._questions.push(cb);
          return undefined;
        }
        return new Promise((resolve) => this._questions.push(resolve));
      }
      write(data) {
        if (this.output) this.output.write(data);
      }
      pause() {
        this.input.pause();
        this.emit("pause");
        return this;
      }
      resume() {
        this.input.resume();
        this.emit("resume");
        return this;
      }
      close() {
        if (this.closed) return;
        this.closed = true;
        this.input.removeListener("data", this._onData);
        this.input.removeListener("end", this._onEnd);
        if (typeof this.input.pause === "function") this.input.pause();
        this.emit("close");
      }
      [Symbol.asyncIterator]() {
        const lines = [];
        const waiters = [];
        let ended = false;
        this.on("line", (l) => {
          const w = waiters.shift();
          if (w) w({ value: l, done: false });
          else lines.push(l);
        });
        this.on("close", () => {
          ended = true;
          for (const w of waiters.splice(0)) w({ value: undefined, done: true });
        });
        return {
          next: () => {
            if (lines.length > 0) return Promise.resolve({ value: lines.shift(), done: false });
            if (ended) return Promise.resolve({ value: undefined, done: true });
            return new Promise((resolve) => waiters.push(resolve));
          },
          return: () => {
            this.close();
            return Promise.resolve({ value: undefined, done: true });
          },
          [Symbol.asyncIterator]() {
            return this;
          },
        };
      }
    }
    const createInterface = (input, output) => new Interface(input, output);
    return {
      Interface,
      createInterface,
      promises: { Interface, createInterface },
      clearLine: (s, dir, cb) => cb && cb(),
      clearScreenDown: (s, cb) => cb && cb(),
      cursorTo: (s, x, y, cb) => typeof cb === "function" && cb(),
      moveCursor: (s, dx, dy, cb) => typeof cb === "function" && cb(),
      emitKeypressEvents: () => {},
    };
  }
}
