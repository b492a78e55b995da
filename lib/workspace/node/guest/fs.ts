// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-nocheck -- guest code: it runs inside QuickJS (shipped as its source text), not in Node.
/**
 * Guest `fs` and `fs/promises` over the kernel's VFS. Every call is a synchronous kernel call; the
 * callback and promise forms run it and report on the next tick, which is what a program can
 * observe of Node's thread pool.
 */
export function guestFs(module, exports, require, internal, name) {
  "use strict";
  const { sys, sysBytes } = internal;
  const { Buffer } = require("buffer");

  function pathArg(p, argName) {
    if (
      p instanceof URL ||
      (p && typeof p === "object" && typeof p.href === "string" && p.protocol === "file:")
    ) {
      return decodeURIComponent(p.pathname);
    }
    if (p instanceof Uint8Array) return Buffer.from(p).toString();
    if (typeof p !== "string") {
      const err = new TypeError(
        'The "' +
          (argName || "path") +
          '" argument must be of type string or an instance of Buffer or URL. Received ' +
          (p === null ? "null" : typeof p),
      );
      err.code = "ERR_INVALID_ARG_TYPE";
      throw err;
    }
    return p;
  }
  function encodingOf(options) {
    if (typeof options === "string") return options;
    return options && options.encoding ? options.encoding : null;
  }
  function out(bytes, options) {
    const enc = encodingOf(options);
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return enc && enc !== "buffer" ? buf.toString(enc) : buf;
  }
  function toBytes(data, options) {
    if (typeof data === "string") return Buffer.from(data, encodingOf(options) || "utf8");
    if (data instanceof Uint8Array) return data;
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const err = new TypeError(
      'The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView.',
    );
    err.code = "ERR_INVALID_ARG_TYPE";
    throw err;
  }

  const S_IFMT = 0o170000;
  const TYPE_BITS = {
    file: 0o100000,
    directory: 0o040000,
    symlink: 0o120000,
    fifo: 0o010000,
    chardev: 0o020000,
  };
  class Stats {
    constructor(s) {
      this.dev = s.dev;
      this.ino = s.ino;
      this.mode = (TYPE_BITS[s.type] || 0) | s.mode;
      this.nlink = s.nlink;
      this.uid = s.uid;
      this.gid = s.gid;
      this.rdev = 0;
      this.size = s.size;
      this.blksize = 4096;
      this.blocks = Math.ceil(s.size / 512);
      this.atimeMs = s.atimeMs;
      this.mtimeMs = s.mtimeMs;
      this.ctimeMs = s.ctimeMs;
      this.birthtimeMs = s.birthtimeMs;
      this.atime = new Date(s.atimeMs);
      this.mtime = new Date(s.mtimeMs);
      this.ctime = new Date(s.ctimeMs);
      this.birthtime = new Date(s.birthtimeMs);
    }
    isFile() {
      return (this.mode & S_IFMT) === TYPE_BITS.file;
    }
    isDirectory() {
      return (this.mode & S_IFMT) === TYPE_BITS.directory;
    }
    isSymbolicLink() {
      return (this.mode & S_IFMT) === TYPE_BITS.symlink;
    }
    isFIFO() {
      return (this.mode & S_IFMT) === TYPE_BITS.fifo;
    }
    isCharacterDevice() {
      return (this.mode & S_IFMT) === TYPE_BITS.chardev;
    }
    isBlockDevice() {
      return false;
    }
    isSocket() {
      return false;
    }
  }
  class Dirent {
    constructor(name, type, parentPath) {
      this.name = name;
      this._type = type;
      this.parentPath = parentPath;
      this.path = parentPath;
    }
    isFile() {
      return this._type === "file";
    }
    isDirectory() {
      return this._type === "directory";
    }
    isSymbolicLink() {
      return this._type === "symlink";
    }
    isFIFO() {
      return this._type === "fifo";
    }
    isCharacterDevice() {
      return this._type === "chardev";
    }
    isBlockDevice() {
      return false;
    }
    isSocket() {
      return false;
    }
  }

  function flagsOf(flags, fallback) {
    if (flags === undefined || flags === null) return fallback;
    if (typeof flags === "number") {
      const acc = flags & 3;
      let f =
        acc === 0
          ? "r"
          : (flags & 0o2000) !== 0
            ? "a"
            : (flags & 0o1000) !== 0 || (flags & 0o100) !== 0
              ? "w"
              : "r";
      if (acc === 2) f += "+";
      if ((flags & 0o200) !== 0) f += "x";
      return f;
    }
    return String(flags);
  }

  const fs = {};
  fs.existsSync = (p) => {
    try {
      return sys("exists", [pathArg(p)]);
    } catch {
      return false;
    }
  };
  fs.readFileSync = (p, options) => {
    if (typeof p === "number") {
      const chunks = [];
      for (;;) {
        const { value, bytes } = sysBytes("read", [p, 1 << 20, null], undefined, "read");
        if (value === 0) break;
        chunks.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      }
      return out(Buffer.concat(chunks), options);
    }
    const path = pathArg(p);
    return out(sysBytes("readFile", [path], undefined, "open", path).bytes, options);
  };
  function writeOrAppend(p, data, options, append) {
    const bytes = toBytes(data, options);
    const flag =
      options && typeof options === "object" && options.flag ? String(options.flag) : append ? "a" : "w";
    if (typeof p === "number") {
      sys("write", [p, null], bytes, "write");
      return;
    }
    const path = pathArg(p);
    const mode = options && typeof options === "object" && options.mode !== undefined ? options.mode : null;
    if (flag === "w" || flag === "a") {
      sys("writeFile", [path, flag === "a", mode], bytes, "open", path);
      return;
    }
    const fd = fs.openSync(path, flag, mode === null ? undefined : mode);
    try {
      sys("write", [fd, null], bytes, "write");
    } finally {
      fs.closeSync(fd);
    }
  }
  fs.writeFileSync = (p, data, options) => writeOrAppend(p, data, options, false);
  fs.appendFileSync = (p, data, options) => writeOrAppend(p, data, options, true);
  fs.statSync = (p, options) => {
    const path = pathArg(p);
    try {
      return new Stats(sys("stat", [path], undefined, "stat", path));
    } catch (err) {
      if (options && options.throwIfNoEntry === false && err.code === "ENOENT") return undefined;
      throw err;
    }
  };
  fs.lstatSync = (p, options) => {
    const path = pathArg(p);
    try {
      return new Stats(sys("lstat", [path], undefined, "lstat", path));
    } catch (err) {
      if (options && options.throwIfNoEntry === false && err.code === "ENOENT") return undefined;
      throw err;
    }
  };
  fs.fstatSync = (fd) => new Stats(sys("fstat", [fd], undefined, "fstat"));
  fs.readdirSync = (p, options) => {
    const path = pathArg(p);
    const entries = sys("readdir", [path], undefined, "scandir", path).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    const recursive = options && typeof options === "object" && options.recursive;
    const withTypes = options && typeof options === "object" && options.withFileTypes;
    const enc = encodingOf(options);
    const result = [];
    const walk = (dir, rel, list) => {
      for (const e of list) {
        const relName = rel === "" ? e.name : rel + "/" + e.name;
        if (withTypes) result.push(new Dirent(recursive ? e.name : e.name, e.type, dir));
        else result.push(enc === "buffer" ? Buffer.from(relName) : relName);
        if (recursive && e.type === "directory") {
          const sub = dir + "/" + e.name;
          walk(sub, relName, sys("readdir", [sub], undefined, "scandir", sub));
        }
      }
    };
    walk(path, "", entries);
    return result;
  };
  fs.mkdirSync = (p, options) => {
    const path = pathArg(p);
    const recursive = options && typeof options === "object" ? Boolean(options.recursive) : false;
    const mode =
      typeof options === "number" ? options : options && options.mode !== undefined ? options.mode : null;
    const created = sys("mkdir", [path, recursive, mode], undefined, "mkdir", path);
    return recursive ? created : undefined;
  };
  fs.mkdtempSync = (prefix) => {
    const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (let attempt = 0; attempt < 100; attempt++) {
      let suffix = "";
      for (let i = 0; i < 6; i++) suffix += chars[Math.floor(Math.random() * chars.length)];
      const path = pathArg(prefix) + suffix;
      try {
        sys("mkdir", [path, false, 0o700], undefined, "mkdtemp", path);
        return path;
      } catch (err) {
        if (err.code !== "EEXIST") throw err;
      }
    }
    throw internal.systemError({ code: "EEXIST", message: "EEXIST" }, "mkdtemp", prefix);
  };
  fs.rmdirSync = (p, options) => {
    const path = pathArg(p);
    if (options && options.recursive) sys("rm", [path, true, false], undefined, "rmdir", path);
    else sys("rmdir", [path], undefined, "rmdir", path);
  };
  fs.rmSync = (p, options) => {
    const path = pathArg(p);
    const recursive = Boolean(options && options.recursive);
    const force = Boolean(options && options.force);
    if (!recursive) {
      const st = fs.lstatSync(path, { throwIfNoEntry: !force });
      if (st && st.isDirectory()) {
        const err = internal.systemError(
          { code: "ERR_FS_EISDIR", message: "Path is a directory" },
          "rm",
          path,
        );
        err.code = "ERR_FS_EISDIR";
        throw err;
      }
    }
    sys("rm", [path, recursive, force], undefined, "rm", path);
  };
  fs.unlinkSync = (p) => {
    const path = pathArg(p);
    sys("unlink", [path], undefined, "unlink", path);
  };
  fs.renameSync = (a, b) => {
    const from = pathArg(a, "oldPath");
    const to = pathArg(b, "newPath");
    sys("rename", [from, to], undefined, "rename", from, to);
  };
  fs.copyFileSync = (a, b, mode) => {
    const from = pathArg(a, "src");
    const to = pathArg(b, "dest");
    sys("copyFile", [from, to, ((mode || 0) & 1) !== 0], undefined, "copyfile", from, to);
  };
  fs.cpSync = (a, b, options) => {
    const from = pathArg(a, "src");
    const to = pathArg(b, "dest");
    const st = fs.statSync(from);
    if (st.isDirectory()) {
      if (!(options && options.recursive)) {
        const err = new Error("Recursive option is required to copy a directory: " + from);
        err.code = "ERR_FS_EISDIR";
        throw err;
      }
      fs.mkdirSync(to, { recursive: true });
      for (const entry of fs.readdirSync(from)) fs.cpSync(from + "/" + entry, to + "/" + entry, options);
    } else fs.copyFileSync(from, to);
  };
  fs.realpathSync = (p) => {
    const path = pathArg(p);
    return sys("realpath", [path], undefined, "realpath", path);
  };
  fs.realpathSync.native = fs.realpathSync;
  fs.readlinkSync = (p) => {
    const path = pathArg(p);
    return sys("readlink", [path], undefined, "readlink", path);
  };
  fs.symlinkSync = (target, p) => {
    const path = pathArg(p);
    sys("symlink", [pathArg(target, "target"), path], undefined, "symlink", target, path);
  };
  fs.linkSync = (a, b) => {
    const from = pathArg(a, "existingPath");
    const to = pathArg(b, "newPath");
    sys("link", [from, to], undefined, "link", from, to);
  };
  fs.chmodSync = (p, mode) => {
    const path = pathArg(p);
    sys("chmod", [path, typeof mode === "string" ? parseInt(mode, 8) : mode], undefined, "chmod", path);
  };
  fs.lchmodSync = fs.chmodSync;
  fs.chownSync = () => {};
  fs.lchownSync = () => {};
  fs.fchownSync = () => {};
  fs.utimesSync = (p, atime, mtime) => {
    const path = pathArg(p);
    const ms = (t) => (t instanceof Date ? t.getTime() : typeof t === "string" ? Number(t) * 1000 : t * 1000);
    sys("utimes", [path, ms(atime), ms(mtime)], undefined, "utime", path);
  };
  fs.lutimesSync = fs.utimesSync;
  fs.truncateSync = (p, len) => {
    if (typeof p === "number") return fs.ftruncateSync(p, len);
    const path = pathArg(p);
    sys("truncate", [path, len || 0], undefined, "open", path);
  };
  fs.ftruncateSync = (fd, len) => {
    sys("ftruncate", [fd, len || 0], undefined, "ftruncate");
  };
  fs.accessSync = (p, mode) => {
    const path = pathArg(p);
    const st = sys("stat", [path], undefined, "access", path);
    const m = mode || 0;
    const bits = st.mode;
    if (((m & 2) !== 0 && (bits & 0o222) === 0) || ((m & 1) !== 0 && (bits & 0o111) === 0)) {
      throw internal.systemError({ code: "EACCES", message: "EACCES: permission denied" }, "access", path);
    }
  };
  fs.openSync = (p, flags, mode) => {
    const path = pathArg(p);
    return sys(
      "open",
      [path, flagsOf(flags, "r"), mode === undefined || mode === null ? null : mode],
      undefined,
      "open",
      path,
    );
  };
  fs.closeSync = (fd) => {
    sys("close", [fd], undefined, "close");
  };
  fs.readSync = (fd, buffer, offsetOrOptions, length, position) => {
    let offset = offsetOrOptions;
    if (offsetOrOptions !== null && typeof offsetOrOptions === "object") {
      ({ offset = 0, length = buffer.byteLength - offset, position = null } = offsetOrOptions);
    }
    offset = offset || 0;
    if (length === undefined) length = buffer.byteLength - offset;
    if (typeof position === "bigint") position = Number(position);
    const { value, bytes } = sysBytes(
      "read",
      [fd, length, typeof position === "number" && position >= 0 ? position : null],
      undefined,
      "read",
    );
    new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength).set(bytes.subarray(0, value), offset);
    return value;
  };
  fs.writeSync = (fd, data, offsetOrPosition, lengthOrEncoding, position) => {
    let bytes;
    let pos = null;
    if (typeof data === "string") {
      bytes = Buffer.from(data, typeof lengthOrEncoding === "string" ? lengthOrEncoding : "utf8");
      if (typeof offsetOrPosition === "number") pos = offsetOrPosition;
    } else {
      const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const offset = typeof offsetOrPosition === "number" ? offsetOrPosition : 0;
      const length = typeof lengthOrEncoding === "number" ? lengthOrEncoding : view.length - offset;
      bytes = view.subarray(offset, offset + length);
      if (typeof position === "number") pos = position;
    }
    return sys("write", [fd, pos], bytes, "write");
  };
  fs.fsyncSync = () => {};
  fs.fdatasyncSync = () => {};
  fs.opendirSync = (p) => {
    const path = pathArg(p);
    const entries = fs.readdirSync(path, { withFileTypes: true });
    let i = 0;
    return {
      path,
      readSync: () => (i < entries.length ? entries[i++] : null),
      read: (cb) => {
        const v = i < entries.length ? entries[i++] : null;
        if (cb) process.nextTick(cb, null, v);
        else return Promise.resolve(v);
      },
      closeSync: () => {},
      close: (cb) => (cb ? process.nextTick(cb, null) : Promise.resolve()),
      async *[Symbol.asyncIterator]() {
        while (i < entries.length) yield entries[i++];
      },
    };
  };
  function unsupported(what) {
    return () => {
      const err = new Error(what + " is not supported in this workspace");
      err.code = "ERR_FEATURE_UNAVAILABLE_ON_PLATFORM";
      throw err;
    };
  }
  fs.watch = unsupported("fs.watch");
  fs.watchFile = unsupported("fs.watchFile");
  fs.unwatchFile = () => {};

  // Callback forms: the sync call, reported on the next tick.
  const callbackNames = [
    "readFile",
    "writeFile",
    "appendFile",
    "stat",
    "lstat",
    "fstat",
    "readdir",
    "mkdir",
    "mkdtemp",
    "rmdir",
    "rm",
    "unlink",
    "rename",
    "copyFile",
    "cp",
    "realpath",
    "readlink",
    "symlink",
    "link",
    "chmod",
    "lchmod",
    "chown",
    "lchown",
    "fchown",
    "utimes",
    "lutimes",
    "truncate",
    "ftruncate",
    "access",
    "open",
    "close",
    "fsync",
    "fdatasync",
    "opendir",
  ];
  for (const n of callbackNames) {
    const sync = fs[n + "Sync"];
    fs[n] = function (...args) {
      const cb = args.pop();
      if (typeof cb !== "function") {
        const err = new TypeError('The "cb" argument must be of type function. Received ' + typeof cb);
        err.code = "ERR_INVALID_ARG_TYPE";
        throw err;
      }
      let result;
      try {
        result = sync(...args);
      } catch (err) {
        process.nextTick(cb, err);
        return;
      }
      process.nextTick(cb, null, result);
    };
  }
  fs.realpath.native = fs.realpath;
  fs.exists = (p, cb) => process.nextTick(cb, fs.existsSync(p));
  fs.read = (fd, buffer, offset, length, position, cb) => {
    if (typeof buffer === "function") {
      cb = buffer;
      buffer = Buffer.alloc(16384);
      offset = 0;
      length = buffer.length;
      position = null;
    } else if (typeof offset === "function") {
      cb = offset;
      offset = 0;
      length = buffer.byteLength;
      position = null;
    } else if (offset !== null && typeof offset === "object") {
      cb = length;
    }
    try {
      const n = fs.readSync(fd, buffer, offset, length, position);
      process.nextTick(cb, null, n, buffer);
    } catch (err) {
      process.nextTick(cb, err);
    }
  };
  fs.write = (fd, data, ...rest) => {
    const cb = rest.pop();
    try {
      const n = fs.writeSync(fd, data, ...rest);
      process.nextTick(cb, null, n, data);
    } catch (err) {
      process.nextTick(cb, err);
    }
  };

  // Streams.
  fs.createReadStream = (p, options) => {
    const { Readable } = require("stream");
    if (typeof options === "string") options = { encoding: options };
    options = options || {};
    const path = p === null || p === undefined ? undefined : pathArg(p);
    let fd = options.fd;
    let pos = options.start;
    const end = options.end === undefined ? Infinity : options.end;
    const hwm = options.highWaterMark || 65536;
    const stream = new Readable({
      highWaterMark: hwm,
      encoding: options.encoding,
      read() {
        try {
          if (fd === undefined) fd = fs.openSync(path, options.flags || "r");
          const want = Math.min(hwm, end === Infinity ? hwm : end - (pos || 0) + 1);
          if (want <= 0) {
            this.push(null);
            return;
          }
          const buf = Buffer.alloc(want);
          const n = fs.readSync(fd, buf, 0, want, pos === undefined ? null : pos);
          if (pos !== undefined) pos += n;
          this.bytesRead += n;
          this.push(n === 0 ? null : buf.subarray(0, n));
        } catch (err) {
          this.destroy(err);
        }
      },
      destroy(err, cb) {
        if (fd !== undefined && options.autoClose !== false) {
          try {
            fs.closeSync(fd);
          } catch {
            // Already closed.
          }
          fd = undefined;
        }
        cb(err);
      },
    });
    stream.path = path;
    stream.bytesRead = 0;
    process.nextTick(() => {
      if (stream.destroyed) return;
      try {
        if (fd === undefined) fd = fs.openSync(path, options.flags || "r");
        stream.emit("open", fd);
        stream.emit("ready");
      } catch (err) {
        stream.destroy(err);
      }
    });
    return stream;
  };
  fs.createWriteStream = (p, options) => {
    const { Writable } = require("stream");
    if (typeof options === "string") options = { encoding: options };
    options = options || {};
    const path = p === null || p === undefined ? undefined : pathArg(p);
    let fd = options.fd;
    let pos = options.start;
    const open = () => {
      if (fd === undefined) fd = fs.openSync(path, options.flags || "w", options.mode);
    };
    const stream = new Writable({
      decodeStrings: true,
      write(chunk, encoding, cb) {
        try {
          open();
          const n = fs.writeSync(fd, chunk, 0, chunk.length, pos === undefined ? null : pos);
          if (pos !== undefined) pos += n;
          stream.bytesWritten += n;
          cb();
        } catch (err) {
          cb(err);
        }
      },
      final(cb) {
        cb();
      },
      destroy(err, cb) {
        if (fd !== undefined && options.autoClose !== false) {
          try {
            fs.closeSync(fd);
          } catch {
            // Already closed.
          }
          fd = undefined;
        }
        cb(err);
      },
    });
    stream.path = path;
    stream.bytesWritten = 0;
    stream.close = (cb) => {
      stream.end();
      if (cb) stream.once("close", cb);
    };
    process.nextTick(() => {
      if (stream.destroyed) return;
      try {
        open();
        stream.emit("open", fd);
        stream.emit("ready");
      } catch (err) {
        stream.destroy(err);
      }
    });
    return stream;
  };

  // Promises.
  const promises = {};
  for (const n of callbackNames) {
    const sync = fs[n + "Sync"];
    promises[n] = (...args) => {
      try {
        return Promise.resolve(sync(...args));
      } catch (err) {
        return Promise.reject(err);
      }
    };
  }
  class FileHandle {
    constructor(fd) {
      this.fd = fd;
    }
    async read(buffer, offset, length, position) {
      if (
        buffer === undefined ||
        (buffer !== null && typeof buffer === "object" && !ArrayBuffer.isView(buffer))
      ) {
        const o = buffer || {};
        buffer = o.buffer || Buffer.alloc(16384);
        offset = o.offset || 0;
        length = o.length === undefined ? buffer.byteLength - offset : o.length;
        position = o.position === undefined ? null : o.position;
      }
      const bytesRead = fs.readSync(
        this.fd,
        buffer,
        offset || 0,
        length === undefined ? buffer.byteLength - (offset || 0) : length,
        position,
      );
      return { bytesRead, buffer };
    }
    async write(data, ...rest) {
      const bytesWritten = fs.writeSync(this.fd, data, ...rest);
      return { bytesWritten, buffer: data };
    }
    async readFile(options) {
      return fs.readFileSync(this.fd, options);
    }
    async writeFile(data, options) {
      fs.writeSync(this.fd, toBytes(data, options));
    }
    async appendFile(data, options) {
      fs.writeSync(this.fd, toBytes(data, options));
    }
    async stat() {
      return fs.fstatSync(this.fd);
    }
    async truncate(len) {
      fs.ftruncateSync(this.fd, len);
    }
    async sync() {}
    async datasync() {}
    async close() {
      if (this.fd !== -1) fs.closeSync(this.fd);
      this.fd = -1;
    }
    createReadStream(options) {
      return fs.createReadStream(null, Object.assign({}, options, { fd: this.fd }));
    }
    createWriteStream(options) {
      return fs.createWriteStream(null, Object.assign({}, options, { fd: this.fd }));
    }
    async *readLines() {
      const text = fs.readFileSync(this.fd, "utf8");
      const lines = text.split("\n");
      if (lines[lines.length - 1] === "") lines.pop();
      yield* lines;
    }
  }
  promises.open = async (p, flags, mode) => new FileHandle(fs.openSync(p, flags, mode));
  promises.exists = undefined;
  delete promises.exists;
  promises.constants = undefined;

  fs.constants = {
    F_OK: 0,
    R_OK: 4,
    W_OK: 2,
    X_OK: 1,
    O_RDONLY: 0,
    O_WRONLY: 1,
    O_RDWR: 2,
    O_CREAT: 0o100,
    O_EXCL: 0o200,
    O_TRUNC: 0o1000,
    O_APPEND: 0o2000,
    O_DIRECTORY: 0o200000,
    O_NOFOLLOW: 0o400000,
    O_SYNC: 0o4010000,
    S_IFMT,
    S_IFREG: 0o100000,
    S_IFDIR: 0o040000,
    S_IFLNK: 0o120000,
    S_IFIFO: 0o010000,
    S_IFCHR: 0o020000,
    COPYFILE_EXCL: 1,
    COPYFILE_FICLONE: 2,
    COPYFILE_FICLONE_FORCE: 4,
    UV_FS_COPYFILE_EXCL: 1,
  };
  promises.constants = fs.constants;
  Object.assign(fs, fs.constants);
  fs.Stats = Stats;
  fs.Dirent = Dirent;
  fs.promises = promises;
  fs.ReadStream = function ReadStream(p, o) {
    return fs.createReadStream(p, o);
  };
  fs.WriteStream = function WriteStream(p, o) {
    return fs.createWriteStream(p, o);
  };
  module.exports = name === "fs/promises" ? promises : fs;
}
