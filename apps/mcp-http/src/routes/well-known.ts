import type { Hono } from "hono";
import { MCP_SCOPE } from "../oauth/authorization-server.js";
import type { AppEnv, HttpAppDeps } from "./deps.js";

/**
 * Discovery documents: the protected-resource metadata (RFC 9728) and, for the local issuer, its
 * keys. The local issuer's OAuth metadata (RFC 8414, OIDC discovery) is its authorization
 * server's (routes/oauth.ts).
 */
export function registerWellKnownRoutes(
  app: Hono<AppEnv>,
  { config, identity }: Pick<HttpAppDeps, "config" | "identity">,
): void {
  app.get("/.well-known/oauth-protected-resource", (c) =>
    c.json({
      resource: config.auth.audience,
      authorization_servers: [identity.issuer],
      bearer_methods_supported: ["header"],
      // The embedded issuer's one resource scope; an external issuer's scopes are its own.
      ...(identity.oauth ? { scopes_supported: [MCP_SCOPE] } : {}),
    }),
  );

  const localProvider = identity.localProvider;
  if (!localProvider) return;
  app.get("/.well-known/jwks.json", (c) => c.json(localProvider.jwks()));
}
