export { baseSoftware, baseSoftwareAvailable, softwareDir, SHELL_FILE } from "./base.js";
export { definePackage, SoftwareError } from "./package.js";
export type { SoftwareFile, SoftwarePackage } from "./package.js";
