export * from "./codec.js";
export * from "./protocol.js";
export type { WireError } from "../errors.js";
