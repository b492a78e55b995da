// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-nocheck -- guest code: it runs inside QuickJS (shipped as its source text), not in Node.
/** Guest `path` (POSIX only: the workspace is a Linux-like system). */
export function guestPath(module) {
  "use strict";
  function check(p, name) {
    if (typeof p !== "string") {
      const err = new TypeError(
        'The "' + (name || "path") + '" argument must be of type string. Received ' + typeof p,
      );
      err.code = "ERR_INVALID_ARG_TYPE";
      throw err;
    }
  }
  function normalizeArray(parts, absolute) {
    const out = [];
    for (const p of parts) {
      if (p === "" || p === ".") continue;
      if (p === "..") {
        if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
        else if (!absolute) out.push("..");
      } else out.push(p);
    }
    return out;
  }
  const path = {
    sep: "/",
    delimiter: ":",
    resolve(...args) {
      let resolved = "";
      let absolute = false;
      for (let i = args.length - 1; i >= -1 && !absolute; i--) {
        const p = i >= 0 ? args[i] : process.cwd();
        check(p);
        if (p === "") continue;
        resolved = p + "/" + resolved;
        absolute = p.charCodeAt(0) === 47;
      }
      const out = normalizeArray(resolved.split("/"), absolute).join("/");
      return (absolute ? "/" : "") + out || ".";
    },
    normalize(p) {
      check(p);
      if (p === "") return ".";
      const absolute = p.charCodeAt(0) === 47;
      const trailing = p.charCodeAt(p.length - 1) === 47;
      let out = normalizeArray(p.split("/"), absolute).join("/");
      if (out === "" && !absolute) out = ".";
      if (out !== "" && trailing) out += "/";
      return (absolute ? "/" : "") + out;
    },
    isAbsolute(p) {
      check(p);
      return p.charCodeAt(0) === 47;
    },
    join(...args) {
      for (const a of args) check(a);
      const joined = args.filter((a) => a !== "").join("/");
      return joined === "" ? "." : path.normalize(joined);
    },
    relative(from, to) {
      check(from, "from");
      check(to, "to");
      const f = path.resolve(from).split("/").filter(Boolean);
      const t = path.resolve(to).split("/").filter(Boolean);
      let i = 0;
      while (i < f.length && i < t.length && f[i] === t[i]) i++;
      return f
        .slice(i)
        .map(() => "..")
        .concat(t.slice(i))
        .join("/");
    },
    dirname(p) {
      check(p);
      if (p === "") return ".";
      let end = p.length;
      while (end > 1 && p.charCodeAt(end - 1) === 47) end--;
      const i = p.lastIndexOf("/", end - 1);
      if (i === -1) return ".";
      if (i === 0) return "/";
      let j = i;
      while (j > 1 && p.charCodeAt(j - 1) === 47) j--;
      return p.slice(0, j);
    },
    basename(p, ext) {
      check(p);
      let end = p.length;
      while (end > 1 && p.charCodeAt(end - 1) === 47) end--;
      const s = p.slice(0, end);
      let base = s.slice(s.lastIndexOf("/") + 1);
      if (s === "/") base = "";
      if (ext !== undefined && base.endsWith(ext) && base !== ext)
        base = base.slice(0, base.length - ext.length);
      return base;
    },
    extname(p) {
      check(p);
      const base = path.basename(p);
      const i = base.lastIndexOf(".");
      return i <= 0 ? "" : base.slice(i);
    },
    parse(p) {
      check(p);
      const root = p.startsWith("/") ? "/" : "";
      const base = path.basename(p);
      const ext = path.extname(p);
      let dir = path.dirname(p);
      if (dir === "." && !p.startsWith(".")) dir = "";
      return { root, dir, base, ext, name: ext ? base.slice(0, base.length - ext.length) : base };
    },
    format(obj) {
      const dir = obj.dir || obj.root || "";
      const base =
        obj.base || (obj.name || "") + (obj.ext ? (obj.ext.startsWith(".") ? "" : ".") + obj.ext : "");
      if (!dir) return base;
      return dir === obj.root ? dir + base : dir + "/" + base;
    },
    toNamespacedPath(p) {
      return p;
    },
    matchesGlob() {
      throw new Error("path.matchesGlob is not supported");
    },
  };
  path.posix = path;
  path.win32 = path;
  module.exports = path;
}
