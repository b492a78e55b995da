// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-nocheck -- guest code: it runs inside QuickJS (shipped as its source text), not in Node.
/**
 * The guest's runtime core, evaluated once per engine before a job arrives: the module system
 * (CommonJS `require` with node_modules lookup), `process`, `console`, timers, the event-loop
 * bookkeeping the host asks about, and lazy globals (Buffer, URL, TextEncoder ...). `E` is the
 * host bridge; it stays in this closure, guest code never sees it.
 *
 * Returns the API the worker drives: start(job), dispatch(event), alive(), finish().
 */
export function guestPrelude(E) {
  "use strict";
  const g = globalThis;
  const internal = { E };
  let refs = 0;
  internal.ref = () => {
    refs++;
  };
  internal.unref = () => {
    refs--;
  };

  // ---- host calls ----
  const ERRNO = {
    EPERM: 1,
    ENOENT: 2,
    ESRCH: 3,
    EINTR: 4,
    EIO: 5,
    EBADF: 9,
    ECHILD: 10,
    EAGAIN: 11,
    ENOMEM: 12,
    EACCES: 13,
    EBUSY: 16,
    EEXIST: 17,
    EXDEV: 18,
    ENOTDIR: 20,
    EISDIR: 21,
    EINVAL: 22,
    EMFILE: 24,
    EFBIG: 27,
    ENOSPC: 28,
    ESPIPE: 29,
    EROFS: 30,
    EPIPE: 32,
    ENAMETOOLONG: 36,
    ENOSYS: 38,
    ENOTEMPTY: 39,
    ELOOP: 40,
    ENOEXEC: 8,
    ENOTSOCK: 88,
    EADDRINUSE: 98,
    ECONNRESET: 104,
    ENOTCONN: 107,
    ETIMEDOUT: 110,
    ECONNREFUSED: 111,
    EHOSTUNREACH: 113,
  };
  internal.ERRNO = ERRNO;
  function systemError(e, syscall, path, dest) {
    let message = e.message || e.code;
    const m = /^[A-Z]+: ([^,]*)/.exec(message);
    if (m) message = e.code + ": " + m[1];
    if (syscall) message += ", " + syscall;
    if (path !== undefined) message += " '" + path + "'";
    if (dest !== undefined) message += " -> '" + dest + "'";
    const err = new Error(message);
    err.errno = -(ERRNO[e.code] || 5);
    err.code = e.code;
    if (syscall) err.syscall = syscall;
    if (path !== undefined) err.path = path;
    if (dest !== undefined) err.dest = dest;
    return err;
  }
  internal.systemError = systemError;
  function toAB(data) {
    if (data instanceof ArrayBuffer) return data;
    if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) return data.buffer;
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  }
  internal.toAB = toAB;
  /** A synchronous kernel call; throws a Node-style system error. */
  function sys(op, args, data, syscall, path, dest) {
    const out = JSON.parse(E.call(op, JSON.stringify(args), data === undefined ? undefined : toAB(data)));
    if (out.e) throw systemError(out.e, syscall || op, path, dest);
    return out.v;
  }
  internal.sys = sys;
  /** A kernel call whose answer carries bytes. */
  function sysBytes(op, args, data, syscall, path) {
    const value = sys(op, args, data, syscall, path);
    const ab = E.take();
    return { value, bytes: ab === undefined ? new Uint8Array(0) : new Uint8Array(ab) };
  }
  internal.sysBytes = sysBytes;
  internal.post = (op, info, data) =>
    E.post(op, JSON.stringify(info), data === undefined ? undefined : toAB(data));

  // ---- minimal UTF-8 (needed before Buffer is loaded) ----
  function utf8Encode(str) {
    const out = [];
    for (let i = 0; i < str.length; i++) {
      let c = str.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
        const d = str.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        } else c = 0xfffd;
      } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return new Uint8Array(out);
  }
  function utf8Decode(bytes, start, end) {
    start = start || 0;
    end = end === undefined ? bytes.length : end;
    let out = "";
    let chunk = [];
    let i = start;
    while (i < end) {
      const b = bytes[i];
      let c = 0xfffd;
      let n = 1;
      if (b < 0x80) c = b;
      else if (b >= 0xc2 && b < 0xe0 && i + 1 < end && (bytes[i + 1] & 0xc0) === 0x80) {
        c = ((b & 31) << 6) | (bytes[i + 1] & 63);
        n = 2;
      } else if (
        b >= 0xe0 &&
        b < 0xf0 &&
        i + 2 < end &&
        (bytes[i + 1] & 0xc0) === 0x80 &&
        (bytes[i + 2] & 0xc0) === 0x80
      ) {
        c = ((b & 15) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63);
        n = 3;
        if (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)) c = 0xfffd;
      } else if (
        b >= 0xf0 &&
        b < 0xf5 &&
        i + 3 < end &&
        (bytes[i + 1] & 0xc0) === 0x80 &&
        (bytes[i + 2] & 0xc0) === 0x80 &&
        (bytes[i + 3] & 0xc0) === 0x80
      ) {
        c = ((b & 7) << 18) | ((bytes[i + 1] & 63) << 12) | ((bytes[i + 2] & 63) << 6) | (bytes[i + 3] & 63);
        n = 4;
        if (c < 0x10000 || c > 0x10ffff) c = 0xfffd;
      }
      i += n;
      if (c >= 0x10000) {
        c -= 0x10000;
        chunk.push(0xd800 + (c >> 10), 0xdc00 + (c & 1023));
      } else chunk.push(c);
      if (chunk.length >= 8192) {
        out += String.fromCharCode(...chunk);
        chunk = [];
      }
    }
    return out + String.fromCharCode(...chunk);
  }
  internal.utf8Encode = utf8Encode;
  internal.utf8Decode = utf8Decode;

  // ---- built-in modules ----
  const builtinNames = [
    "assert",
    "buffer",
    "child_process",
    "crypto",
    "events",
    "fs",
    "fs/promises",
    "http",
    "https",
    "net",
    "os",
    "path",
    "path/posix",
    "process",
    "querystring",
    "stream",
    "stream/promises",
    "string_decoder",
    "timers",
    "timers/promises",
    "tty",
    "url",
    "util",
    "util/types",
    "zlib",
    "dns",
    "module",
    "worker_threads",
    "perf_hooks",
    "readline",
    "async_hooks",
    "constants",
    "v8",
    "vm",
    "cluster",
    "diagnostics_channel",
  ];
  const builtinSet = new Set(builtinNames);
  const builtinCache = Object.create(null);
  /** Where a built-in's source lives when its name is an alias. */
  const builtinFile = {
    "path/posix": "path",
    "fs/promises": "fs",
    "stream/promises": "stream",
    "timers/promises": "timers",
    "util/types": "util",
    https: "http",
    constants: "os",
    tty: "os",
    v8: "os",
    perf_hooks: "os",
    async_hooks: "events",
    diagnostics_channel: "events",
    readline: "stream",
    zlib: "unsupported",
    dns: "net",
    vm: "unsupported",
    cluster: "unsupported",
    worker_threads: "unsupported",
    module: "process",
    process: "process",
  };
  function requireBuiltin(name) {
    if (name.startsWith("node:")) name = name.slice(5);
    const cached = builtinCache[name];
    if (cached !== undefined) return cached.exports;
    if (name === "process") return process;
    if (!builtinSet.has(name)) throw notFound(name, []);
    const file = builtinFile[name] || name;
    const fn = E.builtin(file);
    const module = { exports: {}, id: name, loaded: false };
    builtinCache[name] = module;
    try {
      fn(module, module.exports, requireBuiltin, internal, name);
    } catch (err) {
      delete builtinCache[name];
      throw err;
    }
    module.loaded = true;
    return module.exports;
  }
  internal.requireBuiltin = requireBuiltin;

  // ---- paths (posix, enough for module resolution) ----
  function normalize(path) {
    const parts = [];
    for (const p of path.split("/")) {
      if (p === "" || p === ".") continue;
      if (p === "..") parts.pop();
      else parts.push(p);
    }
    return "/" + parts.join("/");
  }
  function resolve(base, p) {
    return normalize(p.startsWith("/") ? p : base + "/" + p);
  }
  function dirname(p) {
    const i = p.lastIndexOf("/");
    return i <= 0 ? "/" : p.slice(0, i);
  }
  internal.resolvePath = (p) => resolve(process.cwd(), p);

  // ---- CommonJS ----
  const sources = new Map();
  function notFound(request, stack) {
    let message = "Cannot find module '" + request + "'";
    if (stack.length > 0) message += "\nRequire stack:\n- " + stack.join("\n- ");
    const err = new Error(message);
    err.code = "MODULE_NOT_FOUND";
    err.requireStack = stack;
    return err;
  }
  function kind(path) {
    return sys("kind", [path]);
  }
  function readText(path) {
    return utf8Decode(sysBytes("readFile", [path], undefined, "open", path).bytes);
  }
  const EXTENSIONS = [".js", ".json", ".cjs", ".mjs"];
  function tryFile(p) {
    if (kind(p) === "file") return sys("realpath", [p]);
    return undefined;
  }
  function tryExtensions(p) {
    const direct = tryFile(p);
    if (direct) return direct;
    for (const ext of EXTENSIONS) {
      const found = tryFile(p + ext);
      if (found) return found;
    }
    return undefined;
  }
  function readPackage(dir) {
    const file = dir + "/package.json";
    if (kind(file) !== "file") return undefined;
    try {
      return JSON.parse(readText(file));
    } catch (err) {
      err.message = "Error parsing " + file + ": " + err.message;
      throw err;
    }
  }
  function exportsTarget(value) {
    if (typeof value === "string") return value;
    if (Array.isArray(value)) {
      for (const v of value) {
        const t = exportsTarget(v);
        if (t) return t;
      }
      return undefined;
    }
    if (value && typeof value === "object") {
      for (const cond of ["node", "require", "default"]) {
        if (cond in value) {
          const t = exportsTarget(value[cond]);
          if (t) return t;
        }
      }
    }
    return undefined;
  }
  function resolveExports(dir, pkg, subpath) {
    const exp = pkg.exports;
    if (exp === undefined || exp === null) return undefined;
    const isMap =
      typeof exp === "object" && !Array.isArray(exp) && Object.keys(exp).some((k) => k.startsWith("."));
    let target;
    if (!isMap) target = subpath === "." ? exportsTarget(exp) : undefined;
    else if (subpath in exp) target = exportsTarget(exp[subpath]);
    else {
      for (const key of Object.keys(exp)) {
        const star = key.indexOf("*");
        if (star === -1) continue;
        const pre = key.slice(0, star);
        const post = key.slice(star + 1);
        if (subpath.startsWith(pre) && subpath.endsWith(post) && subpath.length >= key.length - 1) {
          const t = exportsTarget(exp[key]);
          if (t) target = t.split("*").join(subpath.slice(pre.length, subpath.length - post.length));
          break;
        }
      }
    }
    if (target === undefined) return null;
    return tryFile(resolve(dir, target)) || null;
  }
  function tryDirectory(dir) {
    const pkg = readPackage(dir);
    if (pkg && typeof pkg.main === "string" && pkg.main !== "") {
      const main = resolve(dir, pkg.main);
      const found = tryExtensions(main) || tryIndex(main);
      if (found) return found;
    }
    return tryIndex(dir);
  }
  function tryIndex(dir) {
    for (const ext of EXTENSIONS) {
      const found = tryFile(dir + "/index" + ext);
      if (found) return found;
    }
    return undefined;
  }
  function nodeModulePaths(dir) {
    const out = [];
    let d = dir;
    for (;;) {
      if (!d.endsWith("/node_modules")) out.push((d === "/" ? "" : d) + "/node_modules");
      if (d === "/") break;
      d = dirname(d);
    }
    return out;
  }
  function resolveFilename(request, parent) {
    if (request.startsWith("node:")) {
      if (builtinSet.has(request.slice(5))) return request;
      throw notFound(request, []);
    }
    if (builtinSet.has(request)) return request;
    const base = parent ? dirname(parent.filename) : process.cwd();
    const stack = [];
    for (let m = parent; m && m.filename; m = m.parent) stack.push(m.filename);
    if (
      request.startsWith("./") ||
      request.startsWith("../") ||
      request.startsWith("/") ||
      request === "." ||
      request === ".."
    ) {
      const p = resolve(base, request);
      const found = (request.endsWith("/") ? undefined : tryExtensions(p)) || tryDirectory(p);
      if (found) return found;
      throw notFound(request, stack);
    }
    const parts = request.split("/");
    const nameLen = request.startsWith("@") ? 2 : 1;
    const name = parts.slice(0, nameLen).join("/");
    const rest = parts.slice(nameLen).join("/");
    for (const dir of nodeModulePaths(base)) {
      const pkgDir = dir + "/" + name;
      if (kind(pkgDir) === undefined || kind(pkgDir) === null) continue;
      const pkg = readPackage(pkgDir);
      if (pkg && pkg.exports !== undefined) {
        const found = resolveExports(pkgDir, pkg, rest === "" ? "." : "./" + rest);
        if (found) return found;
        if (found === null && rest === "") {
          // Packages that only export for "import" still have a main in most cases.
        } else if (found === null) {
          const err = new Error(
            "Package subpath './" + rest + '\' is not defined by "exports" in ' + pkgDir + "/package.json",
          );
          err.code = "ERR_PACKAGE_PATH_NOT_EXPORTED";
          throw err;
        }
      }
      const p = rest === "" ? pkgDir : pkgDir + "/" + rest;
      const found = (rest === "" ? undefined : tryExtensions(p)) || tryDirectory(p);
      if (found) return found;
    }
    throw notFound(request, stack);
  }

  class Module {
    constructor(id, parent) {
      this.id = id;
      this.filename = id;
      this.path = dirname(id);
      this.exports = {};
      this.parent = parent;
      this.loaded = false;
      this.children = [];
      this.paths = nodeModulePaths(dirname(id));
      if (parent) parent.children.push(this);
    }
    require(request) {
      return requireFrom(this, request);
    }
  }
  Module._cache = Object.create(null);
  Module.builtinModules = builtinNames.slice();
  Module.isBuiltin = (name) => builtinSet.has(name.startsWith("node:") ? name.slice(5) : name);
  Module.createRequire = (filename) => {
    const path = String(filename).replace(/^file:\/\//, "");
    const m = new Module(path, undefined);
    return makeRequire(m);
  };
  Module._resolveFilename = (request, parent) => resolveFilename(request, parent);
  Module.Module = Module;
  internal.Module = Module;

  function compileWrapper(source, filename) {
    if (source.startsWith("#!")) source = "//" + source.slice(2);
    sources.set(filename, source);
    // The wrapper stays on the first line so line numbers in stacks match the file.
    return E.compile(
      "(function (exports, require, module, __filename, __dirname) {" + source + "\n})",
      filename,
    );
  }

  function loadFile(module, filename) {
    const text = readText(filename);
    if (filename.endsWith(".json")) {
      try {
        module.exports = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
      } catch (err) {
        err.message = filename + ": " + err.message;
        throw err;
      }
      return;
    }
    const fn = compileWrapper(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, filename);
    fn.call(module.exports, module.exports, makeRequire(module), module, filename, dirname(filename));
  }

  function requireFrom(parent, request) {
    if (typeof request !== "string" || request === "") {
      const err = new TypeError('The "id" argument must be a non-empty string');
      err.code = "ERR_INVALID_ARG_VALUE";
      throw err;
    }
    const filename = resolveFilename(request, parent);
    if (filename.startsWith("node:") || builtinSet.has(filename)) return requireBuiltin(filename);
    const cached = Module._cache[filename];
    if (cached !== undefined) return cached.exports;
    const module = new Module(filename, parent);
    Module._cache[filename] = module;
    try {
      loadFile(module, filename);
    } catch (err) {
      delete Module._cache[filename];
      throw err;
    }
    module.loaded = true;
    return module.exports;
  }

  function makeRequire(module) {
    const require = (request) => requireFrom(module, request);
    require.resolve = (request) => resolveFilename(request, module);
    require.resolve.paths = (request) => (builtinSet.has(request) ? null : nodeModulePaths(module.path));
    require.cache = Module._cache;
    require.main = mainModule;
    require.extensions = { ".js": true, ".json": true };
    return require;
  }
  let mainModule;

  // ---- timers and the event loop ----
  let nextTimerId = 1;
  const timers = new Map();
  class Timeout {
    constructor(callback, ms, args, repeat) {
      this._id = nextTimerId++;
      this._callback = callback;
      this._args = args;
      this._ms = Math.max(1, Number(ms) || 1);
      if (!(this._ms <= 2147483647)) this._ms = 1;
      this._repeat = repeat;
      this._ref = true;
      this._destroyed = false;
      refs++;
      timers.set(this._id, this);
      E.timer(this._id, this._ms);
    }
    ref() {
      if (!this._ref && !this._destroyed) refs++;
      this._ref = true;
      return this;
    }
    unref() {
      if (this._ref && !this._destroyed) refs--;
      this._ref = false;
      return this;
    }
    hasRef() {
      return this._ref;
    }
    refresh() {
      if (!this._destroyed) E.timer(this._id, this._ms);
      return this;
    }
    close() {
      clearTimer(this);
      return this;
    }
    [Symbol.toPrimitive]() {
      return this._id;
    }
  }
  function clearTimer(t) {
    if (t === undefined || t === null) return;
    const timer = typeof t === "object" ? t : timers.get(Number(t));
    if (!timer || timer._destroyed) return;
    timer._destroyed = true;
    if (timer._ref) refs--;
    timers.delete(timer._id);
    E.untimer(timer._id);
  }
  function fireTimer(id) {
    const timer = timers.get(id);
    if (!timer) return;
    if (timer._repeat) E.timer(id, timer._ms);
    else {
      timer._destroyed = true;
      timers.delete(id);
      if (timer._ref) refs--;
    }
    Reflect.apply(timer._callback, timer, timer._args);
  }
  const IMMEDIATE_TIMER = 0;
  let immediates = [];
  let immediateScheduled = false;
  class Immediate {
    constructor(callback, args) {
      this._callback = callback;
      this._args = args;
      this._ref = true;
      this._cleared = false;
    }
    ref() {
      this._ref = true;
      return this;
    }
    unref() {
      this._ref = false;
      return this;
    }
    hasRef() {
      return this._ref;
    }
  }
  function setImmediate(callback, ...args) {
    if (typeof callback !== "function") throw callbackError(callback);
    const imm = new Immediate(callback, args);
    immediates.push(imm);
    if (!immediateScheduled) {
      immediateScheduled = true;
      E.timer(IMMEDIATE_TIMER, 0);
    }
    return imm;
  }
  function runImmediates() {
    immediateScheduled = false;
    const batch = immediates;
    immediates = [];
    for (let i = 0; i < batch.length; i++) {
      const imm = batch[i];
      if (imm._cleared) continue;
      imm._cleared = true;
      try {
        imm._callback(...imm._args);
      } catch (err) {
        // The rest of the batch runs on the next turn, as in Node.
        immediates = batch.slice(i + 1).concat(immediates);
        if (immediates.length > 0 && !immediateScheduled) {
          immediateScheduled = true;
          E.timer(IMMEDIATE_TIMER, 0);
        }
        throw err;
      }
    }
  }
  function callbackError(cb) {
    const err = new TypeError('The "callback" argument must be of type function. Received ' + typeof cb);
    err.code = "ERR_INVALID_ARG_TYPE";
    return err;
  }
  g.setTimeout = (callback, ms, ...args) => {
    if (typeof callback !== "function") throw callbackError(callback);
    return new Timeout(callback, ms, args, false);
  };
  g.setInterval = (callback, ms, ...args) => {
    if (typeof callback !== "function") throw callbackError(callback);
    return new Timeout(callback, ms, args, true);
  };
  g.clearTimeout = clearTimer;
  g.clearInterval = clearTimer;
  g.setImmediate = setImmediate;
  g.clearImmediate = (imm) => {
    if (imm) imm._cleared = true;
  };
  internal.Timeout = Timeout;
  internal.Immediate = Immediate;

  // nextTick runs before promise reactions queued after it, at the end of the current job.
  let ticks = [];
  let tickScheduled = false;
  function runTicks() {
    tickScheduled = false;
    while (ticks.length > 0) {
      const batch = ticks;
      ticks = [];
      for (const [fn, args] of batch) {
        try {
          fn(...args);
        } catch (err) {
          uncaught(err);
        }
      }
    }
  }
  function nextTick(fn, ...args) {
    if (typeof fn !== "function") throw callbackError(fn);
    ticks.push([fn, args]);
    if (!tickScheduled) {
      tickScheduled = true;
      Promise.resolve().then(runTicks);
    }
  }
  g.queueMicrotask = (fn) => {
    if (typeof fn !== "function") throw callbackError(fn);
    Promise.resolve().then(() => {
      try {
        fn();
      } catch (err) {
        uncaught(err);
      }
    });
  };

  // ---- process ----
  const EventEmitter = requireBuiltin("events");
  const process = new EventEmitter();
  internal.process = process;
  let cwd = "/";
  let exiting = false;
  const bootTime = E.now();
  process.title = "node";
  process.version = "v20.11.0";
  process.versions = { node: "20.11.0", quickjs: "2024-01-13", modules: "115", enclave: "1" };
  process.release = { name: "node" };
  process.platform = "linux";
  process.arch = "wasm32";
  process.execPath = "/usr/bin/node";
  process.execArgv = [];
  process.argv = ["/usr/bin/node"];
  process.argv0 = "node";
  process.env = {};
  process.pid = 1;
  process.ppid = 0;
  process.exitCode = undefined;
  process.config = { variables: {} };
  process.features = {};
  process.cwd = () => cwd;
  process.chdir = (dir) => {
    cwd = sys("chdir", [resolve(cwd, String(dir))], undefined, "chdir", String(dir));
  };
  process.umask = () => 0o22;
  process.getuid = () => 1000;
  process.geteuid = () => 1000;
  process.getgid = () => 1000;
  process.getegid = () => 1000;
  process.getgroups = () => [1000];
  process.nextTick = nextTick;
  process.uptime = () => (E.now() - bootTime) / 1000;
  function hrtime(prev) {
    const now = E.now();
    let sec = Math.floor(now / 1000);
    let nsec = Math.floor((now % 1000) * 1e6);
    if (prev) {
      sec -= prev[0];
      nsec -= prev[1];
      if (nsec < 0) {
        sec--;
        nsec += 1e9;
      }
    }
    return [sec, nsec];
  }
  hrtime.bigint = () => BigInt(Math.floor(E.now() * 1e6));
  process.hrtime = hrtime;
  process.memoryUsage = () => {
    const rss = E.memory();
    return { rss, heapTotal: rss, heapUsed: rss, external: 0, arrayBuffers: 0 };
  };
  process.memoryUsage.rss = () => E.memory();
  process.cpuUsage = (prev) => {
    const us = Math.floor(E.cpu() * 1000);
    return prev ? { user: us - prev.user, system: 0 } : { user: us, system: 0 };
  };
  process.resourceUsage = () => ({
    userCPUTime: Math.floor(E.cpu() * 1000),
    systemCPUTime: 0,
    maxRSS: E.memory() / 1024,
  });
  process.emitWarning = (warning, type) => {
    const text = typeof warning === "string" ? (type ? type + ": " : "Warning: ") + warning : String(warning);
    process.stderr.write("(node:" + process.pid + ") " + text + "\n");
  };
  process.binding = () => {
    throw new Error("process.binding is not supported");
  };
  process.kill = (pid, signal) => {
    sys("kill", [Number(pid), typeof signal === "string" ? signal : "SIGTERM"], undefined, "kill");
    return true;
  };
  process.abort = () => {
    E.exit(134);
    for (;;);
  };
  process.exit = (code) => {
    if (code !== undefined && code !== null) process.exitCode = code;
    if (!exiting) {
      exiting = true;
      try {
        process.emit("exit", exitCodeNow());
      } catch (err) {
        printError(err);
      }
    }
    E.exit(exitCodeNow());
    // The host interrupts the engine at its next check; this loop is never left.
    for (;;);
  };
  process.reallyExit = process.exit;
  function exitCodeNow() {
    const code = Number(process.exitCode);
    return Number.isFinite(code) ? code & 0xff : 0;
  }

  function stdioStream(fd) {
    const s = new EventEmitter();
    s.fd = fd;
    s.isTTY = false;
    s.writable = true;
    s.writableLength = 0;
    s.writableHighWaterMark = 16384;
    s.columns = 80;
    s.rows = 24;
    s._type = "pipe";
    s.write = (chunk, encoding, cb) => {
      if (typeof encoding === "function") {
        cb = encoding;
        encoding = undefined;
      }
      let bytes;
      if (typeof chunk === "string") {
        bytes =
          encoding && encoding !== "utf8" && encoding !== "utf-8"
            ? g.Buffer.from(chunk, encoding)
            : utf8Encode(chunk);
      } else if (chunk instanceof Uint8Array) bytes = chunk;
      else {
        const err = new TypeError(
          'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array',
        );
        err.code = "ERR_INVALID_ARG_TYPE";
        throw err;
      }
      try {
        if (bytes.length > 0) sys("write", [fd, null], bytes, "write");
      } catch (err) {
        if (err.code === "EPIPE") {
          if (cb) nextTick(cb, err);
          s.emit("error", err);
          return false;
        }
        throw err;
      }
      if (cb) nextTick(cb, null);
      return true;
    };
    s.end = (chunk, encoding, cb) => {
      if (typeof chunk === "function") cb = chunk;
      else if (chunk !== undefined && chunk !== null) s.write(chunk, encoding);
      if (typeof cb === "function") nextTick(cb);
      return s;
    };
    s.cork = () => {};
    s.uncork = () => {};
    s.setDefaultEncoding = () => s;
    s.getColorDepth = () => 1;
    s.hasColors = () => false;
    s.getWindowSize = () => [80, 24];
    s.destroy = () => s;
    return s;
  }
  process.stdout = stdioStream(1);
  process.stderr = stdioStream(2);
  let stdin;
  Object.defineProperty(process, "stdin", {
    configurable: true,
    enumerable: true,
    get() {
      if (stdin === undefined) stdin = makeStdin();
      return stdin;
    },
  });
  function makeStdin() {
    const { Readable } = requireBuiltin("stream");
    let reading = false;
    let refd = false;
    const s = new Readable({
      read() {
        if (!reading) {
          reading = true;
          if (!refd) {
            refd = true;
            refs++;
          }
          internal.post("stdin", { mode: "start" });
        }
      },
    });
    s.fd = 0;
    s.isTTY = false;
    s.setRawMode = () => s;
    const pause = s.pause;
    s.pause = function () {
      if (reading) {
        reading = false;
        internal.post("stdin", { mode: "pause" });
      }
      if (refd) {
        refd = false;
        refs--;
      }
      return pause.call(this);
    };
    s.unref = () => {
      if (refd) {
        refd = false;
        refs--;
      }
      return s;
    };
    s.ref = () => s;
    internal.stdinData = (bytes) => {
      if (!s.push(bytes) && reading) {
        reading = false;
        internal.post("stdin", { mode: "pause" });
      }
    };
    internal.stdinEnd = () => {
      reading = false;
      if (refd) {
        refd = false;
        refs--;
      }
      s.push(null);
    };
    return s;
  }

  // ---- errors ----
  if (typeof Error.captureStackTrace !== "function") {
    Error.captureStackTrace = (target) => {
      if (target && typeof target === "object") {
        const stack = new Error().stack;
        const lines = String(stack).split("\n");
        Object.defineProperty(target, "stack", {
          value:
            String(target.name || "Error") +
            ": " +
            String(target.message || "") +
            "\n" +
            lines.slice(1).join("\n"),
          configurable: true,
          writable: true,
        });
      }
    };
  }
  if (Error.stackTraceLimit === undefined) Error.stackTraceLimit = 10;

  function errorText(err) {
    if (err instanceof Error || (err && typeof err === "object" && "stack" in err && "message" in err)) {
      let stack = typeof err.stack === "string" ? err.stack : "";
      const head = String(err.name || "Error") + (err.message ? ": " + err.message : "");
      if (!stack.startsWith(head)) stack = head + "\n" + stack;
      let extra = "";
      const keys = Object.keys(err).filter((k) => k !== "stack" && k !== "message");
      if (keys.length > 0) {
        try {
          extra = " " + requireBuiltin("util").inspect(Object.fromEntries(keys.map((k) => [k, err[k]])));
        } catch {
          extra = "";
        }
      }
      return stack.replace(/\n+$/, "") + extra;
    }
    try {
      return "Uncaught " + requireBuiltin("util").inspect(err);
    } catch {
      return "Uncaught " + String(err);
    }
  }
  /** The "file:line / source line / caret" header Node prints above an uncaught error. */
  function sourceHeader(err) {
    const stack = err && typeof err.stack === "string" ? err.stack : "";
    const m = /\(?(\/[^():\s]+):(\d+)(?::(\d+))?\)?/.exec(stack);
    if (!m) return "";
    const source = sources.get(m[1]);
    if (source === undefined) return "";
    const line = source.split("\n")[Number(m[2]) - 1];
    if (line === undefined) return "";
    const col = m[3] ? Math.max(0, Number(m[3]) - 1) : 0;
    return m[1] + ":" + m[2] + "\n" + line + "\n" + " ".repeat(Math.min(col, line.length)) + "^\n\n";
  }
  function printError(err) {
    try {
      process.stderr.write(sourceHeader(err) + errorText(err) + "\n\nNode.js " + process.version + "\n");
    } catch {
      // stderr is gone.
    }
  }
  function uncaught(err) {
    if (exiting) return;
    if (process.listenerCount("uncaughtException") > 0) {
      try {
        process.emit("uncaughtException", err, "uncaughtException");
        return;
      } catch (inner) {
        err = inner;
      }
    }
    if (err instanceof g.InternalError && /out of memory/.test(err.message)) {
      // Like Node's heap exhaustion: a fatal error and an abort, not a catchable exception's exit 1.
      process.stderr.write("FATAL ERROR: JavaScript heap out of memory\n");
      E.exit(134);
      for (;;);
    }
    printError(err);
    process.exitCode = 1;
    process.exit(1);
  }
  internal.uncaught = uncaught;

  // ---- console ----
  const counts = new Map();
  const timersByLabel = new Map();
  let groupIndent = "";
  function fmt(args) {
    const text = requireBuiltin("util").format.apply(undefined, args);
    return groupIndent === "" ? text : groupIndent + text.split("\n").join("\n" + groupIndent);
  }
  const console = {
    log: (...args) => process.stdout.write(fmt(args) + "\n"),
    info: (...args) => process.stdout.write(fmt(args) + "\n"),
    debug: (...args) => process.stdout.write(fmt(args) + "\n"),
    error: (...args) => process.stderr.write(fmt(args) + "\n"),
    warn: (...args) => process.stderr.write(fmt(args) + "\n"),
    trace: (...args) => process.stderr.write("Trace: " + fmt(args) + "\n" + String(new Error().stack) + "\n"),
    dir: (obj, options) => process.stdout.write(requireBuiltin("util").inspect(obj, options) + "\n"),
    table: (data) => process.stdout.write(requireBuiltin("util").inspect(data) + "\n"),
    assert: (cond, ...args) => {
      if (!cond) process.stderr.write("Assertion failed" + (args.length ? ": " + fmt(args) : "") + "\n");
    },
    count: (label = "default") => {
      const n = (counts.get(label) || 0) + 1;
      counts.set(label, n);
      process.stdout.write(label + ": " + n + "\n");
    },
    countReset: (label = "default") => counts.delete(label),
    time: (label = "default") => timersByLabel.set(label, E.now()),
    timeEnd: (label = "default") => {
      const start = timersByLabel.get(label);
      if (start === undefined) return;
      timersByLabel.delete(label);
      process.stdout.write(label + ": " + (E.now() - start).toFixed(3) + "ms\n");
    },
    timeLog: (label = "default", ...args) => {
      const start = timersByLabel.get(label);
      if (start === undefined) return;
      process.stdout.write(
        label + ": " + (E.now() - start).toFixed(3) + "ms" + (args.length ? " " + fmt(args) : "") + "\n",
      );
    },
    group: (...args) => {
      if (args.length) console.log(...args);
      groupIndent += "  ";
    },
    groupEnd: () => {
      groupIndent = groupIndent.slice(2);
    },
  };
  console.groupCollapsed = console.group;
  g.console = console;

  // ---- globals ----
  g.global = g;
  g.process = process;
  function lazy(name, get) {
    Object.defineProperty(g, name, {
      configurable: true,
      enumerable: false,
      get() {
        const value = get();
        Object.defineProperty(g, name, { value, configurable: true, writable: true, enumerable: false });
        return value;
      },
      set(value) {
        Object.defineProperty(g, name, { value, configurable: true, writable: true, enumerable: false });
      },
    });
  }
  lazy("Buffer", () => requireBuiltin("buffer").Buffer);
  lazy("TextEncoder", () => requireBuiltin("util").TextEncoder);
  lazy("TextDecoder", () => requireBuiltin("util").TextDecoder);
  lazy("URL", () => requireBuiltin("url").URL);
  lazy("URLSearchParams", () => requireBuiltin("url").URLSearchParams);
  lazy("EventTarget", () => requireBuiltin("events").EventTarget);
  lazy("Event", () => requireBuiltin("events").Event);
  lazy("AbortController", () => requireBuiltin("events").AbortController);
  lazy("AbortSignal", () => requireBuiltin("events").AbortSignal);
  lazy("atob", () => requireBuiltin("buffer").atob);
  lazy("btoa", () => requireBuiltin("buffer").btoa);
  lazy("structuredClone", () => requireBuiltin("util").structuredClone);
  lazy("crypto", () => requireBuiltin("crypto").webcrypto);
  g.performance = {
    timeOrigin: Date.now() - E.now(),
    now: () => E.now() - bootTime,
    mark: () => {},
    measure: () => {},
  };

  // Loaded while the worker waits for a job, so a process starts with them parsed. None of them
  // reads the job's env, cwd or pid at load time.
  for (const name of ["util", "buffer", "path", "string_decoder", "stream", "fs", "net", "http"])
    requireBuiltin(name);

  // ---- the API the worker drives ----
  function onSignal(info) {
    if (process.listenerCount(info.name) > 0) process.emit(info.name, info.name);
    else {
      E.exit(128 + info.number);
      for (;;);
    }
  }
  return {
    start(jobJson) {
      const job = JSON.parse(jobJson);
      cwd = job.cwd;
      process.env = job.env;
      process.pid = job.pid;
      process.ppid = job.ppid;
      const args = job.argv.slice(1);
      let evalCode;
      let print = false;
      let script;
      while (args.length > 0) {
        const a = args[0];
        if (a === "-e" || a === "--eval" || a === "-p" || a === "--print") {
          print = a === "-p" || a === "--print";
          evalCode = String(args[1] === undefined ? "" : args[1]);
          args.splice(0, 2);
          break;
        }
        if (a === "-v" || a === "--version") {
          process.stdout.write(process.version + "\n");
          return;
        }
        if (a === "-h" || a === "--help") {
          process.stdout.write(
            "Usage: node [options] [ script.js ] [arguments]\n       node -e CODE [arguments]\n",
          );
          return;
        }
        if (a === "--") {
          args.shift();
          break;
        }
        if (a.startsWith("-") && a !== "-") {
          // Engine flags (--max-old-space-size, --enable-source-maps ...) mean nothing here.
          args.shift();
          continue;
        }
        break;
      }
      try {
        if (evalCode !== undefined) {
          process.argv = ["/usr/bin/node"].concat(args);
          const filename = cwd + "/[eval]";
          mainModule = new Module(filename, undefined);
          mainModule.id = "[eval]";
          mainModule.filename = filename;
          sources.set("[eval]", evalCode);
          const fn = E.compile(
            "(function (exports, require, module, __filename, __dirname) { return eval(" +
              JSON.stringify(evalCode) +
              ")\n})",
            "[eval]",
          );
          const result = fn.call(g, mainModule.exports, makeRequire(mainModule), mainModule, "[eval]", cwd);
          if (print) console.log(result);
        } else if (args.length === 0) {
          process.stderr.write("node: no script given (an interactive REPL is not available)\n");
          process.exitCode = 9;
        } else {
          const script0 = args[0];
          script = resolve(cwd, script0);
          process.argv = ["/usr/bin/node", script].concat(args.slice(1));
          let filename;
          try {
            filename = resolveFilename(script, undefined);
          } catch (err) {
            if (err.code !== "MODULE_NOT_FOUND") throw err;
            const notFoundErr = new Error("Cannot find module '" + script + "'");
            notFoundErr.code = "MODULE_NOT_FOUND";
            notFoundErr.requireStack = [];
            throw notFoundErr;
          }
          process.argv[1] = filename;
          mainModule = new Module(filename, undefined);
          mainModule.id = ".";
          Module._cache[filename] = mainModule;
          process.mainModule = mainModule;
          loadFile(mainModule, filename);
          mainModule.loaded = true;
        }
      } catch (err) {
        uncaught(err);
      }
    },
    dispatch(ev, infoJson, ab) {
      const info = JSON.parse(infoJson);
      try {
        switch (ev) {
          case "timer":
            if (info.id === IMMEDIATE_TIMER) runImmediates();
            else fireTimer(info.id);
            break;
          case "signal":
            onSignal(info);
            break;
          case "stdin":
            if (internal.stdinData) internal.stdinData(g.Buffer.from(ab));
            break;
          case "stdinEnd":
            if (internal.stdinEnd) internal.stdinEnd();
            break;
          default:
            if (internal.netEvent)
              internal.netEvent(ev, info, ab === undefined ? undefined : g.Buffer.from(ab));
        }
      } catch (err) {
        uncaught(err);
      }
    },
    alive() {
      return refs > 0 || immediates.some((i) => i._ref && !i._cleared) || ticks.length > 0;
    },
    /** The loop ran empty: 'beforeExit' may schedule more (false = keep going), else 'exit'. */
    finish() {
      if (!exiting) {
        try {
          process.emit("beforeExit", exitCodeNow());
        } catch (err) {
          uncaught(err);
        }
        if (refs > 0 || immediates.length > 0) return false;
        exiting = true;
        try {
          process.emit("exit", exitCodeNow());
        } catch (err) {
          printError(err);
          process.exitCode = 7;
        }
      }
      return exitCodeNow();
    },
  };
}
