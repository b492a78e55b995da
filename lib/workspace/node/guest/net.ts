// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-nocheck -- guest code: it runs inside QuickJS (shipped as its source text), not in Node.
/**
 * Guest `net` (and a loopback-only `dns`): sockets and servers over the kernel's socket table.
 * The host owns the kernel handles; this side sees them as ids and events (accept, data, end,
 * close, error, written) and sends writes and closes back asynchronously. Writes complete when
 * the host has written them, which is what gives `write()` its backpressure.
 */
export function guestNet(module, exports, require, internal, name) {
  "use strict";
  const EventEmitter = require("events");
  const { Duplex } = require("stream");

  if (name === "dns") {
    module.exports = dnsModule();
    return;
  }

  const sockets = new Map();
  const servers = new Map();
  let nextId = 1;
  const post = internal.post;

  function sysError(code, syscall, address, port, message) {
    const err = new Error(
      syscall +
        " " +
        code +
        (address ? " " + address + (port !== undefined ? ":" + port : "") : "") +
        (message && !code ? message : ""),
    );
    err.code = code;
    err.errno = -(internal.ERRNO[code] || 5);
    err.syscall = syscall;
    if (address) err.address = address;
    if (port !== undefined) err.port = port;
    return err;
  }

  function isIPv4(s) {
    return /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(String(s));
  }
  function isIPv6(s) {
    s = String(s);
    return s.includes(":") && /^[0-9a-fA-F:.]+$/.test(s) && s.split("::").length <= 2;
  }
  function isIP(s) {
    return isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0;
  }

  function Socket(options) {
    if (!(this instanceof Socket)) return new Socket(options);
    options = options || {};
    Duplex.call(this, {
      allowHalfOpen: Boolean(options.allowHalfOpen),
      emitClose: false,
      autoDestroy: true,
      decodeStrings: true,
    });
    this.connecting = false;
    this._id = options._id;
    this._host = null;
    this._closedByHost = false;
    this._pending = new Map();
    this._seq = 0;
    this._refed = false;
    this._pausedHost = false;
    this._timeoutMs = 0;
    this._timer = null;
    this.bytesRead = 0;
    this.bytesWritten = 0;
    this.remoteAddress = undefined;
    this.remotePort = undefined;
    this.remoteFamily = undefined;
    this.localAddress = undefined;
    this.localPort = undefined;
    this.server = null;
    this._server = null;
    if (this._id !== undefined) attach(this, this._id);
    this.on("end", () => {
      if (!this.allowHalfOpen && !this.writableEnded) this.end();
    });
  }
  Object.setPrototypeOf(Socket.prototype, Duplex.prototype);
  Object.setPrototypeOf(Socket, Duplex);

  function attach(socket, id) {
    socket._id = id;
    sockets.set(id, socket);
    if (!socket._refed && !socket._unrefed) {
      socket._refed = true;
      internal.ref();
    }
  }
  function detach(socket) {
    if (socket._id !== undefined) sockets.delete(socket._id);
    if (socket._refed) {
      socket._refed = false;
      internal.unref();
    }
    if (socket._timer) {
      clearTimeout(socket._timer);
      socket._timer = null;
    }
  }

  Object.defineProperty(Socket.prototype, "readyState", {
    get() {
      if (this.connecting) return "opening";
      if (this.readable && this.writable) return "open";
      if (this.readable && !this.writable) return "readOnly";
      if (!this.readable && this.writable) return "writeOnly";
      return "closed";
    },
  });
  Object.defineProperty(Socket.prototype, "pending", {
    get() {
      return this._id === undefined || this.connecting;
    },
  });
  Object.defineProperty(Socket.prototype, "bufferSize", {
    get() {
      return this.writableLength;
    },
  });
  Socket.prototype._activity = function () {
    if (this._timer) this._timer.refresh();
  };
  Socket.prototype._read = function () {
    if (this._pausedHost && this._id !== undefined && !this._closedByHost) {
      this._pausedHost = false;
      post("resume", { id: this._id });
    }
  };
  Socket.prototype._write = function (chunk, encoding, cb) {
    if (this.connecting || this._id === undefined) {
      this.once("connect", () => this._write(chunk, encoding, cb));
      return;
    }
    if (this._closedByHost) {
      cb(sysError("EPIPE", "write"));
      return;
    }
    const seq = ++this._seq;
    this._pending.set(seq, cb);
    this.bytesWritten += chunk.length;
    this._activity();
    post("write", { id: this._id, seq }, chunk);
  };
  Socket.prototype._final = function (cb) {
    if (this.connecting || this._id === undefined) {
      this.once("connect", () => this._final(cb));
      return;
    }
    if (!this._closedByHost) post("end", { id: this._id });
    cb();
  };
  Socket.prototype._destroy = function (err, cb) {
    if (this._id !== undefined && !this._closedByHost) {
      this._closedByHost = true;
      post("destroy", { id: this._id });
    }
    for (const pending of this._pending.values()) pending(sysError("EPIPE", "write"));
    this._pending.clear();
    detach(this);
    const server = this._server;
    cb(err);
    process.nextTick(() => {
      this.emit("close", Boolean(err));
      if (server) server._connectionClosed();
    });
  };
  Socket.prototype.connect = function (...args) {
    let options = {};
    let cb;
    if (typeof args[args.length - 1] === "function") cb = args.pop();
    if (args[0] !== null && typeof args[0] === "object") options = args[0];
    else {
      options.port = args[0];
      if (typeof args[1] === "string") options.host = args[1];
    }
    if (options.path !== undefined) {
      process.nextTick(() => this.destroy(sysError("EACCES", "connect", options.path, undefined)));
      return this;
    }
    const port = Number(options.port);
    const host = options.host || "localhost";
    if (!(port >= 0 && port < 65536) || (typeof options.port === "string" && options.port.trim() === "")) {
      const err = new RangeError("Port should be >= 0 and < 65536. Received " + options.port + ".");
      err.code = "ERR_SOCKET_BAD_PORT";
      throw err;
    }
    if (cb) this.once("connect", cb);
    const id = nextId++;
    this.connecting = true;
    this._host = host;
    this.remotePort = port;
    this.remoteAddress = isIP(host) ? host : "127.0.0.1";
    this.remoteFamily = isIPv6(this.remoteAddress) ? "IPv6" : "IPv4";
    attach(this, id);
    post("connect", { id, host, port });
    return this;
  };
  Socket.prototype.setTimeout = function (ms, cb) {
    this._timeoutMs = ms;
    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    if (cb) {
      if (ms === 0) this.removeListener("timeout", cb);
      else this.once("timeout", cb);
    }
    if (ms > 0) {
      this._timer = setTimeout(() => {
        this._timer = null;
        this.emit("timeout");
      }, ms);
      this._timer.unref();
    }
    return this;
  };
  Object.defineProperty(Socket.prototype, "timeout", {
    get() {
      return this._timeoutMs || undefined;
    },
  });
  Socket.prototype.setNoDelay = function () {
    return this;
  };
  Socket.prototype.setKeepAlive = function () {
    return this;
  };
  Socket.prototype.address = function () {
    return { address: this.localAddress || "127.0.0.1", family: "IPv4", port: this.localPort || 0 };
  };
  Socket.prototype.ref = function () {
    this._unrefed = false;
    if (!this._refed && this._id !== undefined && sockets.has(this._id)) {
      this._refed = true;
      internal.ref();
    }
    return this;
  };
  Socket.prototype.unref = function () {
    this._unrefed = true;
    if (this._refed) {
      this._refed = false;
      internal.unref();
    }
    return this;
  };
  Socket.prototype.resetAndDestroy = function () {
    return this.destroy();
  };
  Socket.prototype.destroySoon = function () {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once("finish", () => this.destroy());
  };

  function Server(options, listener) {
    if (!(this instanceof Server)) return new Server(options, listener);
    EventEmitter.call(this);
    if (typeof options === "function") {
      listener = options;
      options = {};
    }
    this._options = options || {};
    if (listener) this.on("connection", listener);
    this._id = undefined;
    this._port = null;
    this._connections = 0;
    this._refed = false;
    this._unrefed = false;
    this._closing = false;
    this.listening = false;
    this.maxConnections = undefined;
  }
  Object.setPrototypeOf(Server.prototype, EventEmitter.prototype);
  Object.setPrototypeOf(Server, EventEmitter);
  Server.prototype.listen = function (...args) {
    let cb;
    if (typeof args[args.length - 1] === "function") cb = args.pop();
    let port = 0;
    let host;
    let backlog = 511;
    if (args[0] !== null && typeof args[0] === "object") {
      port = args[0].port === undefined ? 0 : args[0].port;
      host = args[0].host;
      if (args[0].backlog) backlog = args[0].backlog;
      if (args[0].path !== undefined) {
        process.nextTick(() => this.emit("error", sysError("EACCES", "listen", args[0].path)));
        return this;
      }
    } else {
      if (args[0] !== undefined && args[0] !== null) port = args[0];
      if (typeof args[1] === "string") host = args[1];
      if (typeof args[1] === "number") backlog = args[1];
      if (typeof args[2] === "number") backlog = args[2];
    }
    const p = Number(port);
    if (!(p >= 0 && p < 65536) || (typeof port === "string" && port.trim() === "")) {
      const err = new RangeError("options.port should be >= 0 and < 65536. Received " + port + ".");
      err.code = "ERR_SOCKET_BAD_PORT";
      throw err;
    }
    if (this._id !== undefined) {
      const err = new Error("Listen method has been called more than once without closing.");
      err.code = "ERR_SERVER_ALREADY_LISTEN";
      throw err;
    }
    if (cb) this.once("listening", cb);
    this._host = host;
    this._requestedPort = p;
    const id = nextId++;
    this._id = id;
    servers.set(id, this);
    if (!this._unrefed) {
      this._refed = true;
      internal.ref();
    }
    post("listen", { id, port: p, backlog });
    return this;
  };
  Server.prototype.address = function () {
    if (!this.listening) return null;
    const family = this._host && isIPv6(this._host) ? "IPv6" : "IPv4";
    const address = this._host && isIP(this._host) ? this._host : family === "IPv6" ? "::" : "0.0.0.0";
    return {
      address: this._host === undefined ? "::" : address,
      family: this._host === undefined ? "IPv6" : family,
      port: this._port,
    };
  };
  Server.prototype.close = function (cb) {
    if (typeof cb === "function") {
      if (!this.listening && this._id === undefined) {
        const err = new Error("Server is not running.");
        err.code = "ERR_SERVER_NOT_RUNNING";
        process.nextTick(cb, err);
      } else this.once("close", cb);
    }
    if (this._id !== undefined) {
      post("closeServer", { id: this._id });
      servers.delete(this._id);
      this._id = undefined;
      this.listening = false;
      if (this._refed) {
        this._refed = false;
        internal.unref();
      }
      this._closing = true;
      this._maybeClosed();
    }
    return this;
  };
  Server.prototype._maybeClosed = function () {
    if (this._closing && this._connections === 0) {
      this._closing = false;
      process.nextTick(() => this.emit("close"));
    }
  };
  Server.prototype._connectionClosed = function () {
    this._connections--;
    this._maybeClosed();
  };
  Server.prototype.getConnections = function (cb) {
    process.nextTick(cb, null, this._connections);
    return this;
  };
  Server.prototype.ref = function () {
    this._unrefed = false;
    if (!this._refed && this._id !== undefined) {
      this._refed = true;
      internal.ref();
    }
    return this;
  };
  Server.prototype.unref = function () {
    this._unrefed = true;
    if (this._refed) {
      this._refed = false;
      internal.unref();
    }
    return this;
  };
  Server.prototype[Symbol.asyncDispose] = function () {
    return new Promise((resolve) => this.close(() => resolve()));
  };
  /** Hands an accepted socket to the server's users (http.Server overrides this). */
  Server.prototype._accepted = function (socket) {
    this.emit("connection", socket);
  };

  internal.netEvent = (ev, info, data) => {
    switch (ev) {
      case "listening": {
        const server = servers.get(info.id);
        if (!server) return;
        server._port = info.port;
        server.listening = true;
        server.emit("listening");
        return;
      }
      case "serverError": {
        const server = servers.get(info.id);
        if (!server) return;
        servers.delete(info.id);
        server._id = undefined;
        if (server._refed) {
          server._refed = false;
          internal.unref();
        }
        server.emit("error", sysError(info.code, "listen", server._host || "::", server._requestedPort));
        return;
      }
      case "accept": {
        const server = servers.get(info.server);
        if (!server) {
          post("destroy", { id: info.id });
          return;
        }
        const socket = new Socket({ _id: info.id, allowHalfOpen: Boolean(server._options.allowHalfOpen) });
        socket.server = server;
        socket._server = server;
        socket.remoteAddress = info.remoteAddress || "127.0.0.1";
        socket.remoteFamily = isIPv6(socket.remoteAddress) ? "IPv6" : "IPv4";
        socket.remotePort = info.remotePort;
        socket.localAddress = "127.0.0.1";
        socket.localPort = info.localPort === undefined ? server._port : info.localPort;
        server._connections++;
        if (server.maxConnections !== undefined && server._connections > server.maxConnections) {
          socket.destroy();
          return;
        }
        server._accepted(socket);
        return;
      }
      case "connect": {
        const socket = sockets.get(info.id);
        if (!socket) return;
        socket.connecting = false;
        socket.localAddress = "127.0.0.1";
        socket.localPort = info.localPort;
        socket.emit("connect");
        socket.emit("ready");
        return;
      }
      case "data": {
        const socket = sockets.get(info.id);
        if (!socket) return;
        socket.bytesRead += data.length;
        socket._activity();
        if (!socket.push(data) && !socket._pausedHost) {
          socket._pausedHost = true;
          post("pause", { id: info.id });
        }
        return;
      }
      case "end": {
        const socket = sockets.get(info.id);
        if (socket) socket.push(null);
        return;
      }
      case "close": {
        const socket = sockets.get(info.id);
        if (!socket) return;
        socket._closedByHost = true;
        if (!socket.readableEnded) socket.push(null);
        if (!socket.destroyed) socket.destroy();
        return;
      }
      case "error": {
        const socket = sockets.get(info.id);
        if (!socket) return;
        socket._closedByHost = true;
        const wasConnecting = socket.connecting;
        socket.connecting = false;
        socket.destroy(
          wasConnecting
            ? sysError(info.code, "connect", socket.remoteAddress, socket.remotePort)
            : sysError(info.code, "read"),
        );
        return;
      }
      case "written": {
        const socket = sockets.get(info.id);
        if (!socket) return;
        const cb = socket._pending.get(info.seq);
        socket._pending.delete(info.seq);
        if (cb) cb(info.error ? sysError(info.error, "write") : null);
        return;
      }
    }
  };

  function normalizeConnectArgs(args) {
    if (args[0] !== null && typeof args[0] === "object") return args;
    const out = [{ port: args[0] }];
    let i = 1;
    if (typeof args[1] === "string") {
      out[0].host = args[1];
      i = 2;
    }
    return out.concat(args.slice(i));
  }
  function connect(...args) {
    const norm = normalizeConnectArgs(args);
    const socket = new Socket(norm[0]);
    if (norm[0].timeout) socket.setTimeout(norm[0].timeout);
    return socket.connect(...norm);
  }

  module.exports = {
    Socket,
    Stream: Socket,
    Server,
    createServer: (options, listener) => new Server(options, listener),
    connect,
    createConnection: connect,
    isIP,
    isIPv4,
    isIPv6,
    getDefaultAutoSelectFamily: () => false,
    setDefaultAutoSelectFamily: () => {},
    BlockList: class BlockList {
      check() {
        return false;
      }
      addAddress() {}
      addRange() {}
      addSubnet() {}
    },
  };

  /** Names resolve only to loopback here: anything else is for the host's policy to refuse at connect. */
  function dnsModule() {
    const loopback = (host) =>
      host === "localhost" || host === "::1" || /^127\./.test(host) || host === "0.0.0.0";
    function lookup(host, options, cb) {
      if (typeof options === "function") {
        cb = options;
        options = {};
      }
      options = typeof options === "number" ? { family: options } : options || {};
      const ip = isIP(host) ? host : loopback(host) ? "127.0.0.1" : null;
      process.nextTick(() => {
        if (ip === null) {
          const err = new Error("getaddrinfo ENOTFOUND " + host);
          err.code = "ENOTFOUND";
          err.syscall = "getaddrinfo";
          err.hostname = host;
          cb(err);
        } else if (options.all) cb(null, [{ address: ip, family: isIP(ip) }]);
        else cb(null, ip, isIP(ip));
      });
    }
    const promises = {
      lookup: (host, options) =>
        new Promise((resolve, reject) =>
          lookup(host, options, (err, address, family) =>
            err ? reject(err) : resolve(Array.isArray(address) ? address : { address, family }),
          ),
        ),
    };
    return {
      lookup,
      promises,
      ADDRCONFIG: 0,
      V4MAPPED: 0,
      setDefaultResultOrder: () => {},
      getServers: () => [],
    };
  }
}
