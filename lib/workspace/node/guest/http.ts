// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-nocheck -- guest code: it runs inside QuickJS (shipped as its source text), not in Node.
/* eslint-disable no-control-regex -- protocol parsing matches control characters on purpose */
/**
 * Guest `http` (and `https`, which has no TLS here): HTTP/1.1 servers and clients over guest
 * sockets. The guest parses and writes HTTP itself, so the host only moves bytes: keep-alive,
 * pipelining (answered in order), chunked bodies both ways, Expect: 100-continue and upgrades are
 * handled here, and a guest that mis-frames a response only confuses its own clients.
 */
export function guestHttp(module, exports, require, internal, name) {
  "use strict";
  const net = require("net");
  const { Readable, Stream } = require("stream");
  const { Buffer } = require("buffer");
  const EventEmitter = require("events");

  const STATUS_CODES = {
    100: "Continue",
    101: "Switching Protocols",
    102: "Processing",
    103: "Early Hints",
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non-Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    207: "Multi-Status",
    208: "Already Reported",
    226: "IM Used",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Payload Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    417: "Expectation Failed",
    418: "I'm a Teapot",
    421: "Misdirected Request",
    422: "Unprocessable Entity",
    423: "Locked",
    424: "Failed Dependency",
    425: "Too Early",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",
    507: "Insufficient Storage",
    508: "Loop Detected",
    509: "Bandwidth Limit Exceeded",
    510: "Not Extended",
    511: "Network Authentication Required",
  };
  const METHODS = [
    "ACL",
    "BIND",
    "CHECKOUT",
    "CONNECT",
    "COPY",
    "DELETE",
    "GET",
    "HEAD",
    "LINK",
    "LOCK",
    "M-SEARCH",
    "MERGE",
    "MKACTIVITY",
    "MKCALENDAR",
    "MKCOL",
    "MOVE",
    "NOTIFY",
    "OPTIONS",
    "PATCH",
    "POST",
    "PROPFIND",
    "PROPPATCH",
    "PURGE",
    "PUT",
    "QUERY",
    "REBIND",
    "REPORT",
    "SEARCH",
    "SOURCE",
    "SUBSCRIBE",
    "TRACE",
    "UNBIND",
    "UNLINK",
    "UNLOCK",
    "UNSUBSCRIBE",
  ];
  const MAX_HEADER_SIZE = 16384;
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
  // Duplicates of these keep the first value, as Node does.
  const SINGLE = new Set([
    "age",
    "authorization",
    "content-length",
    "content-type",
    "etag",
    "expires",
    "from",
    "host",
    "if-modified-since",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "proxy-authorization",
    "referer",
    "retry-after",
    "server",
    "user-agent",
  ]);

  function codeError(Ctor, code, message) {
    const err = new Ctor(message);
    err.code = code;
    return err;
  }
  function validateHeaderName(name) {
    if (typeof name !== "string" || !TOKEN.test(name)) {
      throw codeError(
        TypeError,
        "ERR_INVALID_HTTP_TOKEN",
        'Header name must be a valid HTTP token ["' + name + '"]',
      );
    }
  }
  function validateHeaderValue(name, value) {
    if (value === undefined)
      throw codeError(
        TypeError,
        "ERR_HTTP_INVALID_HEADER_VALUE",
        'Invalid value "undefined" for header "' + name + '"',
      );
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (BAD_VALUE.test(String(v)))
        throw codeError(
          TypeError,
          "ERR_INVALID_CHAR",
          'Invalid character in header content ["' + name + '"]',
        );
    }
  }

  // ------------------------------------------------------------------ parser
  const HEAD = 0;
  const BODY = 1;
  const CHUNK_SIZE = 2;
  const CHUNK_DATA = 3;
  const CHUNK_END = 4;
  const TRAILERS = 5;
  const UNTIL_CLOSE = 6;
  const WAIT = 7;
  const DEAD = 8;

  /**
   * Reads HTTP/1.x messages from a byte stream. `kind` is "request" or "response"; the handlers
   * get the head (returning "skip" for a bodiless response or "upgrade" to stop parsing), body
   * chunks and the end (with trailers). After a message the parser waits for resume().
   */
  class Parser {
    constructor(kind, handlers) {
      this.kind = kind;
      this.h = handlers;
      this.buf = Buffer.alloc(0);
      this.state = HEAD;
      this.remaining = 0;
      this.trailers = [];
    }
    feed(chunk) {
      if (this.state === DEAD) return;
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.run();
    }
    resume() {
      if (this.state !== WAIT) return;
      this.state = HEAD;
      this.run();
    }
    fail(code, message) {
      this.state = DEAD;
      this.buf = Buffer.alloc(0);
      this.h.error(codeError(Error, code, message));
    }
    /** End of input: a body read until close ends here; anything else mid-message is an error. */
    eof() {
      if (this.state === UNTIL_CLOSE) {
        this.state = DEAD;
        this.h.end([]);
        return true;
      }
      if (this.state === HEAD && this.buf.length === 0) return true;
      if (this.state === WAIT || this.state === DEAD) return true;
      return false;
    }
    run() {
      for (;;) {
        switch (this.state) {
          case HEAD: {
            if (this.buf.length === 0) return;
            // Tolerate empty lines before a message, as servers must.
            while (this.buf.length >= 2 && this.buf[0] === 13 && this.buf[1] === 10)
              this.buf = this.buf.subarray(2);
            while (this.buf.length >= 1 && this.buf[0] === 10) this.buf = this.buf.subarray(1);
            let end = this.buf.indexOf("\r\n\r\n");
            let sep = 4;
            if (end === -1) {
              end = this.buf.indexOf("\n\n");
              sep = 2;
            }
            if (end === -1) {
              if (this.buf.length > MAX_HEADER_SIZE) this.fail("HPE_HEADER_OVERFLOW", "Header overflow");
              return;
            }
            if (end > MAX_HEADER_SIZE) {
              this.fail("HPE_HEADER_OVERFLOW", "Header overflow");
              return;
            }
            const head = this.buf.toString("latin1", 0, end);
            this.buf = this.buf.subarray(end + sep);
            if (!this.head(head)) return;
            break;
          }
          case BODY: {
            if (this.remaining === 0) {
              this.complete([]);
              break;
            }
            if (this.buf.length === 0) return;
            const n = Math.min(this.remaining, this.buf.length);
            const part = this.buf.subarray(0, n);
            this.buf = this.buf.subarray(n);
            this.remaining -= n;
            this.h.body(Buffer.from(part));
            if (this.state === DEAD) return;
            break;
          }
          case CHUNK_SIZE: {
            const nl = this.buf.indexOf("\n");
            if (nl === -1) {
              if (this.buf.length > 1024)
                this.fail("HPE_INVALID_CHUNK_SIZE", "Invalid character in chunk size");
              return;
            }
            const line = this.buf.toString("latin1", 0, nl).replace(/\r$/, "");
            this.buf = this.buf.subarray(nl + 1);
            const sizeText = line.split(";")[0].trim();
            if (!/^[0-9a-fA-F]+$/.test(sizeText)) {
              this.fail("HPE_INVALID_CHUNK_SIZE", "Invalid character in chunk size");
              return;
            }
            const size = parseInt(sizeText, 16);
            if (size === 0) {
              this.state = TRAILERS;
              this.trailers = [];
            } else {
              this.remaining = size;
              this.state = CHUNK_DATA;
            }
            break;
          }
          case CHUNK_DATA: {
            if (this.buf.length === 0) return;
            const n = Math.min(this.remaining, this.buf.length);
            const part = this.buf.subarray(0, n);
            this.buf = this.buf.subarray(n);
            this.remaining -= n;
            if (this.remaining === 0) this.state = CHUNK_END;
            this.h.body(Buffer.from(part));
            if (this.state === DEAD) return;
            break;
          }
          case CHUNK_END: {
            if (this.buf.length < 1) return;
            if (this.buf[0] === 10) this.buf = this.buf.subarray(1);
            else if (this.buf[0] === 13) {
              if (this.buf.length < 2) return;
              if (this.buf[1] !== 10) {
                this.fail("HPE_STRICT", "Expected LF after chunk data");
                return;
              }
              this.buf = this.buf.subarray(2);
            } else {
              this.fail("HPE_STRICT", "Expected CRLF after chunk data");
              return;
            }
            this.state = CHUNK_SIZE;
            break;
          }
          case TRAILERS: {
            const nl = this.buf.indexOf("\n");
            if (nl === -1) {
              if (this.buf.length > MAX_HEADER_SIZE) this.fail("HPE_HEADER_OVERFLOW", "Header overflow");
              return;
            }
            const line = this.buf.toString("latin1", 0, nl).replace(/\r$/, "");
            this.buf = this.buf.subarray(nl + 1);
            if (line === "") {
              this.complete(this.trailers);
              break;
            }
            const colon = line.indexOf(":");
            if (colon > 0) this.trailers.push(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
            break;
          }
          case UNTIL_CLOSE: {
            if (this.buf.length === 0) return;
            const part = this.buf;
            this.buf = Buffer.alloc(0);
            this.h.body(Buffer.from(part));
            return;
          }
          default:
            return;
        }
      }
    }
    complete(trailers) {
      this.state = WAIT;
      this.h.end(trailers);
    }
    head(text) {
      const lines = text.split(/\r?\n/);
      const first = lines.shift();
      const info = { rawHeaders: [] };
      if (this.kind === "request") {
        const m = /^([A-Z][A-Z0-9!#$%&'*+.^_`|~-]*) (\S+) HTTP\/(\d)\.(\d)$/.exec(first);
        if (!m) {
          this.fail(
            first.includes("HTTP/") ? "HPE_INVALID_METHOD" : "HPE_INVALID_CONSTANT",
            "Parse Error: Invalid method or request line",
          );
          return false;
        }
        info.method = m[1];
        info.url = m[2];
        info.versionMajor = Number(m[3]);
        info.versionMinor = Number(m[4]);
      } else {
        const m = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/.exec(first);
        if (!m) {
          this.fail("HPE_INVALID_CONSTANT", "Parse Error: Expected HTTP/");
          return false;
        }
        info.versionMajor = Number(m[1]);
        info.versionMinor = Number(m[2]);
        info.statusCode = Number(m[3]);
        info.statusMessage = m[4] || "";
      }
      let contentLength;
      let chunked = false;
      let hasTE = false;
      for (const line of lines) {
        if (line === "") continue;
        if (line[0] === " " || line[0] === "\t") {
          this.fail("HPE_INVALID_HEADER_TOKEN", "Parse Error: obsolete line folding");
          return false;
        }
        const colon = line.indexOf(":");
        const name = colon > 0 ? line.slice(0, colon) : "";
        if (!TOKEN.test(name)) {
          this.fail("HPE_INVALID_HEADER_TOKEN", "Parse Error: Invalid header token");
          return false;
        }
        const value = line.slice(colon + 1).trim();
        info.rawHeaders.push(name, value);
        const lower = name.toLowerCase();
        if (lower === "content-length") {
          if (!/^\d+$/.test(value) || (contentLength !== undefined && contentLength !== Number(value))) {
            this.fail("HPE_UNEXPECTED_CONTENT_LENGTH", "Parse Error: Invalid Content-Length");
            return false;
          }
          contentLength = Number(value);
        } else if (lower === "transfer-encoding") {
          hasTE = true;
          const codings = value
            .toLowerCase()
            .split(",")
            .map((s) => s.trim());
          chunked = codings[codings.length - 1] === "chunked";
        }
      }
      if (hasTE && contentLength !== undefined && this.kind === "request") {
        this.fail("HPE_UNEXPECTED_CONTENT_LENGTH", "Parse Error: Content-Length with Transfer-Encoding");
        return false;
      }
      if (hasTE && !chunked && this.kind === "request") {
        this.fail("HPE_INVALID_TRANSFER_ENCODING", "Parse Error: Request has invalid Transfer-Encoding");
        return false;
      }
      const verdict = this.h.head(info);
      if (this.state === DEAD) return false;
      if (verdict === "upgrade") {
        this.state = DEAD;
        return false;
      }
      if (verdict === "skip") this.complete([]);
      else if (chunked) this.state = CHUNK_SIZE;
      else if (contentLength !== undefined) {
        this.state = BODY;
        this.remaining = contentLength;
      } else if (this.kind === "response") this.state = UNTIL_CLOSE;
      else {
        this.state = BODY;
        this.remaining = 0;
      }
      return true;
    }
    /** Bytes after an upgrade head (they belong to the new protocol). */
    rest() {
      const r = this.buf;
      this.buf = Buffer.alloc(0);
      return r;
    }
  }

  function headersFromRaw(raw) {
    const headers = Object.create(null);
    for (let i = 0; i < raw.length; i += 2) {
      const key = raw[i].toLowerCase();
      const value = raw[i + 1];
      if (!(key in headers)) headers[key] = key === "set-cookie" ? [value] : value;
      else if (key === "set-cookie") headers[key].push(value);
      else if (SINGLE.has(key)) continue;
      else headers[key] += (key === "cookie" ? "; " : ", ") + value;
    }
    return headers;
  }

  // ------------------------------------------------------------------ IncomingMessage
  function IncomingMessage(socket) {
    if (!(this instanceof IncomingMessage)) return new IncomingMessage(socket);
    Readable.call(this, {});
    this.socket = socket;
    this.httpVersionMajor = 1;
    this.httpVersionMinor = 1;
    this.httpVersion = "1.1";
    this.complete = false;
    this.rawHeaders = [];
    this.rawTrailers = [];
    this.trailers = {};
    this.aborted = false;
    this.upgrade = false;
    this.url = "";
    this.method = null;
    this.statusCode = null;
    this.statusMessage = null;
    this._headers = null;
  }
  Object.setPrototypeOf(IncomingMessage.prototype, Readable.prototype);
  Object.setPrototypeOf(IncomingMessage, Readable);
  Object.defineProperty(IncomingMessage.prototype, "connection", {
    get() {
      return this.socket;
    },
  });
  Object.defineProperty(IncomingMessage.prototype, "headers", {
    get() {
      if (!this._headers) this._headers = headersFromRaw(this.rawHeaders);
      return this._headers;
    },
    set(v) {
      this._headers = v;
    },
  });
  Object.defineProperty(IncomingMessage.prototype, "headersDistinct", {
    get() {
      const out = Object.create(null);
      for (let i = 0; i < this.rawHeaders.length; i += 2) {
        const k = this.rawHeaders[i].toLowerCase();
        (out[k] = out[k] || []).push(this.rawHeaders[i + 1]);
      }
      return out;
    },
  });
  IncomingMessage.prototype._read = function () {
    if (this.socket && this._pausedSocket) {
      this._pausedSocket = false;
      this.socket.resume();
    }
  };
  IncomingMessage.prototype._addBody = function (chunk) {
    if (!this.push(chunk) && this.socket) {
      this._pausedSocket = true;
      this.socket.pause();
    }
  };
  IncomingMessage.prototype.setTimeout = function (ms, cb) {
    if (this.socket) this.socket.setTimeout(ms, cb);
    return this;
  };
  IncomingMessage.prototype._destroy = function (err, cb) {
    if (!this.complete) {
      this.aborted = true;
      if (this.socket && !this.socket.destroyed) this.socket.destroy();
    }
    cb(err);
  };
  function fillIncoming(msg, info) {
    msg.httpVersionMajor = info.versionMajor;
    msg.httpVersionMinor = info.versionMinor;
    msg.httpVersion = info.versionMajor + "." + info.versionMinor;
    msg.rawHeaders = info.rawHeaders;
    if (info.method !== undefined) {
      msg.method = info.method;
      msg.url = info.url;
    } else {
      msg.statusCode = info.statusCode;
      msg.statusMessage = info.statusMessage;
    }
  }
  function finishIncoming(msg, trailers) {
    msg.rawTrailers = trailers;
    msg.trailers = headersFromRaw(trailers);
    msg.complete = true;
    msg.push(null);
  }

  // ------------------------------------------------------------------ OutgoingMessage
  function OutgoingMessage() {
    Stream.call(this);
    this._headers = Object.create(null);
    this.headersSent = false;
    this.finished = false;
    this.writableEnded = false;
    this.writableFinished = false;
    this.destroyed = false;
    this.sendDate = false;
    this.chunkedEncoding = false;
    this.useChunkedEncodingByDefault = true;
    this.shouldKeepAlive = true;
    this._hasBody = true;
    this._contentLength = null;
    this._trailer = "";
    this._pendingHead = null;
    this._corked = 0;
    this._corkBuffer = [];
    this.socket = null;
    this.writable = true;
  }
  Object.setPrototypeOf(OutgoingMessage.prototype, Stream.prototype);
  Object.setPrototypeOf(OutgoingMessage, Stream);
  const OP = OutgoingMessage.prototype;
  Object.defineProperty(OP, "connection", {
    get() {
      return this.socket;
    },
  });
  Object.defineProperty(OP, "writableLength", {
    get() {
      return this.socket ? this.socket.writableLength : 0;
    },
  });
  Object.defineProperty(OP, "writableHighWaterMark", {
    get() {
      return 16384;
    },
  });
  Object.defineProperty(OP, "writableCorked", {
    get() {
      return this._corked;
    },
  });
  Object.defineProperty(OP, "writableObjectMode", {
    get() {
      return false;
    },
  });
  Object.defineProperty(OP, "writableNeedDrain", {
    get() {
      return Boolean(this.socket && this.socket.writableNeedDrain);
    },
  });
  OP.setHeader = function (name, value) {
    if (this.headersSent)
      throw codeError(Error, "ERR_HTTP_HEADERS_SENT", "Cannot set headers after they are sent to the client");
    validateHeaderName(name);
    validateHeaderValue(name, value);
    this._headers[name.toLowerCase()] = [
      name,
      Array.isArray(value) ? value.map(String) : typeof value === "number" ? String(value) : value,
    ];
    return this;
  };
  OP.setHeaders = function (headers) {
    const entries = typeof headers.entries === "function" ? headers.entries() : Object.entries(headers);
    for (const [k, v] of entries) this.setHeader(k, v);
    return this;
  };
  OP.appendHeader = function (name, value) {
    if (this.headersSent)
      throw codeError(
        Error,
        "ERR_HTTP_HEADERS_SENT",
        "Cannot append headers after they are sent to the client",
      );
    validateHeaderName(name);
    validateHeaderValue(name, value);
    const key = name.toLowerCase();
    const existing = this._headers[key];
    const add = Array.isArray(value) ? value.map(String) : [String(value)];
    if (!existing) this._headers[key] = [name, add.length === 1 ? add[0] : add];
    else existing[1] = [].concat(existing[1], add);
    return this;
  };
  OP.getHeader = function (name) {
    const e = this._headers[String(name).toLowerCase()];
    return e ? e[1] : undefined;
  };
  OP.getHeaders = function () {
    const out = Object.create(null);
    for (const k of Object.keys(this._headers)) out[k] = this._headers[k][1];
    return out;
  };
  OP.getHeaderNames = function () {
    return Object.keys(this._headers);
  };
  OP.getRawHeaderNames = function () {
    return Object.keys(this._headers).map((k) => this._headers[k][0]);
  };
  OP.hasHeader = function (name) {
    return String(name).toLowerCase() in this._headers;
  };
  OP.removeHeader = function (name) {
    if (this.headersSent)
      throw codeError(
        Error,
        "ERR_HTTP_HEADERS_SENT",
        "Cannot remove headers after they are sent to the client",
      );
    delete this._headers[String(name).toLowerCase()];
  };
  OP.addTrailers = function (headers) {
    const entries = Array.isArray(headers) ? headers : Object.entries(headers);
    for (const [k, v] of entries) {
      validateHeaderName(k);
      validateHeaderValue(k, v);
      this._trailer += k + ": " + v + "\r\n";
    }
  };
  OP.cork = function () {
    this._corked++;
    if (this.socket) this.socket.cork();
  };
  OP.uncork = function () {
    if (this._corked > 0) this._corked--;
    if (this.socket) this.socket.uncork();
  };
  OP.flushHeaders = function () {
    if (!this._headWritten) this._sendHead(false, null);
    if (this._pendingHead !== null) this._writeRaw(Buffer.alloc(0));
  };
  OP.setTimeout = function (ms, cb) {
    if (cb) this.on("timeout", cb);
    if (this.socket) this.socket.setTimeout(ms, () => this.emit("timeout"));
    else this.once("socket", (s) => s.setTimeout(ms, () => this.emit("timeout")));
    return this;
  };
  OP.destroy = function (err) {
    if (this.destroyed) return this;
    this.destroyed = true;
    if (this.socket) this.socket.destroy(err);
    else if (err) process.nextTick(() => this.emit("error", err));
    return this;
  };
  function headerLines(msg) {
    let out = "";
    for (const key of Object.keys(msg._headers)) {
      const [name, value] = msg._headers[key];
      if (Array.isArray(value)) for (const v of value) out += name + ": " + v + "\r\n";
      else out += name + ": " + value + "\r\n";
    }
    return out;
  }
  const CRLF = Buffer.from("\r\n", "latin1");
  function toChunk(data, encoding) {
    if (typeof data === "string") return Buffer.from(data, encoding || "utf8");
    if (data instanceof Uint8Array) return data;
    throw codeError(
      TypeError,
      "ERR_INVALID_ARG_TYPE",
      'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array',
    );
  }
  /** Sends the head (once), choosing the framing: Content-Length when the whole body is known, else chunked. */
  OP._sendHead = function (ending, firstChunk) {
    if (this._headWritten) return;
    const keys = this._headers;
    if (this._hasBody && !("content-length" in keys) && !("transfer-encoding" in keys)) {
      if (ending) {
        if (firstChunk !== null || this._alwaysLength)
          this._headers["content-length"] = ["Content-Length", String(firstChunk ? firstChunk.length : 0)];
      } else if (this.useChunkedEncodingByDefault && this._chunkedAllowed()) {
        this._headers["transfer-encoding"] = ["Transfer-Encoding", "chunked"];
      } else {
        this.shouldKeepAlive = false;
      }
    }
    const te = this.getHeader("transfer-encoding");
    this.chunkedEncoding = this._hasBody && typeof te === "string" && /(^|,)\s*chunked\s*$/i.test(te);
    const head = this._headLine() + headerLines(this) + "\r\n";
    this._headWritten = true;
    this.headersSent = true;
    this._header = head;
    // Sent with the first body bytes: one socket write (one host message) per response part.
    this._pendingHead = Buffer.from(head, "latin1");
  };
  OP._chunkedAllowed = function () {
    return true;
  };
  OP._writeRaw = function (bytes, cb) {
    if (this._pendingHead !== null) {
      bytes = bytes.length === 0 ? this._pendingHead : Buffer.concat([this._pendingHead, bytes]);
      this._pendingHead = null;
    }
    if (!this.socket || this.socket.destroyed) {
      if (cb)
        process.nextTick(
          cb,
          codeError(Error, "ERR_STREAM_DESTROYED", "Cannot call write after a stream was destroyed"),
        );
      return false;
    }
    return this.socket.write(bytes, cb);
  };
  OP.write = function (chunk, encoding, cb) {
    if (typeof encoding === "function") {
      cb = encoding;
      encoding = undefined;
    }
    if (this.writableEnded) {
      const err = codeError(Error, "ERR_STREAM_WRITE_AFTER_END", "write after end");
      process.nextTick(() => {
        if (cb) cb(err);
        this.emit("error", err);
      });
      return true;
    }
    if (chunk === null)
      throw codeError(TypeError, "ERR_STREAM_NULL_VALUES", "May not write null values to stream");
    const bytes = toChunk(chunk, encoding);
    if (!this._headWritten) this._sendHead(false, null);
    if (!this._hasBody) {
      if (cb) process.nextTick(cb);
      return true;
    }
    if (bytes.length === 0) {
      if (cb) process.nextTick(cb);
      return true;
    }
    if (this.chunkedEncoding) {
      const framed = Buffer.concat([Buffer.from(bytes.length.toString(16) + "\r\n", "latin1"), bytes, CRLF]);
      return this._writeRaw(framed, cb);
    }
    return this._writeRaw(bytes, cb);
  };
  OP.end = function (chunk, encoding, cb) {
    if (typeof chunk === "function") {
      cb = chunk;
      chunk = null;
    } else if (typeof encoding === "function") {
      cb = encoding;
      encoding = undefined;
    }
    if (this.writableEnded) {
      if (cb) process.nextTick(cb);
      return this;
    }
    const bytes = chunk !== null && chunk !== undefined ? toChunk(chunk, encoding) : null;
    if (!this._headWritten) this._sendHead(true, bytes);
    let last = Buffer.alloc(0);
    if (bytes !== null && bytes.length > 0 && this._hasBody) {
      last = this.chunkedEncoding
        ? Buffer.concat([Buffer.from(bytes.length.toString(16) + "\r\n", "latin1"), bytes, CRLF])
        : bytes;
    }
    this.writableEnded = true;
    this.finished = true;
    const done = () => {
      this.writableFinished = true;
      this.emit("prefinish");
      this.emit("finish");
      if (cb) cb();
      this._onFinish();
    };
    if (this.chunkedEncoding && this._hasBody)
      last = Buffer.concat([last, Buffer.from("0\r\n" + this._trailer + "\r\n", "latin1")]);
    if (this.socket && !this.socket.destroyed) this._writeRaw(last, done);
    else process.nextTick(done);
    return this;
  };
  OP._onFinish = function () {};

  // ------------------------------------------------------------------ ServerResponse
  function ServerResponse(req, options) {
    if (!(this instanceof ServerResponse)) return new ServerResponse(req, options);
    OutgoingMessage.call(this);
    this.req = req;
    this.statusCode = 200;
    this.statusMessage = undefined;
    this.sendDate = true;
    this._sent100 = false;
    this._expect_continue = false;
    if (req.method === "HEAD") this._hasBody = false;
    this.shouldKeepAlive = req._keepAlive;
    if (req.httpVersionMajor < 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor === 0)) {
      this.useChunkedEncodingByDefault = false;
      this._http10 = true;
    }
    this._alwaysLength = true;
  }
  Object.setPrototypeOf(ServerResponse.prototype, OutgoingMessage.prototype);
  Object.setPrototypeOf(ServerResponse, OutgoingMessage);
  const SP = ServerResponse.prototype;
  SP.assignSocket = function (socket) {
    this.socket = socket;
    this.emit("socket", socket);
  };
  SP.detachSocket = function () {
    this.socket = null;
  };
  SP.writeHead = function (statusCode, reason, headers) {
    if (this.headersSent)
      throw codeError(
        Error,
        "ERR_HTTP_HEADERS_SENT",
        "Cannot write headers after they are sent to the client",
      );
    const code = statusCode | 0;
    if (code < 100 || code > 999)
      throw codeError(RangeError, "ERR_HTTP_INVALID_STATUS_CODE", "Invalid status code: " + statusCode);
    if (typeof reason !== "string") {
      headers = reason;
      reason = undefined;
    }
    this.statusCode = code;
    if (reason !== undefined) this.statusMessage = reason;
    if (Array.isArray(headers)) {
      if (headers.length > 0 && Array.isArray(headers[0])) {
        for (const [k, v] of headers) this.appendHeader(k, v);
      } else {
        for (let i = 0; i + 1 < headers.length; i += 2) this.appendHeader(headers[i], headers[i + 1]);
      }
    } else if (headers) {
      for (const k of Object.keys(headers)) if (headers[k] !== undefined) this.setHeader(k, headers[k]);
    }
    // Node sends the head with the first write but counts it as sent from here on.
    this.headersSent = true;
    return this;
  };
  SP.writeContinue = function (cb) {
    this._writeRaw(Buffer.from("HTTP/1.1 100 Continue\r\n\r\n", "latin1"), cb);
    this._sent100 = true;
  };
  SP.writeProcessing = function (cb) {
    this._writeRaw(Buffer.from("HTTP/1.1 102 Processing\r\n\r\n", "latin1"), cb);
  };
  SP.writeEarlyHints = function (hints, cb) {
    let head = "HTTP/1.1 103 Early Hints\r\n";
    for (const k of Object.keys(hints)) {
      const v = hints[k];
      for (const x of Array.isArray(v) ? v : [v]) head += k + ": " + x + "\r\n";
    }
    this._writeRaw(Buffer.from(head + "\r\n", "latin1"), cb);
  };
  SP._headLine = function () {
    const code = this.statusCode;
    if (code === 204 || code === 304 || (code >= 100 && code < 200)) this._hasBody = false;
    if (!this._hasBody) {
      delete this._headers["transfer-encoding"];
      if (code === 204 || code === 304) delete this._headers["content-length"];
    }
    const message = this.statusMessage !== undefined ? this.statusMessage : STATUS_CODES[code] || "unknown";
    if (this.sendDate && !("date" in this._headers)) this._headers.date = ["Date", new Date().toUTCString()];
    const connection = this.getHeader("connection");
    if (typeof connection === "string" && /close/i.test(connection)) this.shouldKeepAlive = false;
    if (this._server && this._server._httpClosing) this.shouldKeepAlive = false;
    if (!("connection" in this._headers)) {
      if (this.shouldKeepAlive) {
        this._headers.connection = ["Connection", "keep-alive"];
        const timeout = this._server ? this._server.keepAliveTimeout : 5000;
        if (timeout > 0 && !("keep-alive" in this._headers))
          this._headers["keep-alive"] = ["Keep-Alive", "timeout=" + Math.floor(timeout / 1000)];
      } else this._headers.connection = ["Connection", "close"];
    }
    return "HTTP/1." + (this._http10 ? "0" : "1") + " " + code + " " + message + "\r\n";
  };
  SP._chunkedAllowed = function () {
    return !this._http10;
  };
  SP._onFinish = function () {
    this.emit("close");
    if (this._onDone) this._onDone(this);
  };
  Object.defineProperty(SP, "headersSent", {
    get() {
      return Boolean(this._headerSent);
    },
    set(v) {
      this._headerSent = v;
    },
  });

  // ------------------------------------------------------------------ Server
  function Server(options, handler) {
    if (!(this instanceof Server)) return new Server(options, handler);
    if (typeof options === "function") {
      handler = options;
      options = {};
    }
    options = options || {};
    net.Server.call(this, { allowHalfOpen: true });
    if (handler) this.on("request", handler);
    this.keepAliveTimeout = options.keepAliveTimeout !== undefined ? options.keepAliveTimeout : 5000;
    this.headersTimeout = options.headersTimeout !== undefined ? options.headersTimeout : 60000;
    this.requestTimeout = options.requestTimeout !== undefined ? options.requestTimeout : 300000;
    this.timeout = 0;
    this.maxHeadersCount = null;
    this.maxRequestsPerSocket = options.maxRequestsPerSocket || 0;
    this._connSet = new Set();
    this._IncomingMessage = options.IncomingMessage || IncomingMessage;
    this._ServerResponse = options.ServerResponse || ServerResponse;
  }
  Object.setPrototypeOf(Server.prototype, net.Server.prototype);
  Object.setPrototypeOf(Server, net.Server);
  Server.prototype.setTimeout = function (ms, cb) {
    this.timeout = ms;
    if (cb) this.on("timeout", cb);
    return this;
  };
  Server.prototype.closeIdleConnections = function () {
    for (const conn of this._connSet) if (conn.idle) conn.socket.destroy();
  };
  Server.prototype.closeAllConnections = function () {
    for (const conn of this._connSet) conn.socket.destroy();
  };
  const netClose = net.Server.prototype.close;
  Server.prototype.close = function (cb) {
    netClose.call(this, cb);
    this._httpClosing = true;
    this.closeIdleConnections();
    return this;
  };
  Server.prototype._accepted = function (socket) {
    this.emit("connection", socket);
    if (socket.destroyed) return;
    serveConnection(this, socket);
  };

  function simpleResponse(socket, status, extra) {
    if (socket.destroyed) return;
    socket.end(
      Buffer.from(
        "HTTP/1.1 " +
          status +
          " " +
          STATUS_CODES[status] +
          "\r\nConnection: close\r\n" +
          (extra || "") +
          "\r\n",
        "latin1",
      ),
    );
  }

  function serveConnection(server, socket) {
    const conn = { socket, idle: true, queue: [], current: null, requests: 0, keepAliveTimer: null };
    server._connSet.add(conn);
    let req = null;
    const armIdle = () => {
      conn.idle = true;
      if (conn.keepAliveTimer) clearTimeout(conn.keepAliveTimer);
      if (server.keepAliveTimeout > 0 && conn.requests > 0) {
        conn.keepAliveTimer = setTimeout(() => socket.destroy(), server.keepAliveTimeout);
        conn.keepAliveTimer.unref();
      }
    };
    if (server.timeout > 0) {
      socket.setTimeout(server.timeout, () => {
        if (!server.emit("timeout", socket)) socket.destroy();
      });
    }
    const parser = new Parser("request", {
      head(info) {
        conn.idle = false;
        if (conn.keepAliveTimer) {
          clearTimeout(conn.keepAliveTimer);
          conn.keepAliveTimer = null;
        }
        conn.requests++;
        req = new server._IncomingMessage(socket);
        fillIncoming(req, info);
        const headers = req.headers;
        const connection = String(headers.connection || "").toLowerCase();
        req._keepAlive =
          req.httpVersionMajor === 1 && req.httpVersionMinor >= 1
            ? !/\bclose\b/.test(connection)
            : /\bkeep-alive\b/.test(connection);
        if (server.maxRequestsPerSocket > 0 && conn.requests >= server.maxRequestsPerSocket)
          req._keepAlive = false;
        if (
          req.httpVersionMajor === 1 &&
          req.httpVersionMinor >= 1 &&
          headers.host === undefined &&
          server.requireHostHeader !== false
        ) {
          parser.state = DEAD;
          simpleResponse(socket, 400);
          return "upgrade";
        }
        if (/\bupgrade\b/.test(connection) && headers.upgrade && server.listenerCount("upgrade") > 0) {
          req.upgrade = true;
          const r = req;
          process.nextTick(() => {
            socket.removeListener("data", onData);
            socket.removeListener("end", onEnd);
            server._connSet.delete(conn);
            if (socket._server) {
              // The upgraded socket now belongs to the listener.
            }
            r.complete = true;
            r.push(null);
            server.emit("upgrade", r, socket, parser.rest());
          });
          return "upgrade";
        }
        if (req.method === "CONNECT" && server.listenerCount("connect") > 0) {
          const r = req;
          process.nextTick(() => {
            socket.removeListener("data", onData);
            socket.removeListener("end", onEnd);
            server._connSet.delete(conn);
            server.emit("connect", r, socket, parser.rest());
          });
          return "upgrade";
        }
        const res = new server._ServerResponse(req);
        res._server = server;
        res.shouldKeepAlive = req._keepAlive;
        res.assignSocket(socket);
        res._onDone = responseDone;
        conn.queue.push({ req, res });
        if (conn.current === null) startNext();
        return undefined;
      },
      body(chunk) {
        if (req) req._addBody(chunk);
      },
      end(trailers) {
        const r = req;
        req = null;
        if (r) finishIncoming(r, trailers);
        // The next request on this connection waits until this one's response is done (HTTP/1.1 ordering).
        if (conn.current === null && conn.queue.length === 0) {
          parser.resume();
          if (parser.state === HEAD) armIdle();
        }
      },
      error(err) {
        err.bytesParsed = 0;
        err.rawPacket = null;
        if (server.listenerCount("clientError") > 0) server.emit("clientError", err, socket);
        else simpleResponse(socket, err.code === "HPE_HEADER_OVERFLOW" ? 431 : 400);
      },
    });
    function startNext() {
      const next = conn.queue.shift();
      if (!next) return;
      conn.current = next;
      const { req: r, res } = next;
      const expect = String(r.headers.expect || "").toLowerCase();
      if (expect === "100-continue") {
        if (server.listenerCount("checkContinue") > 0) {
          server.emit("checkContinue", r, res);
          return;
        }
        res.writeContinue();
      } else if (expect !== "" && server.listenerCount("checkExpectation") > 0) {
        server.emit("checkExpectation", r, res);
        return;
      }
      server.emit("request", r, res);
    }
    function responseDone(res) {
      if (!conn.current || conn.current.res !== res) return;
      conn.current = null;
      if (!res.shouldKeepAlive) {
        socket.end();
        return;
      }
      if (conn.queue.length > 0) startNext();
      else {
        parser.resume();
        if (parser.state === HEAD && parser.buf.length === 0) armIdle();
      }
    }
    const onData = (chunk) => parser.feed(chunk);
    const onEnd = () => {
      if (!parser.eof() && req) {
        req.aborted = true;
        req.emit("aborted");
        req.destroy(codeError(Error, "ECONNRESET", "aborted"));
      }
      if (conn.current === null) socket.end();
    };
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", (err) => {
      if (server.listenerCount("clientError") > 0) server.emit("clientError", err, socket);
    });
    socket.on("close", () => {
      server._connSet.delete(conn);
      if (conn.keepAliveTimer) clearTimeout(conn.keepAliveTimer);
      for (const entry of [conn.current].concat(conn.queue)) {
        if (!entry) continue;
        if (!entry.req.complete) {
          entry.req.aborted = true;
          entry.req.emit("aborted");
          if (!entry.req.destroyed) entry.req.destroy(codeError(Error, "ECONNRESET", "aborted"));
        }
        if (!entry.res.writableFinished) entry.res.emit("close");
      }
    });
  }

  // ------------------------------------------------------------------ client
  function Agent(options) {
    if (!(this instanceof Agent)) return new Agent(options);
    EventEmitter.call(this);
    this.options = Object.assign({}, options);
    this.keepAlive = Boolean(this.options.keepAlive);
    this.maxSockets = this.options.maxSockets || Infinity;
    this.maxFreeSockets = this.options.maxFreeSockets || 256;
    this.sockets = {};
    this.freeSockets = {};
    this.requests = {};
    this.defaultPort = 80;
    this.protocol = "http:";
  }
  Object.setPrototypeOf(Agent.prototype, EventEmitter.prototype);
  Object.setPrototypeOf(Agent, EventEmitter);
  Agent.prototype.createConnection = function (options, cb) {
    return net.createConnection(options, cb);
  };
  Agent.prototype.destroy = function () {
    for (const key of Object.keys(this.freeSockets)) for (const s of this.freeSockets[key]) s.destroy();
    this.freeSockets = {};
  };
  Agent.prototype.getName = function (options) {
    return (options.host || "localhost") + ":" + (options.port || 80) + ":";
  };
  const globalAgent = new Agent({ keepAlive: true });

  function ClientRequest(input, options, cb) {
    if (!(this instanceof ClientRequest)) return new ClientRequest(input, options, cb);
    OutgoingMessage.call(this);
    if (
      typeof input === "string" ||
      (input && typeof input.href === "string" && typeof input.searchParams === "object")
    ) {
      const u = typeof input === "string" ? new URL(input) : input;
      const fromUrl = {
        protocol: u.protocol,
        hostname: u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        auth: u.username ? decodeURIComponent(u.username) + ":" + decodeURIComponent(u.password) : undefined,
      };
      if (typeof options === "function") {
        cb = options;
        options = {};
      }
      options = Object.assign(fromUrl, options || {});
    } else {
      if (typeof options === "function") cb = options;
      options = Object.assign({}, input);
    }
    if (cb) this.once("response", cb);
    const protocol = options.protocol || "http:";
    if (protocol !== "http:") {
      const err = codeError(
        Error,
        "ERR_INVALID_PROTOCOL",
        'Protocol "' + protocol + '" not supported. Expected "http:"',
      );
      throw err;
    }
    this.method = String(options.method || "GET").toUpperCase();
    if (!TOKEN.test(this.method))
      throw codeError(
        TypeError,
        "ERR_INVALID_HTTP_TOKEN",
        'Method must be a valid HTTP token ["' + this.method + '"]',
      );
    this.path = options.path || "/";
    if (/[\u0000-\u0020]/.test(this.path))
      throw codeError(TypeError, "ERR_UNESCAPED_CHARACTERS", "Request path contains unescaped characters");
    this.host = options.hostname || (options.host ? String(options.host).replace(/:\d+$/, "") : "localhost");
    this.port = Number(options.port || options.defaultPort || 80);
    this.protocol = "http:";
    this.agent = options.agent === undefined ? globalAgent : options.agent;
    this.aborted = false;
    this.reusedSocket = false;
    this.maxHeadersCount = null;
    this.res = null;
    this.useChunkedEncodingByDefault = !["GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"].includes(
      this.method,
    );
    this.shouldKeepAlive = false;
    if (this.method === "HEAD") this._expectNoBody = true;
    const headers = options.headers || {};
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) this.appendHeader(headers[i], headers[i + 1]);
    } else for (const k of Object.keys(headers)) if (headers[k] !== undefined) this.setHeader(k, headers[k]);
    if (!this.hasHeader("host") && options.setHost !== false) {
      const defaultPort = 80;
      this.setHeader(
        "Host",
        (this.host.includes(":") ? "[" + this.host + "]" : this.host) +
          (this.port !== defaultPort ? ":" + this.port : ""),
      );
    }
    if (options.auth && !this.hasHeader("authorization"))
      this.setHeader("Authorization", "Basic " + Buffer.from(options.auth).toString("base64"));
    if (!this.hasHeader("connection")) this.setHeader("Connection", "close");
    if (options.timeout) this.setTimeout(options.timeout);
    if (options.signal) {
      const signal = options.signal;
      const onAbort = () =>
        this.destroy(
          Object.assign(new Error("The operation was aborted"), { name: "AbortError", code: "ABORT_ERR" }),
        );
      if (signal.aborted) process.nextTick(onAbort);
      else signal.addEventListener("abort", onAbort, { once: true });
    }
    const createConnection =
      options.createConnection ||
      (this.agent && this.agent.createConnection
        ? this.agent.createConnection.bind(this.agent)
        : net.createConnection);
    const socket = createConnection({ host: this.host, port: this.port });
    this._attach(socket);
  }
  Object.setPrototypeOf(ClientRequest.prototype, OutgoingMessage.prototype);
  Object.setPrototypeOf(ClientRequest, OutgoingMessage);
  const CP = ClientRequest.prototype;
  CP._headLine = function () {
    return this.method + " " + this.path + " HTTP/1.1\r\n";
  };
  CP._attach = function (socket) {
    this.socket = socket;
    let res = null;
    const parser = new Parser("response", {
      head: (info) => {
        if (info.statusCode >= 100 && info.statusCode < 200 && info.statusCode !== 101) {
          if (info.statusCode === 100) this.emit("continue");
          else
            this.emit("information", {
              statusCode: info.statusCode,
              statusMessage: info.statusMessage,
              headers: headersFromRaw(info.rawHeaders),
              rawHeaders: info.rawHeaders,
            });
          // A 1xx is followed by the real head.
          process.nextTick(() => parser.resume());
          return "skip";
        }
        res = new IncomingMessage(socket);
        fillIncoming(res, info);
        res.req = this;
        this.res = res;
        if (
          info.statusCode === 101 ||
          (this.method === "CONNECT" && info.statusCode >= 200 && info.statusCode < 300)
        ) {
          const ev = info.statusCode === 101 ? "upgrade" : "connect";
          if (this.listenerCount(ev) > 0) {
            process.nextTick(() => {
              socket.removeListener("data", onData);
              socket.removeListener("end", onEnd);
              this.emit(ev, res, socket, parser.rest());
            });
            return "upgrade";
          }
        }
        process.nextTick(() => {
          if (!this.emit("response", res)) res.resume();
        });
        const noBody = this.method === "HEAD" || info.statusCode === 204 || info.statusCode === 304;
        return noBody ? "skip" : undefined;
      },
      body: (chunk) => {
        if (res) res._addBody(chunk);
      },
      end: (trailers) => {
        if (!res) return;
        const r = res;
        process.nextTick(() => {
          finishIncoming(r, trailers);
          socket.end();
        });
      },
      error: (err) => this._fail(err),
    });
    const onData = (chunk) => parser.feed(chunk);
    const onEnd = () => {
      if (!parser.eof()) {
        if (res && !res.complete) {
          res.aborted = true;
          res.emit("aborted");
          res.destroy(codeError(Error, "ECONNRESET", "aborted"));
        } else if (!res) this._fail(codeError(Error, "ECONNRESET", "socket hang up"));
      }
    };
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", (err) => this._fail(err));
    socket.on("close", () => {
      if (!res) this._fail(codeError(Error, "ECONNRESET", "socket hang up"));
      else if (!res.complete && !res.destroyed) {
        res.aborted = true;
        res.emit("aborted");
        res.destroy(codeError(Error, "ECONNRESET", "aborted"));
      }
      this.emit("close");
    });
    process.nextTick(() => this.emit("socket", socket));
  };
  CP._fail = function (err) {
    if (this._failed) return;
    this._failed = true;
    if (this.socket && !this.socket.destroyed) this.socket.destroy();
    if (this.res) return;
    process.nextTick(() => this.emit("error", err));
  };
  CP.abort = function () {
    if (this.aborted) return;
    this.aborted = true;
    process.nextTick(() => this.emit("abort"));
    this.destroy();
  };
  CP.destroy = function (err) {
    if (this.destroyed) return this;
    this.destroyed = true;
    if (err) this._fail(err);
    else if (!this.res) this._fail(codeError(Error, "ECONNRESET", "socket hang up"));
    if (this.socket) this.socket.destroy();
    return this;
  };
  CP.setNoDelay = function () {};
  CP.setSocketKeepAlive = function () {};
  CP.getRawHeaderNames = OP.getRawHeaderNames;

  function request(input, options, cb) {
    return new ClientRequest(input, options, cb);
  }
  function get(input, options, cb) {
    const req = request(input, options, cb);
    req.end();
    return req;
  }

  if (name === "https") {
    const noTls = () => {
      throw codeError(
        Error,
        "ERR_FEATURE_UNAVAILABLE_ON_PLATFORM",
        "TLS is not available inside the workspace: serve and call plain http on loopback",
      );
    };
    module.exports = {
      Agent,
      globalAgent: new Agent(),
      createServer: noTls,
      Server: noTls,
      request: noTls,
      get: noTls,
    };
    return;
  }
  module.exports = {
    METHODS,
    STATUS_CODES,
    Agent,
    ClientRequest,
    IncomingMessage,
    OutgoingMessage,
    Server,
    ServerResponse,
    createServer: (options, handler) => new Server(options, handler),
    request,
    get,
    globalAgent,
    maxHeaderSize: MAX_HEADER_SIZE,
    validateHeaderName,
    validateHeaderValue,
    setMaxIdleHTTPParsers: () => {},
  };
}
