/** The workspace shell: parser, interpreter, the `sh` host program, exec and terminals. */
import type { HostProgram } from "../kernel/types.js";
import { sh } from "./sh.js";

export type * from "./ast.js";
export { parse, ShellSyntaxError, type ParseOptions } from "./parser.js";
export { sh } from "./sh.js";
export { runShellCommand, type RunShellOptions, type RunShellResult } from "./run.js";
export { ShellSession, type ShellSessionOptions } from "./session.js";
export { Terminal } from "./terminal.js";

/** The host programs this module provides, for `new Kernel({ hostPrograms })`. */
export const shellHostPrograms: Record<string, HostProgram> = { sh };
