/**
 * The syntax tree of the POSIX-sh subset the workspace shell understands. The parser builds it
 * once per command string; the interpreter walks it and never changes it (so parsed scripts can
 * be cached and shared).
 */

/** A word is a sequence of parts; quoting is kept so expansion knows what may split or glob. */
export interface Word {
  parts: WordPart[];
  /** The source text of the word (reserved-word checks and messages). */
  text: string;
}

export type WordPart =
  /** Unquoted literal text: subject to globbing (and tilde expansion at the start of a word). */
  | { kind: "lit"; value: string }
  /** Quoted literal text ('...' or a backslash-escaped character). */
  | { kind: "sq"; value: string }
  /** "...": everything inside is quoted. */
  | { kind: "dq"; parts: WordPart[] }
  | ParamPart
  /** $(...) or `...`. */
  | { kind: "cmd"; script: Script }
  /** $((...)): the expression text after parameter expansion. */
  | { kind: "arith"; expr: Word };

export type ParamOp = "-" | "=" | "+" | "?" | "#" | "##" | "%" | "%%";

export interface ParamPart {
  kind: "param";
  /** A variable name, a positional index ("1"), or a special parameter ("?", "#", "@", ...). */
  name: string;
  /** ${#name}. */
  length?: boolean;
  op?: ParamOp;
  /** ${name:-x} rather than ${name-x}: treat the empty string like unset. */
  colon?: boolean;
  arg?: Word;
}

export interface Assignment {
  name: string;
  value: Word;
}

export type RedirectOp = "<" | ">" | ">>" | ">|" | "<>" | "<&" | ">&" | "&>" | "&>>" | "<<" | "<<-";

export interface Redirect {
  /** The fd the redirection applies to; undefined means the operator's default (0 or 1). */
  fd: number | undefined;
  op: RedirectOp;
  /** File name, fd number, or (heredocs) the delimiter. */
  target: Word;
  /** Heredocs: the body, already quoted as a whole; expansions only when the delimiter was unquoted. */
  body?: Word;
}

export interface SimpleCommand {
  kind: "simple";
  assigns: Assignment[];
  words: Word[];
  redirects: Redirect[];
}

export interface IfCommand {
  kind: "if";
  clauses: { cond: List; body: List }[];
  elseBody: List | undefined;
  redirects: Redirect[];
}

export interface LoopCommand {
  kind: "loop";
  /** `until` runs while the condition fails. */
  until: boolean;
  cond: List;
  body: List;
  redirects: Redirect[];
}

export interface ForCommand {
  kind: "for";
  name: string;
  /** Undefined means "$@". */
  words: Word[] | undefined;
  body: List;
  redirects: Redirect[];
}

export interface CaseCommand {
  kind: "case";
  word: Word;
  items: { patterns: Word[]; body: List }[];
  redirects: Redirect[];
}

export interface GroupCommand {
  kind: "group" | "subshell";
  body: List;
  redirects: Redirect[];
}

export interface FunctionDef {
  kind: "function";
  name: string;
  body: Command;
  redirects: Redirect[];
}

export type Command =
  SimpleCommand | IfCommand | LoopCommand | ForCommand | CaseCommand | GroupCommand | FunctionDef;

export interface Pipeline {
  negated: boolean;
  commands: Command[];
}

export interface AndOr {
  first: Pipeline;
  rest: { op: "&&" | "||"; pipeline: Pipeline }[];
}

export interface ListItem {
  andOr: AndOr;
  background: boolean;
}

export type List = ListItem[];

export interface Script {
  body: List;
}
