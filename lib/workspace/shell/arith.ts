/**
 * $((...)) arithmetic: integers, C operators by precedence, variables by bare name, assignment
 * and ++/--. The text arrives with $-expansions already done.
 */

export interface ArithVars {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
}

export class ArithError extends Error {}

type Tok = { t: "num"; v: number } | { t: "name"; v: string } | { t: "op"; v: string };

const OPS = [
  "<<=",
  ">>=",
  "**",
  "<<",
  ">>",
  "<=",
  ">=",
  "==",
  "!=",
  "&&",
  "||",
  "++",
  "--",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "+",
  "-",
  "*",
  "/",
  "%",
  "<",
  ">",
  "!",
  "~",
  "&",
  "|",
  "^",
  "(",
  ")",
  "?",
  ":",
  "=",
];

/** Binary operators by precedence, loosest first. */
const LEVELS: string[][] = [
  ["||"],
  ["&&"],
  ["|"],
  ["^"],
  ["&"],
  ["==", "!="],
  ["<", "<=", ">", ">="],
  ["<<", ">>"],
  ["+", "-"],
  ["*", "/", "%"],
];

function tokenize(text: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(0[xX][0-9a-fA-F]+|[0-9]+)/.exec(text.slice(i));
    if (num) {
      const s = num[0];
      const v = /^0[xX]/.test(s)
        ? parseInt(s.slice(2), 16)
        : s.length > 1 && s[0] === "0"
          ? parseInt(s, 8)
          : Number(s);
      if (Number.isNaN(v)) throw new ArithError(`invalid number '${s}'`);
      toks.push({ t: "num", v });
      i += s.length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (name) {
      toks.push({ t: "name", v: name[0] });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (!op) throw new ArithError(`syntax error in expression (error token is '${text.slice(i)}')`);
    toks.push({ t: "op", v: op });
    i += op.length;
  }
  return toks;
}

/** Evaluates `text`; throws ArithError on a syntax error or division by zero. */
export function evaluateArith(text: string, vars: ArithVars): number {
  const toks = tokenize(text);
  if (toks.length === 0) return 0;
  let i = 0;
  const peekOp = (): string | undefined => {
    const t = toks[i];
    return t?.t === "op" ? t.v : undefined;
  };
  const expectOp = (op: string): void => {
    if (peekOp() !== op) throw new ArithError(`expected '${op}'`);
    i++;
  };
  const valueOf = (name: string): number => {
    const raw = vars.get(name);
    if (raw === undefined || raw.trim() === "") return 0;
    return evaluateArith(raw, vars);
  };

  const assignment = (): number => {
    const t = toks[i];
    const op = toks[i + 1];
    if (t?.t === "name" && op?.t === "op" && /^(<<|>>|[-+*/%&|^])?=$/.test(op.v)) {
      i += 2;
      const rhs = assignment();
      const value = op.v === "=" ? rhs : binary(op.v.slice(0, -1), valueOf(t.v), rhs);
      vars.set(t.v, String(value));
      return value;
    }
    return ternary();
  };

  const ternary = (): number => {
    const cond = level(0);
    if (peekOp() !== "?") return cond;
    i++;
    const a = assignment();
    expectOp(":");
    const b = assignment();
    return cond !== 0 ? a : b;
  };

  const level = (n: number): number => {
    if (n >= LEVELS.length) return power();
    let left = level(n + 1);
    for (;;) {
      const op = peekOp();
      if (op === undefined || !LEVELS[n]!.includes(op)) return left;
      i++;
      // && and || short-circuit only in effect; operands have no side effects worth skipping.
      const right = level(n + 1);
      left = binary(op, left, right);
    }
  };

  const power = (): number => {
    const base = unary();
    if (peekOp() === "**") {
      i++;
      const exp = power();
      return Math.trunc(base ** exp);
    }
    return base;
  };

  const unary = (): number => {
    const op = peekOp();
    if (op === "-" || op === "+" || op === "!" || op === "~") {
      i++;
      const v = unary();
      return op === "-" ? -v : op === "+" ? v : op === "!" ? Number(v === 0) : ~v;
    }
    if (op === "++" || op === "--") {
      i++;
      const t = toks[i++];
      if (t?.t !== "name") throw new ArithError(`'${op}' needs a variable`);
      const v = valueOf(t.v) + (op === "++" ? 1 : -1);
      vars.set(t.v, String(v));
      return v;
    }
    return primary();
  };

  const primary = (): number => {
    const t = toks[i++];
    if (!t) throw new ArithError("unexpected end of expression");
    if (t.t === "num") return t.v;
    if (t.t === "name") {
      const post = peekOp();
      if (post === "++" || post === "--") {
        i++;
        const v = valueOf(t.v);
        vars.set(t.v, String(v + (post === "++" ? 1 : -1)));
        return v;
      }
      return valueOf(t.v);
    }
    if (t.v === "(") {
      const v = assignment();
      expectOp(")");
      return v;
    }
    throw new ArithError(`syntax error: unexpected '${t.v}'`);
  };

  const result = assignment();
  if (i < toks.length) {
    const t = toks[i]!;
    throw new ArithError(`syntax error: unexpected '${String(t.v)}'`);
  }
  return result;
}

function binary(op: string, a: number, b: number): number {
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return Math.trunc(a * b);
    case "/":
    case "%":
      if (b === 0) throw new ArithError("division by zero");
      return op === "/" ? Math.trunc(a / b) : a % b;
    case "<<":
      return a << b;
    case ">>":
      return a >> b;
    case "<":
      return Number(a < b);
    case "<=":
      return Number(a <= b);
    case ">":
      return Number(a > b);
    case ">=":
      return Number(a >= b);
    case "==":
      return Number(a === b);
    case "!=":
      return Number(a !== b);
    case "&":
      return a & b;
    case "|":
      return a | b;
    case "^":
      return a ^ b;
    case "&&":
      return Number(a !== 0 && b !== 0);
    case "||":
      return Number(a !== 0 || b !== 0);
    default:
      throw new ArithError(`unknown operator '${op}'`);
  }
}
