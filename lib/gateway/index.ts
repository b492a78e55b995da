export { buildGateway, type GatewayDeps } from "./server.js";
export { type Principal, type TokenVerifier, type RouteAuth, type Verdict } from "./auth.js";
export { TokenStore, type TokenInfo, type TokenKind } from "./tokens.js";
export { resolveAdminToken, ADMIN_TOKEN_FILE } from "./admin-token.js";
export { StoreNamespaces, type NamespaceInfo } from "./namespaces.js";
