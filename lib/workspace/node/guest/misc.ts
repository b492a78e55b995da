// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-nocheck -- guest code: it runs inside QuickJS (shipped as its source text), not in Node.
/** Small guest modules: string_decoder, os (and tty, v8, perf_hooks, constants), assert, timers, child_process. */

export function guestStringDecoder(module, exports, require, internal) {
  "use strict";
  const { Buffer } = require("buffer");
  class StringDecoder {
    constructor(encoding) {
      const enc = internal.normEncoding(encoding || "utf8");
      if (enc === undefined) {
        const err = new TypeError("Unknown encoding: " + encoding);
        err.code = "ERR_UNKNOWN_ENCODING";
        throw err;
      }
      this.encoding = enc;
      this._pending = Buffer.alloc(0);
    }
    write(buf) {
      if (typeof buf === "string") return buf;
      let bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
      if (this._pending.length > 0) {
        bytes = Buffer.concat([this._pending, bytes]);
        this._pending = Buffer.alloc(0);
      }
      let end = bytes.length;
      if (this.encoding === "utf8") {
        // Hold back an incomplete trailing sequence.
        let i = end - 1;
        let back = 0;
        while (i >= 0 && back < 3 && (bytes[i] & 0xc0) === 0x80) {
          i--;
          back++;
        }
        if (i >= 0) {
          const b = bytes[i];
          const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
          if (need > back + 1) end = i;
        }
      } else if (this.encoding === "utf16le") end -= end % 2;
      else if (this.encoding === "base64" || this.encoding === "base64url") end -= end % 3;
      this._pending = Buffer.from(bytes.subarray(end));
      return bytes.toString(this.encoding, 0, end);
    }
    end(buf) {
      let out = buf === undefined ? "" : this.write(buf);
      if (this._pending.length > 0) {
        out += this._pending.toString(this.encoding);
        this._pending = Buffer.alloc(0);
      }
      return out;
    }
    text(buf, offset) {
      return this.write(buf.subarray(offset));
    }
  }
  exports.StringDecoder = StringDecoder;
}

export function guestOs(module, exports, require, internal, name) {
  "use strict";
  const signals = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGKILL: 9,
    SIGPIPE: 13,
    SIGALRM: 14,
    SIGTERM: 15,
    SIGCHLD: 17,
    SIGXCPU: 24,
  };
  const errno = {};
  for (const k of Object.keys(internal.ERRNO)) errno[k] = internal.ERRNO[k];
  const constants = { signals, errno, priority: {}, UV_UDP_REUSEADDR: 4 };
  if (name === "tty") {
    module.exports = {
      isatty: () => false,
      ReadStream: function ReadStream() {},
      WriteStream: function WriteStream() {},
    };
    return;
  }
  if (name === "v8") {
    module.exports = {
      getHeapStatistics: () => ({
        total_heap_size: process.memoryUsage().rss,
        used_heap_size: process.memoryUsage().rss,
        heap_size_limit: 0,
      }),
      serialize: (v) => require("buffer").Buffer.from(JSON.stringify(v)),
      deserialize: (b) => JSON.parse(b.toString()),
      setFlagsFromString: () => {},
    };
    return;
  }
  if (name === "perf_hooks") {
    module.exports = {
      performance: globalThis.performance,
      PerformanceObserver: class PerformanceObserver {
        observe() {}
        disconnect() {}
      },
      monitorEventLoopDelay: () => ({
        enable() {},
        disable() {},
        percentile: () => 0,
        mean: 0,
        max: 0,
        min: 0,
      }),
    };
    return;
  }
  if (name === "constants") {
    module.exports = Object.assign({}, signals, errno, require("fs").constants);
    return;
  }
  const os = {
    EOL: "\n",
    devNull: "/dev/null",
    constants,
    platform: () => "linux",
    type: () => "Linux",
    release: () => "6.0.0-enclave",
    version: () => "#1 SMP Enclave workspace",
    machine: () => "wasm32",
    arch: () => process.arch,
    hostname: () => process.env.HOSTNAME || "workspace",
    homedir: () => process.env.HOME || "/home/user",
    tmpdir: () => {
      const t = process.env.TMPDIR || "/tmp";
      return t.length > 1 && t.endsWith("/") ? t.slice(0, -1) : t;
    },
    endianness: () => "LE",
    uptime: () => Math.floor(process.uptime()),
    loadavg: () => [0, 0, 0],
    totalmem: () => 1024 * 1024 * 1024,
    freemem: () => 512 * 1024 * 1024,
    availableParallelism: () => 1,
    cpus: () => [{ model: "QuickJS", speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } }],
    networkInterfaces: () => ({
      lo: [
        {
          address: "127.0.0.1",
          netmask: "255.0.0.0",
          family: "IPv4",
          mac: "00:00:00:00:00:00",
          internal: true,
          cidr: "127.0.0.1/8",
        },
      ],
    }),
    userInfo: () => ({
      uid: 1000,
      gid: 1000,
      username: process.env.USER || "user",
      homedir: process.env.HOME || "/home/user",
      shell: "/bin/sh",
    }),
    getPriority: () => 0,
    setPriority: () => {},
  };
  module.exports = os;
}

export function guestAssert(module, exports, require) {
  "use strict";
  const util = require("util");
  class AssertionError extends Error {
    constructor(options) {
      const message =
        options.message !== undefined
          ? String(options.message)
          : util.inspect(options.actual) + " " + options.operator + " " + util.inspect(options.expected);
      super(message);
      this.name = "AssertionError";
      this.code = "ERR_ASSERTION";
      this.actual = options.actual;
      this.expected = options.expected;
      this.operator = options.operator;
      this.generatedMessage = options.message === undefined;
    }
  }
  function fail(actual, expected, message, operator) {
    if (message instanceof Error) throw message;
    throw new AssertionError({ actual, expected, message, operator });
  }
  function looseDeepEqual(a, b) {
    if (a == b) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => looseDeepEqual(a[k], b[k]));
  }
  function assert(value, message) {
    if (!value)
      fail(
        value,
        true,
        message === undefined
          ? "The expression evaluated to a falsy value:\n\n  assert(" + util.inspect(value) + ")\n"
          : message,
        "==",
      );
  }
  assert.ok = assert;
  assert.AssertionError = AssertionError;
  assert.fail = (message) => fail(undefined, undefined, message === undefined ? "Failed" : message, "fail");
  assert.equal = (a, b, m) => a == b || fail(a, b, m, "==");
  assert.notEqual = (a, b, m) => a != b || fail(a, b, m, "!=");
  assert.strictEqual = (a, b, m) => Object.is(a, b) || fail(a, b, m, "strictEqual");
  assert.notStrictEqual = (a, b, m) => !Object.is(a, b) || fail(a, b, m, "notStrictEqual");
  assert.deepEqual = (a, b, m) => looseDeepEqual(a, b) || fail(a, b, m, "deepEqual");
  assert.notDeepEqual = (a, b, m) => !looseDeepEqual(a, b) || fail(a, b, m, "notDeepEqual");
  assert.deepStrictEqual = (a, b, m) => util.isDeepStrictEqual(a, b) || fail(a, b, m, "deepStrictEqual");
  assert.notDeepStrictEqual = (a, b, m) =>
    !util.isDeepStrictEqual(a, b) || fail(a, b, m, "notDeepStrictEqual");
  function matches(err, expected) {
    if (expected === undefined) return true;
    if (typeof expected === "function") {
      if (expected.prototype !== undefined && err instanceof expected) return true;
      if (Object.prototype.isPrototypeOf.call(Error, expected)) return false;
      return expected(err) === true;
    }
    if (expected instanceof RegExp)
      return expected.test(String(err && err.message !== undefined ? err.message : err));
    if (typeof expected === "object")
      return Object.keys(expected).every((k) =>
        expected[k] instanceof RegExp
          ? expected[k].test(err[k])
          : util.isDeepStrictEqual(err[k], expected[k]),
      );
    return true;
  }
  assert.throws = (fn, expected, message) => {
    if (typeof expected === "string") {
      message = expected;
      expected = undefined;
    }
    try {
      fn();
    } catch (err) {
      if (!matches(err, expected)) throw err;
      return;
    }
    fail(undefined, expected, message === undefined ? "Missing expected exception." : message, "throws");
  };
  assert.doesNotThrow = (fn, message) => {
    try {
      fn();
    } catch (err) {
      fail(
        err,
        undefined,
        typeof message === "string"
          ? message
          : 'Got unwanted exception.\nActual message: "' + (err && err.message) + '"',
        "doesNotThrow",
      );
    }
  };
  assert.rejects = async (p, expected, message) => {
    if (typeof expected === "string") {
      message = expected;
      expected = undefined;
    }
    try {
      await (typeof p === "function" ? p() : p);
    } catch (err) {
      if (!matches(err, expected)) throw err;
      return;
    }
    fail(undefined, expected, message === undefined ? "Missing expected rejection." : message, "rejects");
  };
  assert.doesNotReject = async (p, message) => {
    try {
      await (typeof p === "function" ? p() : p);
    } catch (err) {
      fail(err, undefined, message || "Got unwanted rejection.", "doesNotReject");
    }
  };
  assert.match = (s, re, m) => re.test(s) || fail(s, re, m, "match");
  assert.doesNotMatch = (s, re, m) => !re.test(s) || fail(s, re, m, "doesNotMatch");
  assert.ifError = (err) => {
    if (err !== null && err !== undefined) throw err;
  };
  assert.strict = assert;
  module.exports = assert;
}

export function guestTimers(module, exports, require, internal, name) {
  "use strict";
  const abortError = (signal) => {
    const err = new Error("The operation was aborted");
    err.name = "AbortError";
    err.code = "ABORT_ERR";
    err.cause = signal && signal.reason;
    return err;
  };
  const promises = {
    setTimeout: (ms, value, options) =>
      new Promise((resolve, reject) => {
        const signal = options && options.signal;
        if (signal && signal.aborted) return reject(abortError(signal));
        const t = setTimeout(() => resolve(value), ms);
        if (options && options.ref === false) t.unref();
        if (signal)
          signal.addEventListener(
            "abort",
            () => {
              clearTimeout(t);
              reject(abortError(signal));
            },
            { once: true },
          );
      }),
    setImmediate: (value) => new Promise((resolve) => setImmediate(() => resolve(value))),
    setInterval: (ms, value) => {
      const queue = [];
      const waiters = [];
      const t = setInterval(() => {
        const w = waiters.shift();
        if (w) w({ value, done: false });
        else queue.push(value);
      }, ms);
      return {
        next: () =>
          queue.length
            ? Promise.resolve({ value: queue.shift(), done: false })
            : new Promise((r) => waiters.push(r)),
        return: () => {
          clearInterval(t);
          return Promise.resolve({ value: undefined, done: true });
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
    scheduler: {
      wait: (ms) => new Promise((r) => setTimeout(r, ms)),
      yield: () => new Promise((r) => setImmediate(r)),
    },
  };
  if (name === "timers/promises") {
    module.exports = promises;
    return;
  }
  module.exports = {
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    setImmediate,
    clearImmediate,
    promises,
  };
}

export function guestChildProcess(module, exports, require, internal) {
  "use strict";
  const { Buffer } = require("buffer");
  const EventEmitter = require("events");
  const { Readable } = require("stream");

  // Children run to completion while the guest waits (the host runs them; the guest's thread
  // sleeps): the async forms report afterwards, so they suit short commands, not servers.
  function run(file, args, options) {
    options = options || {};
    const env = options.env
      ? Object.fromEntries(Object.entries(options.env).map(([k, v]) => [k, String(v)]))
      : process.env;
    let input;
    if (options.input !== undefined)
      input = typeof options.input === "string" ? Buffer.from(options.input) : options.input;
    const spec = {
      argv: [file].concat(args || []),
      env,
      cwd: options.cwd === undefined ? process.cwd() : String(options.cwd),
    };
    if (options.timeout) spec.timeoutMs = options.timeout;
    const { value, bytes } = internal.sysBytes("spawnSync", [spec], input, "spawnSync " + file);
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const stdout = buf.subarray(0, value.split);
    const stderr = buf.subarray(value.split);
    const enc = options.encoding && options.encoding !== "buffer" ? options.encoding : null;
    return {
      pid: value.pid,
      status: value.signal ? null : value.status,
      signal: value.signal,
      stdout: enc ? stdout.toString(enc) : stdout,
      stderr: enc ? stderr.toString(enc) : stderr,
      output: [null, enc ? stdout.toString(enc) : stdout, enc ? stderr.toString(enc) : stderr],
    };
  }
  function shellArgs(command, options) {
    const shell = options && typeof options.shell === "string" ? options.shell : "/bin/sh";
    return [shell, ["-c", command]];
  }
  function spawnSync(file, args, options) {
    if (!Array.isArray(args)) {
      options = args;
      args = [];
    }
    if (options && options.shell) {
      const [sh, shArgs] = shellArgs([file].concat(args).join(" "), options);
      return spawnSyncPlain(sh, shArgs, options);
    }
    return spawnSyncPlain(file, args, options);
  }
  function spawnSyncPlain(file, args, options) {
    try {
      return run(file, args, options);
    } catch (err) {
      return { pid: 0, status: null, signal: null, error: err, stdout: null, stderr: null, output: null };
    }
  }
  function checkResult(result, cmd) {
    if (result.error) throw result.error;
    if (result.status !== 0) {
      const err = new Error(
        "Command failed: " +
          cmd +
          (result.stderr && result.stderr.length ? "\n" + result.stderr.toString() : ""),
      );
      err.status = result.status;
      err.signal = result.signal;
      err.stdout = result.stdout;
      err.stderr = result.stderr;
      err.output = result.output;
      err.pid = result.pid;
      throw err;
    }
  }
  function execSync(command, options) {
    const [sh, args] = shellArgs(command, options);
    const result = spawnSyncPlain(sh, args, options);
    if (result.stderr && result.stderr.length > 0 && !(options && options.stdio))
      process.stderr.write(result.stderr);
    checkResult(result, command);
    return result.stdout;
  }
  function execFileSync(file, args, options) {
    if (!Array.isArray(args)) {
      options = args;
      args = [];
    }
    const result = spawnSyncPlain(file, args, options);
    checkResult(result, [file].concat(args).join(" "));
    return result.stdout;
  }
  function exec(command, options, callback) {
    if (typeof options === "function") {
      callback = options;
      options = {};
    }
    const [sh, args] = shellArgs(command, options);
    return execFile(sh, args, options, callback, command);
  }
  function execFile(file, args, options, callback, display) {
    if (typeof args === "function") {
      callback = args;
      args = [];
      options = {};
    } else if (typeof options === "function") {
      callback = options;
      options = {};
    }
    options = Object.assign({ encoding: "utf8" }, options);
    const child = spawnLike(file, args, options);
    if (callback) {
      setImmediate(() => {
        const r = child._result;
        let err = r.error || null;
        if (!err && r.status !== 0) {
          err = new Error("Command failed: " + (display || [file].concat(args).join(" ")) + "\n" + r.stderr);
          err.code = r.status;
          err.signal = r.signal;
          err.killed = false;
        }
        callback(err, r.stdout, r.stderr);
      });
    }
    return child;
  }
  function spawnLike(file, args, options) {
    const result = spawnSyncPlain(file, args, options);
    const child = new EventEmitter();
    child._result = result;
    child.pid = result.pid;
    child.stdin = null;
    child.exitCode = result.status;
    child.signalCode = result.signal;
    child.killed = false;
    child.kill = () => false;
    const toStream = (data) => {
      const r = new Readable({ read() {} });
      if (data !== null && data !== undefined && data.length > 0)
        r.push(typeof data === "string" ? Buffer.from(data) : data);
      r.push(null);
      return r;
    };
    child.stdout = toStream(result.stdout);
    child.stderr = toStream(result.stderr);
    setImmediate(() => {
      if (result.error) child.emit("error", result.error);
      else {
        child.emit("exit", result.status, result.signal);
        child.emit("close", result.status, result.signal);
      }
    });
    return child;
  }
  function spawn(file, args, options) {
    if (!Array.isArray(args)) {
      options = args;
      args = [];
    }
    if (options && options.shell) {
      const [sh, shArgs] = shellArgs([file].concat(args).join(" "), options);
      return spawnLike(sh, shArgs, options);
    }
    return spawnLike(file, args, options);
  }
  module.exports = {
    spawn,
    spawnSync,
    exec,
    execSync,
    execFile,
    execFileSync,
    fork: () => {
      throw new Error("child_process.fork is not supported in this workspace");
    },
  };
}

export function guestUnsupported(module, exports, require, internal, name) {
  "use strict";
  const err = () => {
    const e = new Error("The '" + name + "' module is not available in this workspace");
    e.code = "ERR_FEATURE_UNAVAILABLE_ON_PLATFORM";
    return e;
  };
  if (name === "worker_threads") {
    module.exports = {
      isMainThread: true,
      parentPort: null,
      workerData: null,
      threadId: 0,
      Worker: function Worker() {
        throw err();
      },
    };
    return;
  }
  module.exports = new Proxy(
    {},
    {
      get(target, key) {
        if (key === "__esModule" || typeof key === "symbol") return undefined;
        throw err();
      },
    },
  );
}

export function guestProcessModule(module, exports, require, internal, name) {
  "use strict";
  module.exports = name === "module" ? internal.Module : internal.process;
}
