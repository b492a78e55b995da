/** Control flow that unwinds the interpreter's stack. Not Errors: they need no stack trace. */

/** `exit`: unwinds to the shell (or subshell) boundary. */
export class ExitRequest {
  constructor(readonly status: number) {}
}

/** `break n` / `continue n`. */
export class LoopControl {
  constructor(
    readonly kind: "break" | "continue",
    public levels: number,
  ) {}
}

/** `return`. */
export class ReturnRequest {
  constructor(readonly status: number) {}
}

/** The command being run was cut short: the process was signalled, or Ctrl-C at a terminal. */
export class Interrupted {
  constructor(readonly status: number) {}
}
