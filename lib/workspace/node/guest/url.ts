// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-nocheck -- guest code: it runs inside QuickJS (shipped as its source text), not in Node.
/* eslint-disable no-control-regex -- protocol parsing matches control characters on purpose */
/** Guest `url` (URL, URLSearchParams, legacy parse/format/resolve) and `querystring`. */
export function guestQuerystring(module, exports, require) {
  "use strict";
  function unescape(s) {
    try {
      return decodeURIComponent(s.replace(/\+/g, " "));
    } catch {
      return s.replace(/\+/g, " ");
    }
  }
  function escape(s) {
    return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
  }
  function parse(str, sep = "&", eq = "=", options) {
    const out = Object.create(null);
    if (typeof str !== "string" || str.length === 0) return out;
    const max = options && options.maxKeys !== undefined ? options.maxKeys : 1000;
    let parts = str.split(sep);
    if (max > 0) parts = parts.slice(0, max);
    for (const part of parts) {
      if (part === "") continue;
      const i = part.indexOf(eq);
      const k = unescape(i >= 0 ? part.slice(0, i) : part);
      const v = i >= 0 ? unescape(part.slice(i + eq.length)) : "";
      if (!(k in out)) out[k] = v;
      else if (Array.isArray(out[k])) out[k].push(v);
      else out[k] = [out[k], v];
    }
    return out;
  }
  function prim(v) {
    if (typeof v === "string") return v;
    if ((typeof v === "number" && isFinite(v)) || typeof v === "bigint" || typeof v === "boolean")
      return String(v);
    return "";
  }
  function stringify(obj, sep = "&", eq = "=") {
    if (obj === null || typeof obj !== "object") return "";
    const parts = [];
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      const ks = escape(prim(k)) + eq;
      if (Array.isArray(v)) for (const x of v) parts.push(ks + escape(prim(x)));
      else parts.push(ks + escape(prim(v)));
    }
    return parts.join(sep);
  }
  module.exports = {
    parse,
    stringify,
    decode: parse,
    encode: stringify,
    escape,
    unescape,
    unescapeBuffer: (s) => require("buffer").Buffer.from(unescape(String(s))),
  };
}

export function guestUrl(module, exports, require) {
  "use strict";
  const SPECIAL = { "http:": 80, "https:": 443, "ws:": 80, "wss:": 443, "ftp:": 21, "file:": null };
  function invalid(input) {
    const err = new TypeError("Invalid URL");
    err.code = "ERR_INVALID_URL";
    err.input = input;
    return err;
  }
  function encodeSet(s, re) {
    return s.replace(re, (c) => encodeURIComponent(c));
  }
  function normalizePath(path, special) {
    const segments = path.split("/");
    const out = [];
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i];
      const last = i === segments.length - 1;
      if (seg === ".." || seg.toLowerCase() === "%2e%2e") {
        if (out.length > 1) out.pop();
        if (last) out.push("");
      } else if (seg === "." || seg.toLowerCase() === "%2e") {
        if (last) out.push("");
      } else out.push(seg);
    }
    let p = out.join("/");
    if (!p.startsWith("/")) p = "/" + p;
    if (special) p = p.replace(/\\/g, "/");
    return encodeSet(p, /[ "<>`{}\u0000-\u001f\u007f-\uffff]/g);
  }

  class URLSearchParams {
    constructor(init) {
      this._list = [];
      this._url = null;
      if (init === undefined || init === null) return;
      if (typeof init === "object") {
        if (typeof init[Symbol.iterator] === "function") {
          for (const pair of init) this._list.push([String(pair[0]), String(pair[1])]);
        } else {
          for (const k of Object.keys(init)) this._list.push([k, String(init[k])]);
        }
        return;
      }
      this._parse(String(init));
    }
    _parse(s) {
      this._list = [];
      if (s.startsWith("?")) s = s.slice(1);
      for (const part of s.split("&")) {
        if (part === "") continue;
        const i = part.indexOf("=");
        const dec = (x) => {
          try {
            return decodeURIComponent(x.replace(/\+/g, " "));
          } catch {
            return x;
          }
        };
        this._list.push([dec(i >= 0 ? part.slice(0, i) : part), dec(i >= 0 ? part.slice(i + 1) : "")]);
      }
    }
    _update() {
      if (this._url) {
        const s = this.toString();
        this._url._search = s === "" ? "" : "?" + s;
      }
    }
    get size() {
      return this._list.length;
    }
    append(k, v) {
      this._list.push([String(k), String(v)]);
      this._update();
    }
    delete(k, v) {
      this._list = this._list.filter(([a, b]) => !(a === String(k) && (v === undefined || b === String(v))));
      this._update();
    }
    get(k) {
      const e = this._list.find(([a]) => a === String(k));
      return e ? e[1] : null;
    }
    getAll(k) {
      return this._list.filter(([a]) => a === String(k)).map(([, b]) => b);
    }
    has(k, v) {
      return this._list.some(([a, b]) => a === String(k) && (v === undefined || b === String(v)));
    }
    set(k, v) {
      k = String(k);
      const i = this._list.findIndex(([a]) => a === k);
      if (i < 0) this._list.push([k, String(v)]);
      else {
        this._list[i][1] = String(v);
        this._list = this._list.filter(([a], j) => a !== k || j === i);
      }
      this._update();
    }
    sort() {
      this._list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      this._update();
    }
    forEach(fn, thisArg) {
      for (const [k, v] of this._list) fn.call(thisArg, v, k, this);
    }
    keys() {
      return this._list.map(([k]) => k)[Symbol.iterator]();
    }
    values() {
      return this._list.map(([, v]) => v)[Symbol.iterator]();
    }
    entries() {
      return this._list.map(([k, v]) => [k, v])[Symbol.iterator]();
    }
    [Symbol.iterator]() {
      return this.entries();
    }
    toString() {
      const enc = (s) =>
        encodeURIComponent(s)
          .replace(/%20/g, "+")
          .replace(/[!'()~]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
      return this._list.map(([k, v]) => enc(k) + "=" + enc(v)).join("&");
    }
  }

  const URL_RE = /^([a-zA-Z][a-zA-Z0-9+.-]*:)(.*)$/s;
  class URL {
    constructor(input, base) {
      input = String(input).trim();
      const m = URL_RE.exec(input);
      if (!m) {
        if (base === undefined) throw invalid(input);
        const b = base instanceof URL ? base : new URL(base);
        this._resolveRelative(input, b);
        return;
      }
      const protocol = m[1].toLowerCase();
      let rest = m[2];
      const special = protocol in SPECIAL;
      if (base !== undefined && special && !rest.startsWith("/") && !rest.startsWith("\\")) {
        const b = base instanceof URL ? base : new URL(base);
        if (b.protocol === protocol) {
          this._resolveRelative(rest, b);
          return;
        }
      }
      this._protocol = protocol;
      this._username = "";
      this._password = "";
      this._hostname = "";
      this._port = "";
      this._search = "";
      this._hash = "";
      if (special) rest = rest.replace(/\\/g, "/");
      const hashAt = rest.indexOf("#");
      if (hashAt >= 0) {
        this._hash =
          rest.slice(hashAt) === "#"
            ? ""
            : encodeSet(rest.slice(hashAt), /[ "<>`\u0000-\u001f\u007f-\uffff]/g);
        rest = rest.slice(0, hashAt);
      }
      const queryAt = rest.indexOf("?");
      if (queryAt >= 0) {
        this._search =
          rest.slice(queryAt) === "?"
            ? ""
            : encodeSet(rest.slice(queryAt), /[ "<>`#\u0000-\u001f\u007f-\uffff]/g);
        rest = rest.slice(0, queryAt);
      }
      if (rest.startsWith("//") || (special && protocol !== "file:")) {
        rest = rest.replace(/^\/*/, "");
        const slash = rest.indexOf("/");
        let authority = slash >= 0 ? rest.slice(0, slash) : rest;
        rest = slash >= 0 ? rest.slice(slash) : "";
        const at = authority.lastIndexOf("@");
        if (at >= 0) {
          const cred = authority.slice(0, at);
          authority = authority.slice(at + 1);
          const colon = cred.indexOf(":");
          this._username = encodeSet(
            colon >= 0 ? cred.slice(0, colon) : cred,
            /[ "<>`#?{}/:;=@[\]\\^|\u0000-\u001f\u007f-\uffff]/g,
          );
          this._password =
            colon >= 0
              ? encodeSet(cred.slice(colon + 1), /[ "<>`#?{}/:;=@[\]\\^|\u0000-\u001f\u007f-\uffff]/g)
              : "";
        }
        const pm = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
        if (!pm) throw invalid(input);
        this._hostname = special ? pm[1].toLowerCase() : pm[1];
        if (special && protocol !== "file:" && this._hostname === "") throw invalid(input);
        if (/[\s<>^|%]/.test(this._hostname) && !this._hostname.startsWith("[")) throw invalid(input);
        const port = pm[2] === undefined || pm[2] === "" ? "" : String(Number(pm[2]));
        if (port !== "" && Number(port) > 65535) throw invalid(input);
        this._port = port !== "" && SPECIAL[protocol] === Number(port) ? "" : port;
        this._pathname = special ? normalizePath(rest === "" ? "/" : rest, true) : rest;
        this._hasAuthority = true;
      } else {
        this._hasAuthority = protocol === "file:";
        this._pathname = special ? normalizePath(rest, true) : rest;
      }
    }
    _resolveRelative(input, b) {
      this._protocol = b._protocol;
      this._username = b._username;
      this._password = b._password;
      this._hostname = b._hostname;
      this._port = b._port;
      this._hasAuthority = b._hasAuthority;
      this._search = "";
      this._hash = "";
      const special = this._protocol in SPECIAL;
      if (special) input = input.replace(/\\/g, "/");
      if (input.startsWith("//")) {
        const u = new URL(this._protocol + input);
        Object.assign(this, u);
        return;
      }
      const hashAt = input.indexOf("#");
      let hash = "";
      if (hashAt >= 0) {
        hash = input.slice(hashAt);
        input = input.slice(0, hashAt);
      }
      const queryAt = input.indexOf("?");
      let search;
      if (queryAt >= 0) {
        search = input.slice(queryAt);
        input = input.slice(0, queryAt);
      }
      if (input === "") {
        this._pathname = b._pathname;
        this._search = search !== undefined ? (search === "?" ? "" : search) : b._search;
      } else if (input.startsWith("/")) {
        this._pathname = normalizePath(input, special);
        this._search = search === undefined || search === "?" ? "" : search;
      } else {
        const dir = b._pathname.slice(0, b._pathname.lastIndexOf("/") + 1);
        this._pathname = normalizePath(dir + input, special);
        this._search = search === undefined || search === "?" ? "" : search;
      }
      this._hash = hash === "#" ? "" : hash;
    }
    get protocol() {
      return this._protocol;
    }
    set protocol(v) {
      v = String(v);
      this._protocol = (v.endsWith(":") ? v : v + ":").toLowerCase();
    }
    get username() {
      return this._username;
    }
    set username(v) {
      this._username = encodeURIComponent(String(v));
    }
    get password() {
      return this._password;
    }
    set password(v) {
      this._password = encodeURIComponent(String(v));
    }
    get hostname() {
      return this._hostname;
    }
    set hostname(v) {
      this._hostname = String(v).toLowerCase();
    }
    get port() {
      return this._port;
    }
    set port(v) {
      const s = String(v);
      this._port = s === "" || SPECIAL[this._protocol] === Number(s) ? "" : String(parseInt(s, 10));
    }
    get host() {
      return this._hostname + (this._port ? ":" + this._port : "");
    }
    set host(v) {
      const [h, p] = String(v).split(":");
      this._hostname = h.toLowerCase();
      if (p !== undefined) this.port = p;
    }
    get origin() {
      if (this._protocol in SPECIAL && this._protocol !== "file:") return this._protocol + "//" + this.host;
      return "null";
    }
    get pathname() {
      return this._pathname;
    }
    set pathname(v) {
      this._pathname = normalizePath(String(v), this._protocol in SPECIAL);
    }
    get search() {
      return this._search;
    }
    set search(v) {
      v = String(v);
      this._search = v === "" || v === "?" ? "" : v.startsWith("?") ? v : "?" + v;
      if (this._searchParams) this._searchParams._parse(this._search);
    }
    get searchParams() {
      if (!this._searchParams) {
        this._searchParams = new URLSearchParams(this._search);
        this._searchParams._url = this;
      }
      return this._searchParams;
    }
    get hash() {
      return this._hash;
    }
    set hash(v) {
      v = String(v);
      this._hash = v === "" || v === "#" ? "" : v.startsWith("#") ? v : "#" + v;
    }
    get href() {
      const cred =
        this._username || this._password
          ? this._username + (this._password ? ":" + this._password : "") + "@"
          : "";
      const auth = this._hasAuthority || this._hostname !== "" ? "//" + cred + this.host : "";
      return this._protocol + auth + this._pathname + this._search + this._hash;
    }
    set href(v) {
      Object.assign(this, new URL(v));
    }
    toString() {
      return this.href;
    }
    toJSON() {
      return this.href;
    }
    static canParse(input, base) {
      try {
        new URL(input, base);
        return true;
      } catch {
        return false;
      }
    }
    static parse(input, base) {
      try {
        return new URL(input, base);
      } catch {
        return null;
      }
    }
    [Symbol.for("nodejs.util.inspect.custom")]() {
      return "URL { href: '" + this.href + "' }";
    }
  }

  // Legacy API.
  function Url() {
    this.protocol = null;
    this.slashes = null;
    this.auth = null;
    this.host = null;
    this.port = null;
    this.hostname = null;
    this.hash = null;
    this.search = null;
    this.query = null;
    this.pathname = null;
    this.path = null;
    this.href = null;
  }
  function parse(str, parseQuery) {
    if (str instanceof Url) return str;
    const u = new Url();
    let rest = String(str).trim();
    const hashAt = rest.indexOf("#");
    if (hashAt >= 0) {
      u.hash = rest.slice(hashAt);
      rest = rest.slice(0, hashAt);
    }
    const queryAt = rest.indexOf("?");
    if (queryAt >= 0) {
      u.search = rest.slice(queryAt);
      u.query = rest.slice(queryAt + 1);
      rest = rest.slice(0, queryAt);
    } else if (parseQuery) {
      u.search = "";
      u.query = {};
    }
    if (parseQuery && typeof u.query === "string") u.query = require("querystring").parse(u.query);
    const pm = /^([a-zA-Z][a-zA-Z0-9+.-]*:)/.exec(rest);
    if (pm) {
      u.protocol = pm[1].toLowerCase();
      rest = rest.slice(pm[1].length);
    }
    if (rest.startsWith("//")) {
      u.slashes = true;
      rest = rest.slice(2);
      const slash = rest.search(/[/]/);
      let authority = slash >= 0 ? rest.slice(0, slash) : rest;
      rest = slash >= 0 ? rest.slice(slash) : "";
      const at = authority.lastIndexOf("@");
      if (at >= 0) {
        u.auth = decodeURIComponent(authority.slice(0, at));
        authority = authority.slice(at + 1);
      }
      u.host = authority.toLowerCase();
      const hm = /^(.*?)(?::(\d+))?$/.exec(u.host);
      u.hostname = hm[1];
      u.port = hm[2] || null;
      if (rest === "" && u.protocol in SPECIAL) rest = "/";
    }
    u.pathname = rest === "" ? null : rest;
    u.path = (u.pathname || "") + (u.search || "") || null;
    u.href = format(u);
    return u;
  }
  function format(u) {
    if (typeof u === "string") u = parse(u);
    if (u instanceof URL) return u.href;
    const protocol = u.protocol ? (u.protocol.endsWith(":") ? u.protocol : u.protocol + ":") : "";
    let host = "";
    if (u.host) host = u.host;
    else if (u.hostname) host = u.hostname + (u.port ? ":" + u.port : "");
    const auth = u.auth ? encodeURIComponent(u.auth).replace(/%3A/i, ":") + "@" : "";
    const slashes = u.slashes || protocol in SPECIAL || host !== "" ? "//" : "";
    let search = u.search || "";
    if (!search && u.query && typeof u.query === "object") {
      const q = require("querystring").stringify(u.query);
      if (q) search = "?" + q;
    }
    if (search && !search.startsWith("?")) search = "?" + search;
    let hash = u.hash || "";
    if (hash && !hash.startsWith("#")) hash = "#" + hash;
    let pathname = u.pathname || "";
    if (slashes && pathname && !pathname.startsWith("/")) pathname = "/" + pathname;
    return protocol + (host || protocol === "file:" ? slashes + auth + host : "") + pathname + search + hash;
  }
  function resolve(from, to) {
    try {
      return new URL(to, new URL(from, "resolve://")).href.replace(/^resolve:\/\//, "");
    } catch {
      return to;
    }
  }
  function fileURLToPath(u) {
    const url = typeof u === "string" ? new URL(u) : u;
    if (url.protocol !== "file:") {
      const err = new TypeError("The URL must be of scheme file");
      err.code = "ERR_INVALID_URL_SCHEME";
      throw err;
    }
    return decodeURIComponent(url.pathname);
  }
  function pathToFileURL(p) {
    const abs = require("path").resolve(String(p));
    return new URL(
      "file://" + encodeSet(abs, /[%?#\s]/g) + (String(p).endsWith("/") && !abs.endsWith("/") ? "/" : ""),
    );
  }
  module.exports = {
    URL,
    URLSearchParams,
    Url,
    parse,
    format,
    resolve,
    fileURLToPath,
    pathToFileURL,
    domainToASCII: (d) => String(d).toLowerCase(),
    domainToUnicode: (d) => String(d),
    urlToHttpOptions: (u) => ({
      protocol: u.protocol,
      hostname: u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname,
      hash: u.hash,
      search: u.search,
      pathname: u.pathname,
      path: u.pathname + u.search,
      href: u.href,
      port: u.port !== "" ? Number(u.port) : undefined,
    }),
  };
}
