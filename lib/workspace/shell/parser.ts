/**
 * A recursive-descent parser for the POSIX-sh subset (see docs/decisions/0005-shell-parser.md).
 * Shell tokens depend on context (quotes, $(...), heredocs), so the lexer runs on demand with one
 * token of lookahead and reads words straight into their quoted parts.
 */
import type {
  AndOr,
  Assignment,
  CaseCommand,
  Command,
  ForCommand,
  IfCommand,
  List,
  ListItem,
  LoopCommand,
  ParamOp,
  ParamPart,
  Pipeline,
  Redirect,
  RedirectOp,
  Script,
  SimpleCommand,
  Word,
  WordPart,
} from "./ast.js";

export class ShellSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    /** The input ended early: more lines would complete it (an interactive shell prompts with PS2). */
    readonly incomplete: boolean,
  ) {
    super(message);
    this.name = "ShellSyntaxError";
  }
}

export interface ParseOptions {
  /**
   * Interactive input: a heredoc cut off by the end of input is incomplete (wait for more lines)
   * instead of ending there.
   */
  interactive?: boolean;
}

type Token =
  | { type: "word"; word: Word; start: number }
  | { type: "op"; op: string; start: number }
  | { type: "io"; fd: number; start: number }
  | { type: "eof"; start: number };

// Longest first, so "<<-" wins over "<<" and "<".
const OPERATORS = [
  "<<-",
  "&>>",
  "&&",
  "||",
  ";;",
  "<<",
  ">>",
  "<&",
  ">&",
  "<>",
  ">|",
  "&>",
  "|",
  "&",
  ";",
  "<",
  ">",
  "(",
  ")",
  "\n",
];
const REDIRECT_OPS = new Set(["<", ">", ">>", ">|", "<>", "<&", ">&", "&>", "&>>", "<<", "<<-"]);
/** Reserved words that end a list (the caller decides which one it expected). */
const LIST_END_WORDS = new Set(["then", "else", "elif", "fi", "do", "done", "esac", "}"]);
const META = new Set([" ", "\t", "\n", ";", "&", "|", "<", ">", "(", ")"]);
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ASSIGN_RE = /^([A-Za-z_][A-Za-z0-9_]*)=/;
const SPECIAL_PARAMS = "@*#?$!-";

interface PendingHeredoc {
  redirect: Redirect;
  delimiter: string;
  strip: boolean;
  quoted: boolean;
}

/** Parses a whole script. Throws ShellSyntaxError. */
export function parse(source: string, options: ParseOptions = {}): Script {
  const parser = new Parser(source, 0, source.length, options);
  return parser.parseScript();
}

class Parser {
  private peeked: Token | undefined;
  private readonly heredocs: PendingHeredoc[] = [];

  constructor(
    private readonly src: string,
    public pos: number,
    private readonly end: number,
    private readonly options: ParseOptions,
  ) {}

  parseScript(): Script {
    const body = this.parseList();
    const tok = this.peek();
    if (tok.type !== "eof") throw this.unexpected(tok);
    return { body };
  }

  /** The body of $(...): a list followed by ")". */
  parseSubstitution(): Script {
    const body = this.parseList();
    this.expectOp(")");
    return { body };
  }

  // ---- grammar ------------------------------------------------------------------------------

  private parseList(): List {
    const items: ListItem[] = [];
    this.skipNewlines();
    for (;;) {
      const tok = this.peek();
      if (tok.type === "eof" || this.endsList(tok)) break;
      const andOr = this.parseAndOr();
      const sep = this.peek();
      if (sep.type === "op" && (sep.op === ";" || sep.op === "&" || sep.op === "\n")) {
        this.next();
        items.push({ andOr, background: sep.op === "&" });
        this.skipNewlines();
        continue;
      }
      items.push({ andOr, background: false });
      break;
    }
    return items;
  }

  private endsList(tok: Token): boolean {
    if (tok.type === "op") return tok.op === ")" || tok.op === ";;";
    return tok.type === "word" && LIST_END_WORDS.has(plainWord(tok.word) ?? "");
  }

  private parseAndOr(): AndOr {
    const first = this.parsePipeline();
    const rest: AndOr["rest"] = [];
    for (;;) {
      const tok = this.peek();
      if (tok.type !== "op" || (tok.op !== "&&" && tok.op !== "||")) break;
      this.next();
      this.skipNewlines();
      rest.push({ op: tok.op, pipeline: this.parsePipeline() });
    }
    return { first, rest };
  }

  private parsePipeline(): Pipeline {
    let negated = false;
    const tok = this.peek();
    if (tok.type === "word" && plainWord(tok.word) === "!") {
      this.next();
      negated = true;
    }
    const commands = [this.parseCommand()];
    for (;;) {
      const sep = this.peek();
      if (sep.type !== "op" || sep.op !== "|") break;
      this.next();
      this.skipNewlines();
      commands.push(this.parseCommand());
    }
    return { negated, commands };
  }

  private parseCommand(): Command {
    const tok = this.peek();
    if (tok.type === "op" && tok.op === "(") {
      this.next();
      const body = this.parseNonEmptyList();
      this.expectOp(")");
      return { kind: "subshell", body, redirects: this.parseRedirects() };
    }
    if (tok.type === "word") {
      switch (plainWord(tok.word)) {
        case "if":
          return this.parseIf();
        case "while":
        case "until":
          return this.parseLoop();
        case "for":
          return this.parseFor();
        case "case":
          return this.parseCase();
        case "{": {
          this.next();
          const body = this.parseNonEmptyList();
          this.expectWord("}");
          return { kind: "group", body, redirects: this.parseRedirects() };
        }
      }
    }
    return this.parseSimple();
  }

  private parseSimple(): Command {
    const cmd: SimpleCommand = { kind: "simple", assigns: [], words: [], redirects: [] };
    for (;;) {
      const tok = this.peek();
      if (tok.type === "io") {
        this.next();
        cmd.redirects.push(this.parseRedirect(tok.fd));
      } else if (tok.type === "op" && REDIRECT_OPS.has(tok.op)) {
        cmd.redirects.push(this.parseRedirect(undefined));
      } else if (tok.type === "word") {
        if (cmd.words.length === 0) {
          const assign = asAssignment(tok.word);
          if (assign) {
            this.next();
            cmd.assigns.push(assign);
            continue;
          }
          if (LIST_END_WORDS.has(plainWord(tok.word) ?? "") && cmd.assigns.length === 0) {
            throw this.unexpected(tok);
          }
        }
        this.next();
        cmd.words.push(tok.word);
        if (cmd.words.length === 1 && cmd.assigns.length === 0 && cmd.redirects.length === 0) {
          const fn = this.maybeFunction(tok.word);
          if (fn) return fn;
        }
      } else {
        break;
      }
    }
    if (cmd.words.length === 0 && cmd.assigns.length === 0 && cmd.redirects.length === 0) {
      throw this.unexpected(this.peek());
    }
    return cmd;
  }

  /** `name() compound-command`, called right after the first word of a command. */
  private maybeFunction(word: Word): Command | undefined {
    const tok = this.peek();
    if (tok.type !== "op" || tok.op !== "(") return undefined;
    const name = plainWord(word);
    if (name === undefined || !NAME_RE.test(name)) throw this.unexpected(tok);
    this.next();
    this.expectOp(")");
    this.skipNewlines();
    const body = this.parseCommand();
    if (body.kind === "simple" || body.kind === "function") {
      throw this.error(`syntax error: function body of '${name}' must be a compound command`, tok.start);
    }
    return { kind: "function", name, body, redirects: [] };
  }

  private parseIf(): IfCommand {
    this.next();
    const clauses: IfCommand["clauses"] = [];
    let elseBody: List | undefined;
    const cond = this.parseNonEmptyList();
    this.expectWord("then");
    clauses.push({ cond, body: this.parseNonEmptyList() });
    for (;;) {
      const tok = this.peek();
      const word = tok.type === "word" ? plainWord(tok.word) : undefined;
      if (word === "elif") {
        this.next();
        const c = this.parseNonEmptyList();
        this.expectWord("then");
        clauses.push({ cond: c, body: this.parseNonEmptyList() });
      } else if (word === "else") {
        this.next();
        elseBody = this.parseNonEmptyList();
        this.expectWord("fi");
        break;
      } else {
        this.expectWord("fi");
        break;
      }
    }
    return { kind: "if", clauses, elseBody, redirects: this.parseRedirects() };
  }

  private parseLoop(): LoopCommand {
    const tok = this.next();
    const until = tok.type === "word" && tok.word.text === "until";
    const cond = this.parseNonEmptyList();
    this.expectWord("do");
    const body = this.parseNonEmptyList();
    this.expectWord("done");
    return { kind: "loop", until, cond, body, redirects: this.parseRedirects() };
  }

  private parseFor(): ForCommand {
    this.next();
    const nameTok = this.next();
    const name = nameTok.type === "word" ? plainWord(nameTok.word) : undefined;
    if (name === undefined || !NAME_RE.test(name)) throw this.unexpected(nameTok);
    let words: Word[] | undefined;
    this.skipNewlines();
    const tok = this.peek();
    if (tok.type === "word" && plainWord(tok.word) === "in") {
      this.next();
      words = [];
      for (;;) {
        const w = this.peek();
        if (w.type !== "word") break;
        this.next();
        words.push(w.word);
      }
      const sep = this.next();
      if (sep.type !== "op" || (sep.op !== ";" && sep.op !== "\n")) throw this.unexpected(sep);
    } else if (tok.type === "op" && tok.op === ";") {
      this.next();
    }
    this.skipNewlines();
    this.expectWord("do");
    const body = this.parseNonEmptyList();
    this.expectWord("done");
    return { kind: "for", name, words, body, redirects: this.parseRedirects() };
  }

  private parseCase(): CaseCommand {
    this.next();
    const wordTok = this.next();
    if (wordTok.type !== "word") throw this.unexpected(wordTok);
    this.skipNewlines();
    this.expectWord("in");
    this.skipNewlines();
    const items: CaseCommand["items"] = [];
    for (;;) {
      let tok = this.peek();
      if (tok.type === "word" && plainWord(tok.word) === "esac") {
        this.next();
        break;
      }
      if (tok.type === "op" && tok.op === "(") {
        this.next();
        tok = this.peek();
      }
      const patterns: Word[] = [];
      for (;;) {
        const p = this.next();
        if (p.type !== "word") throw this.unexpected(p);
        patterns.push(p.word);
        const sep = this.next();
        if (sep.type === "op" && sep.op === ")") break;
        if (sep.type !== "op" || sep.op !== "|") throw this.unexpected(sep);
      }
      const body = this.parseList();
      items.push({ patterns, body });
      const end = this.peek();
      if (end.type === "op" && end.op === ";;") {
        this.next();
        this.skipNewlines();
      } else if (!(end.type === "word" && plainWord(end.word) === "esac")) {
        throw this.unexpected(end);
      }
    }
    return { kind: "case", word: wordTok.word, items, redirects: this.parseRedirects() };
  }

  private parseNonEmptyList(): List {
    const list = this.parseList();
    if (list.length === 0) throw this.unexpected(this.peek());
    return list;
  }

  private parseRedirects(): Redirect[] {
    const redirects: Redirect[] = [];
    for (;;) {
      const tok = this.peek();
      if (tok.type === "io") {
        this.next();
        redirects.push(this.parseRedirect(tok.fd));
      } else if (tok.type === "op" && REDIRECT_OPS.has(tok.op)) {
        redirects.push(this.parseRedirect(undefined));
      } else {
        return redirects;
      }
    }
  }

  private parseRedirect(fd: number | undefined): Redirect {
    const opTok = this.next();
    if (opTok.type !== "op" || !REDIRECT_OPS.has(opTok.op)) throw this.unexpected(opTok);
    const target = this.next();
    if (target.type !== "word") throw this.unexpected(target);
    const redirect: Redirect = { fd, op: opTok.op as RedirectOp, target: target.word };
    if (opTok.op === "<<" || opTok.op === "<<-") {
      const quoted = target.word.parts.some((p) => p.kind !== "lit");
      this.heredocs.push({
        redirect,
        delimiter: literalText(target.word.parts),
        strip: opTok.op === "<<-",
        quoted,
      });
    }
    return redirect;
  }

  private skipNewlines(): void {
    for (;;) {
      const tok = this.peek();
      if (tok.type !== "op" || tok.op !== "\n") return;
      this.next();
    }
  }

  private expectWord(word: string): void {
    const tok = this.next();
    if (tok.type !== "word" || plainWord(tok.word) !== word) throw this.unexpected(tok);
  }

  private expectOp(op: string): void {
    const tok = this.next();
    if (tok.type !== "op" || tok.op !== op) throw this.unexpected(tok);
  }

  // ---- lexer --------------------------------------------------------------------------------

  private peek(): Token {
    this.peeked ??= this.lex();
    return this.peeked;
  }

  private next(): Token {
    const tok = this.peek();
    this.peeked = undefined;
    return tok;
  }

  private lex(): Token {
    const src = this.src;
    for (;;) {
      const c = src[this.pos];
      if (this.pos >= this.end) break;
      if (c === " " || c === "\t") this.pos++;
      else if (c === "\\" && src[this.pos + 1] === "\n") this.pos += 2;
      else if (c === "#") {
        while (this.pos < this.end && src[this.pos] !== "\n") this.pos++;
      } else break;
    }
    const start = this.pos;
    if (this.pos >= this.end) {
      // A heredoc whose command ends the input has an empty (or unterminated) body.
      if (this.heredocs.length > 0) this.readHeredocs();
      return { type: "eof", start };
    }
    let i = this.pos;
    while (i < this.end && src.charCodeAt(i) >= 48 && src.charCodeAt(i) <= 57) i++;
    if (i > this.pos && i < this.end && (src[i] === "<" || src[i] === ">")) {
      const fd = Number(src.slice(this.pos, i));
      this.pos = i;
      return { type: "io", fd, start };
    }
    for (const op of OPERATORS) {
      if (src.startsWith(op, this.pos) && this.pos + op.length <= this.end) {
        this.pos += op.length;
        if (op === "\n" && this.heredocs.length > 0) this.readHeredocs();
        return { type: "op", op, start };
      }
    }
    return { type: "word", word: this.readWord(), start };
  }

  /** Reads the bodies of the heredocs started on the line that just ended. */
  private readHeredocs(): void {
    const src = this.src;
    for (const h of this.heredocs.splice(0)) {
      let body = "";
      for (;;) {
        if (this.pos >= this.end) {
          if (this.options.interactive) {
            throw this.error(`syntax error: heredoc '${h.delimiter}' is not terminated`, this.end, true);
          }
          break;
        }
        let eol = src.indexOf("\n", this.pos);
        if (eol < 0 || eol > this.end) eol = this.end;
        let line = src.slice(this.pos, eol);
        this.pos = Math.min(eol + 1, this.end);
        if (h.strip) line = line.replace(/^\t+/, "");
        if (line === h.delimiter) break;
        body += line + "\n";
      }
      h.redirect.body = h.quoted
        ? { parts: [{ kind: "sq", value: body }], text: body }
        : { parts: [{ kind: "dq", parts: parseHeredocBody(body, this.options) }], text: body };
    }
  }

  /** An unquoted word: stops at a metacharacter. */
  private readWord(): Word {
    const start = this.pos;
    const parts = this.readParts((c) => META.has(c), true);
    return { parts, text: this.src.slice(start, this.pos) };
  }

  /**
   * Reads word parts until `stop` says so (outside quotes). `quotes`: quotes and escapes work as in
   * an unquoted word; otherwise they work as inside "..." with no closing quote (heredocs, $((...))).
   */
  readParts(stop: (c: string) => boolean, quotes: boolean): WordPart[] {
    const src = this.src;
    const parts: WordPart[] = [];
    let lit = "";
    const flush = (): void => {
      if (lit) parts.push({ kind: "lit", value: lit });
      lit = "";
    };
    while (this.pos < this.end) {
      const c = src[this.pos]!;
      if (stop(c)) break;
      if (c === "\\") {
        const n = src[this.pos + 1];
        if (this.pos + 1 >= this.end || n === undefined) {
          lit += "\\";
          this.pos++;
        } else if (n === "\n") {
          this.pos += 2;
        } else if (quotes) {
          flush();
          parts.push({ kind: "sq", value: n });
          this.pos += 2;
        } else if (n === "$" || n === "`" || n === "\\") {
          lit += n;
          this.pos += 2;
        } else {
          lit += "\\";
          this.pos++;
        }
      } else if (c === "'" && quotes) {
        const close = src.indexOf("'", this.pos + 1);
        if (close < 0 || close >= this.end) {
          throw this.error("syntax error: unterminated quoted string", this.pos, true);
        }
        flush();
        parts.push({ kind: "sq", value: src.slice(this.pos + 1, close) });
        this.pos = close + 1;
      } else if (c === '"' && quotes) {
        flush();
        parts.push(this.readDouble());
      } else if (c === "$") {
        const part = this.readDollar();
        if (part) {
          flush();
          parts.push(part);
        } else {
          lit += "$";
        }
      } else if (c === "`") {
        flush();
        parts.push(this.readBacktick());
      } else {
        lit += c;
        this.pos++;
      }
    }
    flush();
    return parts;
  }

  private readDouble(): WordPart {
    const src = this.src;
    const open = this.pos++;
    const parts: WordPart[] = [];
    let lit = "";
    const flush = (): void => {
      if (lit) parts.push({ kind: "lit", value: lit });
      lit = "";
    };
    for (;;) {
      if (this.pos >= this.end) throw this.error("syntax error: unterminated quoted string", open, true);
      const c = src[this.pos]!;
      if (c === '"') {
        this.pos++;
        break;
      }
      if (c === "\\") {
        const n = src[this.pos + 1];
        if (n === "\n") this.pos += 2;
        else if (n === "$" || n === "`" || n === '"' || n === "\\") {
          lit += n;
          this.pos += 2;
        } else {
          lit += "\\";
          this.pos++;
        }
      } else if (c === "$") {
        const part = this.readDollar();
        if (part) {
          flush();
          parts.push(part);
        } else {
          lit += "$";
        }
      } else if (c === "`") {
        flush();
        parts.push(this.readBacktick());
      } else {
        lit += c;
        this.pos++;
      }
    }
    flush();
    return { kind: "dq", parts };
  }

  /** At "$": returns the expansion, or undefined (and skips the "$") when it is a literal dollar. */
  private readDollar(): WordPart | undefined {
    const src = this.src;
    const n = this.pos + 1 < this.end ? src[this.pos + 1] : undefined;
    if (n === "{") return this.readBraced();
    if (n === "(") {
      if (src[this.pos + 2] === "(") {
        const arith = this.readArith();
        if (arith) return arith;
      }
      this.pos += 2;
      const sub = new Parser(src, this.pos, this.end, this.options);
      const script = sub.parseSubstitution();
      this.pos = sub.pos;
      return { kind: "cmd", script };
    }
    if (n !== undefined && /[A-Za-z_]/.test(n)) {
      let i = this.pos + 1;
      while (i < this.end && /[A-Za-z0-9_]/.test(src[i]!)) i++;
      const name = src.slice(this.pos + 1, i);
      this.pos = i;
      return { kind: "param", name };
    }
    if (n !== undefined && (/[0-9]/.test(n) || SPECIAL_PARAMS.includes(n))) {
      this.pos += 2;
      return { kind: "param", name: n };
    }
    this.pos++;
    return undefined;
  }

  /** $((expr)); undefined when there is no matching "))" (then it is $( (subshell) )). */
  private readArith(): WordPart | undefined {
    const src = this.src;
    let depth = 0;
    for (let i = this.pos + 3; i < this.end; i++) {
      const c = src[i];
      if (c === "(") depth++;
      else if (c === ")") {
        if (depth > 0) depth--;
        else if (src[i + 1] === ")") {
          const sub = new Parser(src, this.pos + 3, i, this.options);
          const parts = sub.readParts(() => false, false);
          const text = src.slice(this.pos + 3, i);
          this.pos = i + 2;
          return { kind: "arith", expr: { parts, text } };
        } else return undefined;
      }
    }
    return undefined;
  }

  private readBraced(): WordPart {
    const src = this.src;
    const open = this.pos;
    this.pos += 2;
    let length = false;
    if (src[this.pos] === "#" && this.pos + 1 < this.end && src[this.pos + 1] !== "}") {
      length = true;
      this.pos++;
    }
    let name: string;
    const c = src[this.pos] ?? "";
    if (/[A-Za-z_]/.test(c)) {
      let i = this.pos;
      while (i < this.end && /[A-Za-z0-9_]/.test(src[i]!)) i++;
      name = src.slice(this.pos, i);
      this.pos = i;
    } else if (/[0-9]/.test(c)) {
      let i = this.pos;
      while (i < this.end && /[0-9]/.test(src[i]!)) i++;
      name = src.slice(this.pos, i);
      this.pos = i;
    } else if (c !== "" && SPECIAL_PARAMS.includes(c)) {
      name = c;
      this.pos++;
    } else {
      if (this.pos >= this.end) throw this.error("syntax error: missing '}'", open, true);
      throw this.error("syntax error: bad substitution", open);
    }
    const part: ParamPart = { kind: "param", name };
    if (length) {
      part.length = true;
      this.expectBrace(open);
      return part;
    }
    if (src[this.pos] === "}") {
      this.pos++;
      return part;
    }
    if (src[this.pos] === ":") {
      part.colon = true;
      this.pos++;
    }
    const rest = src.slice(this.pos, this.pos + 2);
    let op: ParamOp | undefined;
    if (!part.colon && (rest === "##" || rest === "%%")) op = rest;
    else {
      const one = rest[0];
      if (one === "-" || one === "=" || one === "+" || one === "?") op = one;
      else if (!part.colon && (one === "#" || one === "%")) op = one;
    }
    if (op === undefined) {
      if (this.pos >= this.end) throw this.error("syntax error: missing '}'", open, true);
      throw this.error("syntax error: bad substitution", open);
    }
    this.pos += op.length;
    part.op = op;
    const start = this.pos;
    const parts = this.readParts((ch) => ch === "}", true);
    part.arg = { parts, text: src.slice(start, this.pos) };
    this.expectBrace(open);
    return part;
  }

  private expectBrace(open: number): void {
    if (this.pos >= this.end) throw this.error("syntax error: missing '}'", open, true);
    if (this.src[this.pos] !== "}") throw this.error("syntax error: bad substitution", open);
    this.pos++;
  }

  private readBacktick(): WordPart {
    const src = this.src;
    const open = this.pos++;
    let inner = "";
    for (;;) {
      if (this.pos >= this.end) throw this.error("syntax error: unterminated '`'", open, true);
      const c = src[this.pos]!;
      if (c === "`") {
        this.pos++;
        break;
      }
      if (
        c === "\\" &&
        (src[this.pos + 1] === "`" || src[this.pos + 1] === "\\" || src[this.pos + 1] === "$")
      ) {
        inner += src[this.pos + 1];
        this.pos += 2;
      } else {
        inner += c;
        this.pos++;
      }
    }
    return { kind: "cmd", script: parse(inner, this.options) };
  }

  // ---- errors -------------------------------------------------------------------------------

  private unexpected(tok: Token): ShellSyntaxError {
    if (tok.type === "eof") return this.error("syntax error: unexpected end of file", tok.start, true);
    const text =
      tok.type === "word"
        ? tok.word.text
        : tok.type === "io"
          ? String(tok.fd)
          : tok.op === "\n"
            ? "newline"
            : tok.op;
    return this.error(`syntax error: unexpected '${text}'`, tok.start);
  }

  private error(message: string, offset: number, incomplete = false): ShellSyntaxError {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset && i < this.src.length; i++) {
      if (this.src[i] === "\n") {
        line++;
        lineStart = i + 1;
      }
    }
    const column = offset - lineStart + 1;
    return new ShellSyntaxError(`${message} at ${line}:${column}`, line, column, incomplete);
  }
}

function parseHeredocBody(body: string, options: ParseOptions): WordPart[] {
  return new Parser(body, 0, body.length, options).readParts(() => false, false);
}

/** The word's text when it is a single unquoted literal (reserved words must be), else undefined. */
function plainWord(word: Word): string | undefined {
  const [part, extra] = word.parts;
  return part?.kind === "lit" && extra === undefined ? part.value : undefined;
}

/** The text of parts after quote removal, without expansions (heredoc delimiters). */
function literalText(parts: WordPart[]): string {
  let text = "";
  for (const p of parts) {
    if (p.kind === "lit" || p.kind === "sq") text += p.value;
    else if (p.kind === "dq") text += literalText(p.parts);
    else if (p.kind === "param") text += "$" + p.name;
  }
  return text;
}

function asAssignment(word: Word): Assignment | undefined {
  const first = word.parts[0];
  if (first?.kind !== "lit") return undefined;
  const m = ASSIGN_RE.exec(first.value);
  if (!m) return undefined;
  const name = m[1]!;
  const restLit = first.value.slice(m[0].length);
  const parts: WordPart[] = restLit ? [{ kind: "lit", value: restLit }] : [];
  parts.push(...word.parts.slice(1));
  return { name, value: { parts, text: word.text.slice(m[0].length) } };
}
