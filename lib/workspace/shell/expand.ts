/**
 * Word expansion: tilde, parameters, command substitution results, arithmetic, field splitting,
 * pathname expansion and quote removal, in POSIX order. Synchronous: command substitutions are
 * run beforehand by the interpreter (collectSubstitutions) and looked up here.
 */
import type { Vfs } from "../kernel/types.js";
import { ArithError, evaluateArith } from "./arith.js";
import type { ParamPart, Word, WordPart } from "./ast.js";
import { escapePattern, expandGlob, matchPattern } from "./pattern.js";

export type SubstitutionPart = Extract<WordPart, { kind: "cmd" }>;

export interface ExpandContext {
  /** A shell variable, or undefined when unset. */
  getVar(name: string): string | undefined;
  setVar(name: string, value: string): void;
  /** Special and positional parameters other than @ and * ("?", "#", "$", "!", "-", "0", "1", ...). */
  special(name: string): string | undefined;
  readonly positional: readonly string[];
  readonly cwd: string;
  readonly vfs: Vfs;
  /** The captured output of a command substitution that ran before this expansion. */
  substitution(part: SubstitutionPart): string;
  /** `set -f`. */
  readonly noglob?: boolean;
}

/** Fails the command being expanded (the message is printed after "sh: "). */
export class ExpansionError extends Error {}

const DEFAULT_IFS = " \t\n";
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Field {
  value: string;
  /** `value` with quoted characters escaped, for globbing. */
  pattern: string;
  glob: boolean;
}

/** Accumulates fields; a field exists once anything (even an empty quoted string) was added. */
class FieldBuilder {
  readonly fields: Field[] = [];
  private cur: Field | undefined;

  constructor(private readonly ifs: string) {}

  private field(): Field {
    this.cur ??= { value: "", pattern: "", glob: false };
    return this.cur;
  }

  quoted(text: string): void {
    const f = this.field();
    f.value += text;
    f.pattern += escapePattern(text);
  }

  /** Unquoted text from the source: globs, never splits. */
  literal(text: string): void {
    const f = this.field();
    f.value += text;
    f.pattern += text;
    if (/[*?[]/.test(text)) f.glob = true;
  }

  /** An unquoted expansion result: split on IFS, then globbed. */
  expansion(text: string): void {
    const ifs = this.ifs;
    if (ifs === "") {
      if (text !== "") this.literal(text);
      return;
    }
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (!ifs.includes(c)) continue;
      if (i > start) this.literal(text.slice(start, i));
      start = i + 1;
      if (c === " " || c === "\t" || c === "\n") {
        this.split();
      } else {
        // A non-blank separator delimits a field even when it is empty.
        this.field();
        this.split();
      }
    }
    if (start < text.length) this.literal(text.slice(start));
  }

  split(): void {
    if (this.cur) this.fields.push(this.cur);
    this.cur = undefined;
  }

  finish(): Field[] {
    this.split();
    return this.fields;
  }
}

/** Full expansion of command words into argv fields. */
export function expandFields(words: readonly Word[], ctx: ExpandContext): string[] {
  const ifs = ctx.getVar("IFS") ?? DEFAULT_IFS;
  const out: string[] = [];
  for (const word of words) {
    // Fast path: a plain literal word (most words) needs no builder.
    const only = word.parts.length === 1 ? word.parts[0]! : undefined;
    if (only && (only.kind === "sq" || (only.kind === "lit" && !/[*?[~]/.test(only.value)))) {
      out.push(only.value);
      continue;
    }
    const b = new FieldBuilder(ifs);
    word.parts.forEach((part, i) => expandPart(part, b, ctx, false, i === 0 ? word : undefined));
    for (const f of b.finish()) {
      if (f.glob && !ctx.noglob) {
        const matches = expandGlob(ctx.vfs, ctx.cwd, f.pattern);
        if (matches.length > 0) {
          out.push(...matches);
          continue;
        }
      }
      out.push(f.value);
    }
  }
  return out;
}

function expandPart(
  part: WordPart,
  b: FieldBuilder,
  ctx: ExpandContext,
  quoted: boolean,
  first?: Word,
): void {
  switch (part.kind) {
    case "lit": {
      if (quoted) return b.quoted(part.value);
      if (first && part.value.startsWith("~")) {
        const t = tilde(part.value, first, ctx);
        if (t) {
          b.quoted(t.home);
          if (t.rest) b.literal(t.rest);
          return;
        }
      }
      return b.literal(part.value);
    }
    case "sq":
      return b.quoted(part.value);
    case "dq":
      if (part.parts.length === 0) return b.quoted("");
      for (const p of part.parts) expandPart(p, b, ctx, true);
      return;
    case "param": {
      if ((part.name === "@" || part.name === "*") && !part.op && !part.length) {
        const params = ctx.positional;
        if (quoted && part.name === "*") return b.quoted(params.join(ifsJoiner(ctx)));
        params.forEach((p, i) => {
          if (i > 0) b.split();
          if (quoted) b.quoted(p);
          else b.expansion(p);
        });
        return;
      }
      const value = paramValue(part, ctx);
      return quoted ? b.quoted(value) : b.expansion(value);
    }
    case "cmd": {
      const value = ctx.substitution(part);
      return quoted ? b.quoted(value) : b.expansion(value);
    }
    case "arith": {
      const value = arith(part.expr, ctx);
      return quoted ? b.quoted(value) : b.expansion(value);
    }
  }
}

/** ~ or ~/x at the start of a word (only when the prefix up to "/" is unquoted literal text). */
function tilde(lit: string, word: Word, ctx: ExpandContext): { home: string; rest: string } | undefined {
  const slash = lit.indexOf("/");
  if (slash < 0 && word.parts.length > 1) return undefined;
  const user = slash < 0 ? lit.slice(1) : lit.slice(1, slash);
  const rest = slash < 0 ? "" : lit.slice(slash);
  if (user === "" || user === ctx.getVar("USER")) {
    const home = ctx.getVar("HOME");
    if (home === undefined) return undefined;
    return { home, rest };
  }
  return undefined;
}

function ifsJoiner(ctx: ExpandContext): string {
  const ifs = ctx.getVar("IFS");
  return ifs === undefined ? " " : ifs.slice(0, 1);
}

function arith(expr: Word, ctx: ExpandContext): string {
  const text = expandString(expr, ctx);
  try {
    return String(evaluateArith(text, { get: (n) => ctx.getVar(n), set: (n, v) => ctx.setVar(n, v) }));
  } catch (e) {
    if (e instanceof ArithError) throw new ExpansionError(`arithmetic: ${e.message}`);
    throw e;
  }
}

function rawParam(name: string, ctx: ExpandContext): string | undefined {
  if (name === "@" || name === "*") {
    return ctx.positional.length === 0 ? undefined : ctx.positional.join(name === "*" ? ifsJoiner(ctx) : " ");
  }
  if (NAME_RE.test(name)) return ctx.getVar(name);
  return ctx.special(name);
}

function paramValue(part: ParamPart, ctx: ExpandContext): string {
  const name = part.name;
  if (part.length) {
    if (name === "@" || name === "*") return String(ctx.positional.length);
    return String([...(rawParam(name, ctx) ?? "")].length);
  }
  const raw = rawParam(name, ctx);
  if (!part.op) return raw ?? "";
  const unset = raw === undefined || (part.colon === true && raw === "");
  const arg = part.arg ?? { parts: [], text: "" };
  switch (part.op) {
    case "-":
      return unset ? expandString(arg, ctx) : raw!;
    case "=": {
      if (!unset) return raw!;
      if (!NAME_RE.test(name)) throw new ExpansionError(`${name}: cannot assign in this way`);
      const value = expandString(arg, ctx);
      ctx.setVar(name, value);
      return value;
    }
    case "+":
      return unset ? "" : expandString(arg, ctx);
    case "?": {
      if (!unset) return raw!;
      const message = expandString(arg, ctx);
      throw new ExpansionError(`${name}: ${message || "parameter not set"}`);
    }
    default:
      return removeAffix(raw ?? "", part.op, expandPattern(arg, ctx));
  }
}

function removeAffix(value: string, op: "#" | "##" | "%" | "%%", pattern: string): string {
  const n = value.length;
  if (op === "#") {
    for (let i = 0; i <= n; i++) if (matchPattern(pattern, value.slice(0, i))) return value.slice(i);
  } else if (op === "##") {
    for (let i = n; i >= 0; i--) if (matchPattern(pattern, value.slice(0, i))) return value.slice(i);
  } else if (op === "%") {
    for (let i = n; i >= 0; i--) if (matchPattern(pattern, value.slice(i))) return value.slice(0, i);
  } else {
    for (let i = 0; i <= n; i++) if (matchPattern(pattern, value.slice(i))) return value.slice(0, i);
  }
  return value;
}

/** Expansion to one string with no splitting or globbing (assignments, case words, redirections). */
export function expandString(word: Word, ctx: ExpandContext): string {
  let out = "";
  word.parts.forEach((part, i) => {
    if (i === 0 && part.kind === "lit" && part.value.startsWith("~")) {
      const t = tilde(part.value, word, ctx);
      if (t) {
        out += t.home + t.rest;
        return;
      }
    }
    out += partString(part, ctx);
  });
  return out;
}

function partString(part: WordPart, ctx: ExpandContext): string {
  switch (part.kind) {
    case "lit":
    case "sq":
      return part.value;
    case "dq":
      return part.parts.map((p) => partString(p, ctx)).join("");
    case "param":
      return paramValue(part, ctx);
    case "cmd":
      return ctx.substitution(part);
    case "arith":
      return arith(part.expr, ctx);
  }
}

/** Expansion to a pattern: quoted parts match literally, unquoted ones keep their glob meaning. */
export function expandPattern(word: Word, ctx: ExpandContext): string {
  let out = "";
  for (const part of word.parts) {
    if (part.kind === "lit") out += part.value;
    else if (part.kind === "sq") out += escapePattern(part.value);
    else if (part.kind === "dq") out += escapePattern(partString(part, ctx));
    else out += partString(part, ctx);
  }
  return out;
}

/** The command substitutions in the words, in the order they appear. */
export function collectSubstitutions(
  words: readonly (Word | undefined)[],
  out: SubstitutionPart[] = [],
): SubstitutionPart[] {
  for (const word of words) if (word) collectParts(word.parts, out);
  return out;
}

function collectParts(parts: readonly WordPart[], out: SubstitutionPart[]): void {
  for (const part of parts) {
    if (part.kind === "cmd") out.push(part);
    else if (part.kind === "dq") collectParts(part.parts, out);
    else if (part.kind === "param" && part.arg) collectParts(part.arg.parts, out);
    else if (part.kind === "arith") collectParts(part.expr.parts, out);
  }
}
