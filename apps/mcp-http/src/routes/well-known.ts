import type { Hono } from "hono";
import type { AppEnv, HttpAppDeps } from "./deps.js";

/** Discovery documents: the protected-resource metadata (RFC 9728) and, for the local issuer, its keys. */
export function registerWellKnownRoutes(
  app: Hono<AppEnv>,
  { config, identity }: Pick<HttpAppDeps, "config" | "identity">,
): void {
  app.get("/.well-known/oauth-protected-resource", (c) =>
    c.json({
      resource: config.auth.audience,
      authorization_servers: [identity.issuer],
      bearer_methods_supported: ["header"],
    }),
  );

  const localProvider = identity.localProvider;
  if (!localProvider) return;
  app.get("/.well-known/jwks.json", (c) => c.json(localProvider.jwks()));
  // Discovery for the local issuer, so any OIDC verifier (e.g. the stdio binary's MCP_TOKEN check) can find its keys.
  app.get("/.well-known/openid-configuration", (c) =>
    c.json({
      issuer: identity.issuer,
      jwks_uri: `${config.publicUrl}/.well-known/jwks.json`,
      response_types_supported: [],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: localProvider.jwks().keys.map((key) => key.alg),
    }),
  );
}
