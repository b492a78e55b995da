// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-nocheck -- guest code: it runs inside QuickJS (shipped as its source text), not in Node.
/** Guest `buffer`: Buffer as a Uint8Array subclass with Node's encodings and accessors. */
export function guestBuffer(module, exports, require, internal) {
  "use strict";
  const { utf8Encode, utf8Decode } = internal;
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const B64_LOOKUP = new Int16Array(256).fill(-1);
  for (let i = 0; i < 64; i++) B64_LOOKUP[B64.charCodeAt(i)] = i;
  B64_LOOKUP["-".charCodeAt(0)] = 62;
  B64_LOOKUP["_".charCodeAt(0)] = 63;
  const HEX = "0123456789abcdef";

  function normEncoding(enc) {
    if (enc === undefined || enc === null) return "utf8";
    const e = String(enc).toLowerCase();
    switch (e) {
      case "utf8":
      case "utf-8":
        return "utf8";
      case "hex":
      case "base64":
      case "base64url":
      case "ascii":
      case "latin1":
        return e;
      case "binary":
        return "latin1";
      case "ucs2":
      case "ucs-2":
      case "utf16le":
      case "utf-16le":
        return "utf16le";
      default:
        return undefined;
    }
  }
  function encodingOrThrow(enc) {
    const e = normEncoding(enc);
    if (e === undefined) {
      const err = new TypeError("Unknown encoding: " + enc);
      err.code = "ERR_UNKNOWN_ENCODING";
      throw err;
    }
    return e;
  }

  function base64Decode(str) {
    const out = new Uint8Array(Math.ceil((str.length * 3) / 4));
    let n = 0;
    let acc = 0;
    let bits = 0;
    for (let i = 0; i < str.length; i++) {
      const v = B64_LOOKUP[str.charCodeAt(i) & 255];
      if (str.charCodeAt(i) > 255 || v < 0) {
        if (str[i] === "=") break;
        continue;
      }
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[n++] = (acc >> bits) & 255;
      }
    }
    return out.subarray(0, n);
  }
  function base64Encode(bytes, url) {
    const alphabet = url ? B64.slice(0, 62) + "-_" : B64;
    let out = "";
    let i = 0;
    for (; i + 2 < bytes.length; i += 3) {
      const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      out += alphabet[v >> 18] + alphabet[(v >> 12) & 63] + alphabet[(v >> 6) & 63] + alphabet[v & 63];
    }
    if (i < bytes.length) {
      const v = (bytes[i] << 16) | ((i + 1 < bytes.length ? bytes[i + 1] : 0) << 8);
      out += alphabet[v >> 18] + alphabet[(v >> 12) & 63];
      if (i + 1 < bytes.length) out += alphabet[(v >> 6) & 63];
      else if (!url) out += "=";
      if (!url) out += "=";
    }
    return out;
  }
  function hexDecode(str) {
    const n = str.length >>> 1;
    const out = new Uint8Array(n);
    let i = 0;
    for (; i < n; i++) {
      const v = parseInt(str.substr(i * 2, 2), 16);
      if (Number.isNaN(v)) break;
      out[i] = v;
    }
    return out.subarray(0, i);
  }
  function encode(str, enc) {
    switch (enc) {
      case "utf8":
        return utf8Encode(str);
      case "hex":
        return hexDecode(str);
      case "base64":
      case "base64url":
        return base64Decode(str);
      case "ascii":
      case "latin1": {
        const out = new Uint8Array(str.length);
        for (let i = 0; i < str.length; i++) out[i] = str.charCodeAt(i) & 255;
        return out;
      }
      case "utf16le": {
        const out = new Uint8Array(str.length * 2);
        for (let i = 0; i < str.length; i++) {
          const c = str.charCodeAt(i);
          out[i * 2] = c & 255;
          out[i * 2 + 1] = c >> 8;
        }
        return out;
      }
    }
    return utf8Encode(str);
  }
  function decode(bytes, enc, start, end) {
    switch (enc) {
      case "utf8":
        return utf8Decode(bytes, start, end);
      case "hex": {
        let out = "";
        for (let i = start; i < end; i++) out += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
        return out;
      }
      case "base64":
        return base64Encode(bytes.subarray(start, end), false);
      case "base64url":
        return base64Encode(bytes.subarray(start, end), true);
      case "ascii":
      case "latin1": {
        let out = "";
        const mask = enc === "ascii" ? 127 : 255;
        for (let i = start; i < end; i += 8192) {
          const part = Array.from(bytes.subarray(i, Math.min(end, i + 8192)), (b) => b & mask);
          out += String.fromCharCode.apply(null, part);
        }
        return out;
      }
      case "utf16le": {
        let out = "";
        for (let i = start; i + 1 < end; i += 2) out += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8));
        return out;
      }
    }
    return utf8Decode(bytes, start, end);
  }

  class Buffer extends Uint8Array {
    constructor(arg, encodingOrOffset, length) {
      if (typeof arg === "number" && encodingOrOffset === undefined) {
        super(arg);
      } else if (
        arg instanceof ArrayBuffer ||
        (typeof SharedArrayBuffer !== "undefined" && arg instanceof SharedArrayBuffer)
      ) {
        const offset = encodingOrOffset === undefined ? 0 : Number(encodingOrOffset);
        super(arg, offset, length === undefined ? arg.byteLength - offset : Number(length));
      } else {
        // The deprecated `new Buffer(value)` forms.
        return Buffer.from(arg, encodingOrOffset, length);
      }
    }
    static from(value, encodingOrOffset, length) {
      if (typeof value === "string") {
        const bytes = encode(value, encodingOrThrow(encodingOrOffset));
        return new Buffer(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      }
      if (
        value instanceof ArrayBuffer ||
        (typeof SharedArrayBuffer !== "undefined" && value instanceof SharedArrayBuffer)
      ) {
        return new Buffer(value, encodingOrOffset, length);
      }
      if (ArrayBuffer.isView(value)) {
        const src = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
        const out = new Buffer(src.length);
        out.set(src);
        return out;
      }
      if (Array.isArray(value)) {
        const out = new Buffer(value.length);
        for (let i = 0; i < value.length; i++) out[i] = value[i];
        return out;
      }
      if (value && typeof value === "object") {
        if (value.type === "Buffer" && Array.isArray(value.data)) return Buffer.from(value.data);
        if (typeof value.length === "number") return Buffer.from(Array.from(value));
        if (typeof value.valueOf === "function" && value.valueOf() !== value)
          return Buffer.from(value.valueOf(), encodingOrOffset, length);
        if (typeof value[Symbol.toPrimitive] === "function")
          return Buffer.from(value[Symbol.toPrimitive]("string"), encodingOrOffset);
      }
      const err = new TypeError(
        "The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received " +
          (value === null ? "null" : typeof value),
      );
      err.code = "ERR_INVALID_ARG_TYPE";
      throw err;
    }
    static alloc(size, fill, encoding) {
      checkSize(size);
      const b = new Buffer(size);
      if (fill !== undefined && fill !== 0) b.fill(fill, 0, size, encoding);
      return b;
    }
    static allocUnsafe(size) {
      checkSize(size);
      return new Buffer(size);
    }
    static allocUnsafeSlow(size) {
      checkSize(size);
      return new Buffer(size);
    }
    static isBuffer(b) {
      return b instanceof Buffer;
    }
    static isEncoding(enc) {
      return typeof enc === "string" && enc !== "" && normEncoding(enc) !== undefined;
    }
    static byteLength(value, encoding) {
      if (typeof value !== "string") {
        if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value.byteLength;
        const err = new TypeError(
          'The "string" argument must be of type string or an instance of Buffer or ArrayBuffer',
        );
        err.code = "ERR_INVALID_ARG_TYPE";
        throw err;
      }
      const enc = normEncoding(encoding) || "utf8";
      if (enc === "utf8") {
        let n = 0;
        for (let i = 0; i < value.length; i++) {
          const c = value.charCodeAt(i);
          if (c < 0x80) n += 1;
          else if (c < 0x800) n += 2;
          else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
            const d = value.charCodeAt(i + 1);
            if (d >= 0xdc00 && d <= 0xdfff) {
              n += 4;
              i++;
            } else n += 3;
          } else n += 3;
        }
        return n;
      }
      return encode(value, enc).length;
    }
    static concat(list, totalLength) {
      if (!Array.isArray(list)) {
        const err = new TypeError('The "list" argument must be an instance of Array');
        err.code = "ERR_INVALID_ARG_TYPE";
        throw err;
      }
      if (totalLength === undefined) totalLength = list.reduce((n, b) => n + b.length, 0);
      const out = Buffer.alloc(totalLength);
      let off = 0;
      for (const b of list) {
        if (off >= totalLength) break;
        const part = b.length > totalLength - off ? b.subarray(0, totalLength - off) : b;
        out.set(part, off);
        off += part.length;
      }
      return out;
    }
    static compare(a, b) {
      return a.compare(b);
    }
    get parent() {
      return this.buffer;
    }
    get offset() {
      return this.byteOffset;
    }
    toString(encoding, start, end) {
      const enc = encodingOrThrow(encoding);
      start = start === undefined ? 0 : Math.max(0, start | 0);
      end = end === undefined ? this.length : Math.min(this.length, end | 0);
      if (end <= start) return "";
      return decode(this, enc, start, end);
    }
    toLocaleString(encoding, start, end) {
      return this.toString(encoding, start, end);
    }
    toJSON() {
      return { type: "Buffer", data: Array.from(this) };
    }
    equals(other) {
      if (!(other instanceof Uint8Array)) {
        const err = new TypeError('The "otherBuffer" argument must be an instance of Buffer or Uint8Array');
        err.code = "ERR_INVALID_ARG_TYPE";
        throw err;
      }
      if (this.length !== other.length) return false;
      for (let i = 0; i < this.length; i++) if (this[i] !== other[i]) return false;
      return true;
    }
    compare(target, tStart = 0, tEnd = target.length, sStart = 0, sEnd = this.length) {
      const a = this.subarray(sStart, sEnd);
      const b = target.subarray(tStart, tEnd);
      const n = Math.min(a.length, b.length);
      for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
    }
    copy(target, targetStart = 0, sourceStart = 0, sourceEnd = this.length) {
      const src = this.subarray(
        sourceStart,
        Math.min(sourceEnd, sourceStart + (target.length - targetStart)),
      );
      target.set(src, targetStart);
      return src.length;
    }
    slice(start, end) {
      return this.subarray(start, end);
    }
    subarray(start, end) {
      const len = this.length;
      start = start === undefined ? 0 : start | 0;
      end = end === undefined ? len : end | 0;
      if (start < 0) start = Math.max(0, len + start);
      if (end < 0) end = Math.max(0, len + end);
      start = Math.min(start, len);
      end = Math.max(start, Math.min(end, len));
      return new Buffer(this.buffer, this.byteOffset + start, end - start);
    }
    write(string, offset, length, encoding) {
      if (typeof offset === "string") {
        encoding = offset;
        offset = 0;
        length = undefined;
      } else if (typeof length === "string") {
        encoding = length;
        length = undefined;
      }
      offset = offset === undefined ? 0 : offset >>> 0;
      const bytes = encode(String(string), encodingOrThrow(encoding));
      const n = Math.min(bytes.length, this.length - offset, length === undefined ? Infinity : length);
      this.set(bytes.subarray(0, n), offset);
      return n;
    }
    fill(value, offset, end, encoding) {
      if (typeof offset === "string") {
        encoding = offset;
        offset = 0;
        end = this.length;
      } else if (typeof end === "string") {
        encoding = end;
        end = this.length;
      }
      offset = offset === undefined ? 0 : offset;
      end = end === undefined ? this.length : end;
      if (typeof value === "number")
        return (Uint8Array.prototype.fill.call(this, value & 255, offset, end), this);
      const bytes = typeof value === "string" ? encode(value, encodingOrThrow(encoding)) : value;
      if (bytes.length === 0) return (Uint8Array.prototype.fill.call(this, 0, offset, end), this);
      for (let i = offset, j = 0; i < end; i++, j = (j + 1) % bytes.length) this[i] = bytes[j];
      return this;
    }
    indexOf(value, byteOffset, encoding) {
      return search(this, value, byteOffset, encoding, false);
    }
    lastIndexOf(value, byteOffset, encoding) {
      return search(this, value, byteOffset, encoding, true);
    }
    includes(value, byteOffset, encoding) {
      return this.indexOf(value, byteOffset, encoding) !== -1;
    }
    swap16() {
      for (let i = 0; i + 1 < this.length; i += 2) {
        const t = this[i];
        this[i] = this[i + 1];
        this[i + 1] = t;
      }
      return this;
    }
    swap32() {
      for (let i = 0; i + 3 < this.length; i += 4) {
        this.subarray(i, i + 4).reverse();
      }
      return this;
    }
  }
  function checkSize(size) {
    if (typeof size !== "number" || !(size >= 0) || size > 4294967296) {
      const err = new RangeError('The argument "size" is invalid. Received ' + size);
      err.code = "ERR_INVALID_ARG_VALUE";
      throw err;
    }
  }
  function search(buf, value, byteOffset, encoding, last) {
    if (typeof byteOffset === "string") {
      encoding = byteOffset;
      byteOffset = undefined;
    }
    let needle;
    if (typeof value === "number") needle = [value & 255];
    else if (typeof value === "string") needle = encode(value, encodingOrThrow(encoding));
    else needle = value;
    const len = buf.length;
    let start = byteOffset === undefined ? (last ? len - needle.length : 0) : byteOffset | 0;
    if (start < 0) start = len + start;
    if (needle.length === 0) return Math.min(Math.max(start, 0), len);
    if (last) {
      for (let i = Math.min(start, len - needle.length); i >= 0; i--) if (matchAt(buf, needle, i)) return i;
    } else {
      for (let i = Math.max(start, 0); i <= len - needle.length; i++) if (matchAt(buf, needle, i)) return i;
    }
    return -1;
  }
  function matchAt(buf, needle, at) {
    for (let j = 0; j < needle.length; j++) if (buf[at + j] !== needle[j]) return false;
    return true;
  }

  // Numeric accessors, through a DataView over the same bytes.
  function view(b) {
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  function checkOffset(b, offset, size) {
    offset = offset === undefined ? 0 : offset;
    if (offset !== offset >>> 0 || offset + size > b.length) {
      const err = new RangeError(
        'The value of "offset" is out of range. It must be >= 0 and <= ' +
          (b.length - size) +
          ". Received " +
          offset,
      );
      err.code = "ERR_OUT_OF_RANGE";
      throw err;
    }
    return offset;
  }
  const accessors = [
    ["UInt8", "Uint8", 1],
    ["Int8", "Int8", 1],
    ["UInt16", "Uint16", 2],
    ["Int16", "Int16", 2],
    ["UInt32", "Uint32", 4],
    ["Int32", "Int32", 4],
    ["Float", "Float32", 4],
    ["Double", "Float64", 8],
    ["BigUInt64", "BigUint64", 8],
    ["BigInt64", "BigInt64", 8],
  ];
  const P = Buffer.prototype;
  for (const [name, dv, size] of accessors) {
    const ends = size === 1 ? [""] : ["LE", "BE"];
    for (const end of ends) {
      const little = end === "LE";
      P["read" + name + end] = function (offset) {
        offset = checkOffset(this, offset, size);
        return view(this)["get" + dv](offset, little);
      };
      P["write" + name + end] = function (value, offset) {
        offset = checkOffset(this, offset, size);
        view(this)["set" + dv](offset, value, little);
        return offset + size;
      };
      if (name.startsWith("UInt")) {
        const alias = "Uint" + name.slice(4);
        P["read" + alias + end] = P["read" + name + end];
        P["write" + alias + end] = P["write" + name + end];
      }
      if (name.startsWith("BigUInt")) {
        P["readBigUint64" + end] = P["read" + name + end];
        P["writeBigUint64" + end] = P["write" + name + end];
      }
    }
  }
  P.readUIntBE = function (offset, byteLength) {
    let v = 0;
    for (let i = 0; i < byteLength; i++) v = v * 256 + this[offset + i];
    return v;
  };
  P.readUIntLE = function (offset, byteLength) {
    let v = 0;
    for (let i = byteLength - 1; i >= 0; i--) v = v * 256 + this[offset + i];
    return v;
  };
  P.readIntBE = function (offset, byteLength) {
    const v = this.readUIntBE(offset, byteLength);
    const limit = 2 ** (8 * byteLength - 1);
    return v >= limit ? v - limit * 2 : v;
  };
  P.readIntLE = function (offset, byteLength) {
    const v = this.readUIntLE(offset, byteLength);
    const limit = 2 ** (8 * byteLength - 1);
    return v >= limit ? v - limit * 2 : v;
  };
  P.writeUIntBE = function (value, offset, byteLength) {
    for (let i = byteLength - 1; i >= 0; i--) {
      this[offset + i] = value & 255;
      value = Math.floor(value / 256);
    }
    return offset + byteLength;
  };
  P.writeUIntLE = function (value, offset, byteLength) {
    for (let i = 0; i < byteLength; i++) {
      this[offset + i] = value & 255;
      value = Math.floor(value / 256);
    }
    return offset + byteLength;
  };
  P.writeIntBE = function (value, offset, byteLength) {
    return this.writeUIntBE(value < 0 ? value + 2 ** (8 * byteLength) : value, offset, byteLength);
  };
  P.writeIntLE = function (value, offset, byteLength) {
    return this.writeUIntLE(value < 0 ? value + 2 ** (8 * byteLength) : value, offset, byteLength);
  };
  P.asciiSlice = function (s, e) {
    return this.toString("ascii", s, e);
  };
  P.utf8Slice = function (s, e) {
    return this.toString("utf8", s, e);
  };
  P.latin1Slice = function (s, e) {
    return this.toString("latin1", s, e);
  };
  P.hexSlice = function (s, e) {
    return this.toString("hex", s, e);
  };
  P.base64Slice = function (s, e) {
    return this.toString("base64", s, e);
  };
  P.utf8Write = function (str, off, len) {
    return this.write(str, off, len, "utf8");
  };

  Buffer.poolSize = 8192;
  internal.bufferDecode = decode;
  internal.normEncoding = normEncoding;

  exports.Buffer = Buffer;
  exports.SlowBuffer = Buffer;
  exports.kMaxLength = 4294967296;
  exports.kStringMaxLength = 536870888;
  exports.constants = { MAX_LENGTH: 4294967296, MAX_STRING_LENGTH: 536870888 };
  exports.INSPECT_MAX_BYTES = 50;
  exports.atob = (s) => decode(base64Decode(String(s).replace(/[\t\n\f\r ]/g, "")), "latin1", 0, Infinity);
  exports.btoa = (s) => {
    s = String(s);
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > 255) {
        const err = new Error("Invalid character");
        err.name = "InvalidCharacterError";
        throw err;
      }
    }
    return base64Encode(encode(s, "latin1"), false);
  };
  exports.isUtf8 = (b) => {
    try {
      return utf8Decode(b).indexOf("\ufffd") === -1;
    } catch {
      return false;
    }
  };
  exports.transcode = (source, from, to) => Buffer.from(Buffer.from(source).toString(from), to);
  exports.Blob = class Blob {
    constructor(parts = [], options = {}) {
      this._bytes = Buffer.concat(
        parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p._bytes || p))),
      );
      this.type = options.type || "";
    }
    get size() {
      return this._bytes.length;
    }
    text() {
      return Promise.resolve(this._bytes.toString());
    }
    arrayBuffer() {
      const b = this._bytes;
      return Promise.resolve(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    }
  };
}
