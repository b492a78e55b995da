export { validateUse, createHost, type RegistryConfig } from "./registry.js";
