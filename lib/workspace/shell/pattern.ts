/**
 * Shell patterns (`*`, `?`, `[...]`) for globbing, `case` and ${x#pat}. A pattern string marks
 * quoted characters with a backslash, so "$x"* only globs on the star.
 */
import type { Vfs } from "../kernel/types.js";

const CLASSES: Record<string, string> = {
  alpha: "a-zA-Z",
  digit: "0-9",
  alnum: "a-zA-Z0-9",
  upper: "A-Z",
  lower: "a-z",
  space: " \\t\\n\\r\\f\\v",
  blank: " \\t",
  punct: "!-\\/:-@\\[-`{-~",
  xdigit: "0-9A-Fa-f",
};

/** Escapes text so a pattern matches it literally. */
export function escapePattern(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/** True when the pattern has an unescaped `*`, `?` or `[`. */
export function hasGlob(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "*" || c === "?" || c === "[") return true;
  }
  return false;
}

/** Removes the escapes of a pattern with no glob characters. */
export function unescapePattern(pattern: string): string {
  return pattern.replace(/\\(.)/gs, "$1");
}

const regexCache = new Map<string, RegExp>();

/** The pattern as an anchored regular expression (cached: scripts match the same patterns often). */
export function patternRegExp(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (re) return re;
  re = new RegExp(`^${patternSource(pattern)}$`, "s");
  if (regexCache.size > 500) regexCache.clear();
  regexCache.set(pattern, re);
  return re;
}

export function matchPattern(pattern: string, text: string): boolean {
  return patternRegExp(pattern).test(text);
}

function patternSource(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\" && i + 1 < pattern.length) {
      out += escapeRegExp(pattern[++i]!);
    } else if (c === "*") {
      out += ".*";
    } else if (c === "?") {
      out += ".";
    } else if (c === "[") {
      const bracket = readBracket(pattern, i);
      if (bracket) {
        out += bracket.source;
        i = bracket.end;
      } else {
        out += "\\[";
      }
    } else {
      out += escapeRegExp(c);
    }
  }
  return out;
}

/** A bracket expression starting at `start` ("["), or undefined when it never closes. */
function readBracket(pattern: string, start: number): { source: string; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (pattern[i] === "!" || pattern[i] === "^") {
    negate = true;
    i++;
  }
  let body = "";
  let first = true;
  for (; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "]" && !first) {
      return { source: `[${negate ? "^" : ""}${body}]`, end: i };
    }
    first = false;
    if (c === "[" && pattern[i + 1] === ":") {
      const close = pattern.indexOf(":]", i + 2);
      const cls = close > 0 ? CLASSES[pattern.slice(i + 2, close)] : undefined;
      if (cls !== undefined) {
        body += cls;
        i = close + 1;
        continue;
      }
    }
    if (c === "\\" && i + 1 < pattern.length) {
      body += "\\" + pattern[++i];
    } else if (c === "-") {
      body += "-";
    } else {
      body += /[\]\\^[]/.test(c) ? "\\" + c : c;
    }
  }
  return undefined;
}

function escapeRegExp(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? "\\" + c : c;
}

/**
 * Pathname expansion against the VFS: the sorted matches, or [] when nothing matches (the caller
 * keeps the word literal). Relative patterns are matched under `cwd` and returned relative.
 */
export function expandGlob(vfs: Vfs, cwd: string, pattern: string): string[] {
  const absolute = pattern.startsWith("/");
  const segments = pattern.split("/");
  if (absolute) segments.shift();
  // Candidates carry the text as the user will see it; `abs` is what the VFS is asked.
  let candidates: { shown: string; abs: string }[] = [
    { shown: absolute ? "/" : "", abs: absolute ? "/" : cwd },
  ];
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s]!;
    const last = s === segments.length - 1;
    const next: typeof candidates = [];
    if (segment === "") {
      // "a//b" or a trailing slash: keep directories only.
      for (const c of candidates) {
        if (isDirectory(vfs, c.abs)) next.push({ shown: c.shown + (last ? "/" : ""), abs: c.abs });
      }
    } else if (!hasGlob(segment)) {
      const name = unescapePattern(segment);
      for (const c of candidates) {
        next.push({ shown: join(c.shown, name), abs: join(c.abs, name) });
      }
    } else {
      const re = patternRegExp(segment);
      const dotOk = segment.startsWith(".") || segment.startsWith("\\.");
      for (const c of candidates) {
        let entries;
        try {
          entries = vfs.readdir(c.abs);
        } catch {
          continue;
        }
        const names = entries.map((e) => e.name).filter((n) => (dotOk || !n.startsWith(".")) && re.test(n));
        names.sort();
        for (const n of names) next.push({ shown: join(c.shown, n), abs: join(c.abs, n) });
      }
    }
    candidates = next;
    if (candidates.length === 0) return [];
  }
  const out: string[] = [];
  for (const c of candidates) {
    if (exists(vfs, c.abs)) out.push(c.shown);
  }
  return out;
}

function join(dir: string, name: string): string {
  if (dir === "") return name;
  return dir.endsWith("/") ? dir + name : dir + "/" + name;
}

function isDirectory(vfs: Vfs, path: string): boolean {
  try {
    return vfs.stat(path).type === "directory";
  } catch {
    return false;
  }
}

function exists(vfs: Vfs, path: string): boolean {
  try {
    vfs.lstat(path);
    return true;
  } catch {
    return false;
  }
}
