// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-nocheck -- guest code: it runs inside QuickJS (shipped as its source text), not in Node.
/* eslint-disable no-control-regex -- protocol parsing matches control characters on purpose */
/** Guest `util` (and `util/types`): format, inspect, promisify, inherits, types, TextEncoder/Decoder. */
export function guestUtil(module, exports, require, internal, name) {
  "use strict";
  const customInspect = Symbol.for("nodejs.util.inspect.custom");
  const promisifyCustom = Symbol.for("nodejs.util.promisify.custom");

  const types = {
    isPromise: (v) => v instanceof Promise,
    isRegExp: (v) => v instanceof RegExp,
    isDate: (v) => v instanceof Date,
    isMap: (v) => v instanceof Map,
    isSet: (v) => v instanceof Set,
    isWeakMap: (v) => v instanceof WeakMap,
    isWeakSet: (v) => v instanceof WeakSet,
    isNativeError: (v) => v instanceof Error,
    isTypedArray: (v) => ArrayBuffer.isView(v) && !(v instanceof DataView),
    isUint8Array: (v) => v instanceof Uint8Array,
    isArrayBuffer: (v) => v instanceof ArrayBuffer,
    isAnyArrayBuffer: (v) =>
      v instanceof ArrayBuffer ||
      (typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer),
    isArrayBufferView: (v) => ArrayBuffer.isView(v),
    isDataView: (v) => v instanceof DataView,
    isAsyncFunction: (v) =>
      typeof v === "function" && v.constructor && v.constructor.name === "AsyncFunction",
    isGeneratorFunction: (v) =>
      typeof v === "function" && v.constructor && /GeneratorFunction/.test(v.constructor.name),
    isGeneratorObject: (v) =>
      v !== null &&
      typeof v === "object" &&
      typeof v.next === "function" &&
      typeof v[Symbol.iterator] === "function" &&
      Object.prototype.toString.call(v) === "[object Generator]",
    isBoxedPrimitive: (v) => v instanceof Number || v instanceof String || v instanceof Boolean,
    isProxy: () => false,
    isExternal: () => false,
    isModuleNamespaceObject: (v) => v !== null && typeof v === "object" && v[Symbol.toStringTag] === "Module",
    isSymbolObject: (v) => typeof v === "object" && v instanceof Symbol,
    isBigInt64Array: (v) => v instanceof BigInt64Array,
    isBigUint64Array: (v) => v instanceof BigUint64Array,
    isFloat32Array: (v) => v instanceof Float32Array,
    isFloat64Array: (v) => v instanceof Float64Array,
    isInt8Array: (v) => v instanceof Int8Array,
    isInt16Array: (v) => v instanceof Int16Array,
    isInt32Array: (v) => v instanceof Int32Array,
    isUint8ClampedArray: (v) => v instanceof Uint8ClampedArray,
    isUint16Array: (v) => v instanceof Uint16Array,
    isUint32Array: (v) => v instanceof Uint32Array,
  };
  if (name === "util/types") {
    module.exports = types;
    return;
  }

  const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  function quote(s) {
    return "'" + s.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n") + "'";
  }
  function inspect(value, opts) {
    const options = { depth: 2, showHidden: false, breakLength: 80, compact: 3, colors: false };
    if (typeof opts === "object" && opts !== null) Object.assign(options, opts);
    else if (typeof opts === "boolean") options.showHidden = opts;
    if (options.depth === null) options.depth = Infinity;
    return formatValue(value, options, 0, new Set());
  }
  inspect.custom = customInspect;
  inspect.defaultOptions = { depth: 2 };
  inspect.colors = {};
  inspect.styles = {};

  function className(v) {
    const proto = Object.getPrototypeOf(v);
    if (proto === null) return "[Object: null prototype]";
    const c = proto.constructor;
    return c && typeof c.name === "string" ? c.name : "Object";
  }
  function formatPrimitive(v) {
    switch (typeof v) {
      case "string":
        return quote(v);
      case "number":
        return Object.is(v, -0) ? "-0" : String(v);
      case "bigint":
        return String(v) + "n";
      case "symbol":
        return v.toString();
      case "undefined":
        return "undefined";
      case "boolean":
        return String(v);
    }
    return "null";
  }
  function formatValue(v, options, depth, seen) {
    if (v === null || (typeof v !== "object" && typeof v !== "function")) return formatPrimitive(v);
    if (typeof v[customInspect] === "function" && v[customInspect] !== inspect) {
      const out = v[customInspect](options.depth - depth, options, inspect);
      return typeof out === "string" ? out : formatValue(out, options, depth, seen);
    }
    if (seen.has(v)) return "[Circular *1]";
    if (typeof v === "function") {
      const base =
        (v.toString().startsWith("class") ? "[class " : "[Function: ") + (v.name || "(anonymous)") + "]";
      const keys = Object.keys(v);
      if (keys.length === 0) return base;
      return formatObjectBody(v, keys, base + " ", options, depth, seen, "{", "}");
    }
    if (v instanceof Error) {
      let s = v.stack ? String(v.stack) : "";
      const head = String(v.name || "Error") + (v.message ? ": " + v.message : "");
      if (!s.startsWith(head)) s = head + (s ? "\n" + s.replace(/\n$/, "") : "");
      const keys = Object.keys(v).filter((k) => k !== "stack");
      if (keys.length === 0 || depth > options.depth) return depth > 0 ? "[" + head + "]" : s;
      return formatObjectBody(v, keys, s + " ", options, depth, seen, "{", "}");
    }
    if (v instanceof Date) return isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
    if (v instanceof RegExp) return String(v);
    if (v instanceof Promise) return "Promise { <unknown> }";
    if (v instanceof WeakMap) return "WeakMap { <items unknown> }";
    if (v instanceof WeakSet) return "WeakSet { <items unknown> }";
    if (typeof v.constructor === "function" && v.constructor.name === "Buffer" && v instanceof Uint8Array) {
      const hex = [];
      for (let i = 0; i < Math.min(v.length, 50); i++) hex.push((v[i] < 16 ? "0" : "") + v[i].toString(16));
      return (
        "<Buffer" +
        (hex.length ? " " + hex.join(" ") : "") +
        (v.length > 50 ? " ... " + (v.length - 50) + " more bytes" : "") +
        ">"
      );
    }
    if (depth > options.depth) {
      return Array.isArray(v) ? "[Array]" : "[" + (className(v) === "Object" ? "Object" : className(v)) + "]";
    }
    seen.add(v);
    try {
      if (Array.isArray(v) || ArrayBuffer.isView(v)) {
        const items = [];
        const limit = Math.min(v.length, 100);
        for (let i = 0; i < limit; i++) items.push(formatValue(v[i], options, depth + 1, seen));
        if (v.length > limit)
          items.push("... " + (v.length - limit) + " more item" + (v.length - limit > 1 ? "s" : ""));
        for (const k of Object.keys(v)) {
          if (!/^\d+$/.test(k)) items.push(key(k) + ": " + formatValue(v[k], options, depth + 1, seen));
        }
        const prefix = Array.isArray(v)
          ? className(v) === "Array"
            ? ""
            : className(v) + "(" + v.length + ") "
          : className(v) + "(" + v.length + ") ";
        return wrap(items, prefix + "[", "]", options, depth);
      }
      if (v instanceof Map) {
        const items = [];
        for (const [k, val] of v)
          items.push(
            formatValue(k, options, depth + 1, seen) + " => " + formatValue(val, options, depth + 1, seen),
          );
        return wrap(items, "Map(" + v.size + ") {", "}", options, depth);
      }
      if (v instanceof Set) {
        const items = [];
        for (const val of v) items.push(formatValue(val, options, depth + 1, seen));
        return wrap(items, "Set(" + v.size + ") {", "}", options, depth);
      }
      if (v instanceof ArrayBuffer) return "ArrayBuffer { byteLength: " + v.byteLength + " }";
      const keys = Object.keys(v);
      const symbols = Object.getOwnPropertySymbols(v).filter(
        (s) => Object.getOwnPropertyDescriptor(v, s).enumerable,
      );
      const cname = className(v);
      let prefix = cname === "Object" ? "" : cname + " ";
      const tag = v[Symbol.toStringTag];
      if (typeof tag === "string" && tag !== cname)
        prefix = (cname === "Object" ? "Object" : cname) + " [" + tag + "] ";
      return formatObjectBody(v, keys.concat(symbols), prefix, options, depth, seen, "{", "}");
    } finally {
      seen.delete(v);
    }
  }
  function key(k) {
    if (typeof k === "symbol") return "[" + k.toString() + "]";
    return IDENT.test(k) ? k : quote(k);
  }
  function formatObjectBody(v, keys, prefix, options, depth, seen, open, close) {
    const items = [];
    for (const k of keys) {
      const desc = Object.getOwnPropertyDescriptor(v, k);
      let val;
      if (desc && desc.get && !("value" in desc)) val = desc.set ? "[Getter/Setter]" : "[Getter]";
      else val = formatValue(v[k], options, depth + 1, seen);
      items.push(key(k) + ": " + val);
    }
    if (items.length === 0) return prefix + open + close;
    return wrap(items, prefix + open, close, options, depth);
  }
  function wrap(items, open, close, options, depth) {
    if (items.length === 0) return open + close;
    const single = open + " " + items.join(", ") + " " + close;
    if (single.length + depth * 2 <= options.breakLength && !single.includes("\n")) return single;
    const indent = "  ".repeat(depth + 1);
    return (
      open +
      "\n" +
      indent +
      items.map((s) => s.split("\n").join("\n" + indent)).join(",\n" + indent) +
      "\n" +
      "  ".repeat(depth) +
      close
    );
  }

  function format(...args) {
    return formatWithOptions({}, ...args);
  }
  function formatWithOptions(options, first, ...rest) {
    if (typeof first !== "string") {
      return [first, ...rest].map((a) => (typeof a === "string" ? a : inspect(a, options))).join(" ");
    }
    let i = 0;
    let out = "";
    let last = 0;
    for (let p = 0; p < first.length - 1; p++) {
      if (first.charCodeAt(p) !== 37) continue; // '%'
      const c = first[p + 1];
      if (c === "%") {
        out += first.slice(last, p) + "%";
        last = p + 2;
        p++;
        continue;
      }
      if (i >= rest.length || !"sdifjoOc".includes(c)) continue;
      const a = rest[i++];
      let s;
      switch (c) {
        case "s":
          s =
            typeof a === "string"
              ? a
              : typeof a === "bigint"
                ? a + "n"
                : typeof a === "object" && a !== null
                  ? inspect(a, { depth: 0 })
                  : String(a);
          break;
        case "d":
        case "i":
          s =
            typeof a === "bigint"
              ? a + "n"
              : typeof a === "object" && a !== null
                ? "NaN"
                : String(c === "i" ? parseInt(a) : Number(a));
          break;
        case "f":
          s = String(parseFloat(a));
          break;
        case "j":
          try {
            s = JSON.stringify(a);
          } catch {
            s = "[Circular]";
          }
          break;
        case "o":
        case "O":
          s = inspect(a, options);
          break;
        case "c":
          s = "";
          break;
      }
      out += first.slice(last, p) + s;
      last = p + 2;
      p++;
    }
    out += first.slice(last);
    for (; i < rest.length; i++)
      out += " " + (typeof rest[i] === "string" ? rest[i] : inspect(rest[i], options));
    return out;
  }

  function promisify(original) {
    if (typeof original !== "function") {
      const err = new TypeError('The "original" argument must be of type function');
      err.code = "ERR_INVALID_ARG_TYPE";
      throw err;
    }
    if (original[promisifyCustom]) return original[promisifyCustom];
    function fn(...args) {
      return new Promise((resolve, reject) => {
        original.call(this, ...args, (err, ...values) => {
          if (err) reject(err);
          else resolve(values.length > 1 ? values : values[0]);
        });
      });
    }
    Object.setPrototypeOf(fn, Object.getPrototypeOf(original));
    Object.defineProperty(fn, promisifyCustom, { value: fn });
    return fn;
  }
  promisify.custom = promisifyCustom;
  function callbackify(original) {
    return function (...args) {
      const cb = args.pop();
      original.apply(this, args).then(
        (v) => process.nextTick(cb, null, v),
        (err) => process.nextTick(cb, err || new Error("Promise was rejected with a falsy value")),
      );
    };
  }
  function inherits(ctor, superCtor) {
    Object.defineProperty(ctor, "super_", { value: superCtor, writable: true, configurable: true });
    Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
  }
  function deprecate(fn, msg) {
    let warned = false;
    return function (...args) {
      if (!warned) {
        warned = true;
        process.emitWarning(msg, "DeprecationWarning");
      }
      return new.target ? Reflect.construct(fn, args, new.target) : fn.apply(this, args);
    };
  }
  function isDeepStrictEqual(a, b, seen) {
    if (Object.is(a, b)) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    seen = seen || new Map();
    if (seen.get(a) === b) return true;
    seen.set(a, b);
    if (a instanceof Date) return a.getTime() === b.getTime();
    if (a instanceof RegExp) return String(a) === String(b);
    if (a instanceof Map || a instanceof Set) {
      if (a.size !== b.size) return false;
      const ea = [...a];
      const eb = [...b];
      return ea.every((x, i) => isDeepStrictEqual(x, eb[i], seen));
    }
    if (ArrayBuffer.isView(a)) {
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
      return true;
    }
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka)
      if (!Object.prototype.hasOwnProperty.call(b, k) || !isDeepStrictEqual(a[k], b[k], seen)) return false;
    return true;
  }

  class TextEncoder {
    get encoding() {
      return "utf-8";
    }
    encode(s = "") {
      return internal.utf8Encode(String(s));
    }
    encodeInto(s, dest) {
      const bytes = internal.utf8Encode(String(s));
      const n = Math.min(bytes.length, dest.length);
      dest.set(bytes.subarray(0, n));
      return { read: s.length, written: n };
    }
  }
  class TextDecoder {
    constructor(encoding = "utf-8", options = {}) {
      const e = String(encoding).toLowerCase();
      this.encoding = e === "utf8" ? "utf-8" : e;
      this.fatal = Boolean(options.fatal);
      this.ignoreBOM = Boolean(options.ignoreBOM);
      this._pending = new Uint8Array(0);
    }
    decode(input, options = {}) {
      let bytes =
        input === undefined
          ? new Uint8Array(0)
          : input instanceof ArrayBuffer
            ? new Uint8Array(input)
            : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      if (this._pending.length > 0) {
        const joined = new Uint8Array(this._pending.length + bytes.length);
        joined.set(this._pending);
        joined.set(bytes, this._pending.length);
        bytes = joined;
        this._pending = new Uint8Array(0);
      }
      if (this.encoding !== "utf-8") {
        const enc =
          this.encoding === "utf-16le"
            ? "utf16le"
            : this.encoding === "ascii" || this.encoding === "iso-8859-1"
              ? "latin1"
              : "utf8";
        return internal.requireBuiltin("buffer").Buffer.from(bytes).toString(enc);
      }
      let end = bytes.length;
      if (options.stream) {
        // Hold back an incomplete trailing sequence for the next call.
        let i = end - 1;
        let back = 0;
        while (i >= 0 && back < 4 && (bytes[i] & 0xc0) === 0x80) {
          i--;
          back++;
        }
        if (i >= 0) {
          const b = bytes[i];
          const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
          if (need > back + 1) {
            this._pending = bytes.slice(i);
            end = i;
          }
        }
      }
      let start = 0;
      if (!this.ignoreBOM && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
      const out = internal.utf8Decode(bytes, start, end);
      if (this.fatal && out.includes("\ufffd")) {
        const err = new TypeError("The encoded data was not valid for encoding utf-8");
        err.code = "ERR_ENCODING_INVALID_ENCODED_DATA";
        throw err;
      }
      return out;
    }
  }
  function structuredClone(value, seen = new Map()) {
    if (value === null || typeof value !== "object") {
      if (typeof value === "function" || typeof value === "symbol") {
        const err = new Error(String(value) + " could not be cloned.");
        err.name = "DataCloneError";
        throw err;
      }
      return value;
    }
    if (seen.has(value)) return seen.get(value);
    let out;
    if (value instanceof Date) out = new Date(value.getTime());
    else if (value instanceof RegExp) out = new RegExp(value.source, value.flags);
    else if (ArrayBuffer.isView(value)) out = value.slice();
    else if (value instanceof ArrayBuffer) out = value.slice(0);
    else if (value instanceof Map) {
      out = new Map();
      seen.set(value, out);
      for (const [k, v] of value) out.set(structuredClone(k, seen), structuredClone(v, seen));
      return out;
    } else if (value instanceof Set) {
      out = new Set();
      seen.set(value, out);
      for (const v of value) out.add(structuredClone(v, seen));
      return out;
    } else if (Array.isArray(value)) {
      out = [];
      seen.set(value, out);
      for (const v of value) out.push(structuredClone(v, seen));
      return out;
    } else {
      out = value instanceof Error ? new Error(value.message) : {};
      seen.set(value, out);
      for (const k of Object.keys(value)) out[k] = structuredClone(value[k], seen);
      return out;
    }
    seen.set(value, out);
    return out;
  }

  function debuglog(section) {
    // Read when asked, not at load: the module may be loaded before the process's env is known.
    const debugEnv = String((process.env && process.env.NODE_DEBUG) || "")
      .toLowerCase()
      .split(/[\s,]+/);
    const on = debugEnv.includes(String(section).toLowerCase());
    const fn = (...args) => {
      if (on)
        process.stderr.write(
          String(section).toUpperCase() + " " + process.pid + ": " + format(...args) + "\n",
        );
    };
    fn.enabled = on;
    return fn;
  }

  Object.assign(exports, {
    format,
    formatWithOptions,
    inspect,
    promisify,
    callbackify,
    inherits,
    deprecate,
    isDeepStrictEqual,
    types,
    TextEncoder,
    TextDecoder,
    debuglog,
    debug: debuglog,
    structuredClone,
    isArray: Array.isArray,
    isBoolean: (v) => typeof v === "boolean",
    isNull: (v) => v === null,
    isNullOrUndefined: (v) => v === null || v === undefined,
    isNumber: (v) => typeof v === "number",
    isString: (v) => typeof v === "string",
    isSymbol: (v) => typeof v === "symbol",
    isUndefined: (v) => v === undefined,
    isRegExp: types.isRegExp,
    isObject: (v) => v !== null && typeof v === "object",
    isDate: types.isDate,
    isError: (v) => v instanceof Error,
    isFunction: (v) => typeof v === "function",
    isPrimitive: (v) => v === null || (typeof v !== "object" && typeof v !== "function"),
    isBuffer: (v) => internal.requireBuiltin("buffer").Buffer.isBuffer(v),
    stripVTControlCharacters: (s) => String(s).replace(/\u001b\[[0-9;]*[A-Za-z]/g, ""),
    toUSVString: (s) => String(s),
    getSystemErrorName: (errno) =>
      Object.keys(internal.ERRNO).find((k) => internal.ERRNO[k] === -errno) ||
      "Unknown system error " + errno,
    parseArgs: () => {
      throw new Error("util.parseArgs is not supported");
    },
  });
}
