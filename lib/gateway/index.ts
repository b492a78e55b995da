export { buildGateway, type GatewayDeps } from "./server.js";
export { AdminTokenVerifier, type Principal, type TokenVerifier, type RouteAuth } from "./auth.js";
export { resolveAdminToken, ADMIN_TOKEN_FILE } from "./admin-token.js";
export { StoreNamespaces } from "./namespaces.js";
