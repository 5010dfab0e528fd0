import type { JsonWebKey, OAuthStateStore } from "@mcp-langgraph/auth-provider";
import Provider, { type Configuration, errors, type KoaContextWithOIDC } from "oidc-provider";
import type { OAuthSettings } from "../config.js";
import type { DerivedKeys } from "./derived-keys.js";
import { renderErrorPage } from "./pages.js";
import { registrationValidator } from "./registration-policy.js";

/** The one resource-server scope: calling this MCP server's tools, resources and prompts. */
export const MCP_SCOPE = "mcp";

export const OAUTH_PATHS = {
  authorization: "/oauth/authorize",
  token: "/oauth/token",
  revocation: "/oauth/revoke",
  registration: "/oauth/register",
  jwks: "/.well-known/jwks.json",
  interaction: "/oauth/interaction",
} as const;

export interface AuthorizationServerOptions {
  issuer: string;
  /** The MCP endpoint's URL: the only `resource` a client may ask for, and the tokens' audience. */
  audience: string;
  /** The local issuer's private key: OAuth access tokens verify exactly like `/auth/login` ones. */
  signingJwk: JsonWebKey;
  keys: DerivedKeys;
  state: OAuthStateStore;
  settings: OAuthSettings;
  accessTokenTtlSeconds: number;
  /** Roles of a configured user, undefined for anyone else (the user list is the source of truth). */
  rolesOf(username: string): readonly string[] | undefined;
  /** The login session a grant's tokens name (`sid`), so logout and erase end them. */
  sessionOfGrant(grantId: string): Promise<string | undefined>;
}

/**
 * The embedded issuer as an OAuth 2.1 authorization server. Protocol work (PKCE, codes, refresh
 * rotation, registration, metadata documents, discovery) is oidc-provider's; this is its
 * configuration: S256 PKCE always, the RFC 8707 `resource` required and bound to the MCP
 * audience, JWT access tokens in the local issuer's shape (roles, sid, preferred_username).
 */
export function createAuthorizationServer(options: AuthorizationServerOptions): Provider {
  const { audience, settings } = options;
  const signingAlg = (options.signingJwk.alg ?? "EdDSA") as "EdDSA" | "ES256";
  const resourceServer = {
    scope: MCP_SCOPE,
    audience,
    accessTokenFormat: "jwt" as const,
    accessTokenTTL: options.accessTokenTtlSeconds,
    jwt: { sign: { alg: signingAlg } },
  };
  const configuration: Configuration = {
    adapter: options.state as unknown as Configuration["adapter"],
    clients: [],
    jwks: { keys: [options.signingJwk as never] },
    cookies: {
      keys: [options.keys.cookieKey],
      long: { signed: true, httpOnly: true, sameSite: "lax" },
      short: { signed: true, httpOnly: true, sameSite: "lax" },
    },
    routes: {
      authorization: OAUTH_PATHS.authorization,
      token: OAUTH_PATHS.token,
      revocation: OAUTH_PATHS.revocation,
      registration: OAUTH_PATHS.registration,
      jwks: OAUTH_PATHS.jwks,
      userinfo: "/oauth/userinfo",
      end_session: "/oauth/logout",
      introspection: "/oauth/introspect",
      pushed_authorization_request: "/oauth/par",
      code_verification: "/oauth/device",
      device_authorization: "/oauth/device/auth",
      backchannel_authentication: "/oauth/backchannel",
      challenge: "/oauth/challenge",
    },
    // `mcp` is listed here too, or clients that register with `scope: "mcp"` (the SDK does) are
    // refused; it is granted both as an OP scope and as the resource's scope (routes/oauth.ts).
    scopes: ["openid", "offline_access", MCP_SCOPE],
    claims: { openid: ["sub"], profile: ["preferred_username"] },
    responseTypes: ["code"],
    pkce: { required: () => true },
    clientDefaults: {
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      // The local key is the only signing key, so ID tokens (openid scope) are signed with it too.
      id_token_signed_response_alg: signingAlg,
    },
    interactions: { url: (_ctx, interaction) => `${OAUTH_PATHS.interaction}/${interaction.uid}` },
    async findAccount(_ctx, id) {
      if (options.rolesOf(id) === undefined) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, preferred_username: id }) };
    },
    // The local issuer's token shape (local-provider.ts), so verification, authorization and
    // logout treat an OAuth token like a `/auth/login` one.
    async extraTokenClaims(_ctx, issued) {
      // Client-credentials tokens are not issued here (the grant is off); user tokens carry both.
      const token = issued as { accountId?: string; grantId?: string };
      const username = token.accountId;
      if (typeof username !== "string") return undefined;
      const roles = options.rolesOf(username);
      // A grant whose login session cannot be found gets a token that fails verification (no sid)
      // rather than one that outlives logout.
      const sid = token.grantId ? await options.sessionOfGrant(token.grantId) : undefined;
      return { preferred_username: username, roles: [...(roles ?? [])], ...(sid ? { sid } : {}) };
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: options.accessTokenTtlSeconds,
      AuthorizationCode: settings.codeTtlSeconds,
      Interaction: settings.interactionTtlSeconds,
      Session: settings.interactionTtlSeconds,
      Grant: settings.refreshTokenTtlSeconds,
      RefreshToken: settings.refreshTokenTtlSeconds,
      IdToken: options.accessTokenTtlSeconds,
    },
    extraClientMetadata: {
      properties: ["software_id", "software_version"],
      validator: registrationValidator(settings.registration),
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      revocation: { enabled: true },
      registration: { enabled: settings.registration !== "off", initialAccessToken: false },
      clientIdMetadataDocument: {
        enabled: settings.clientMetadataDocuments,
        ack: "draft-02",
      },
      resourceIndicators: {
        enabled: true,
        // RFC 8707 is required by the MCP authorization spec: an authorization request without
        // `resource` is refused instead of defaulting, so a token is never minted for a guess.
        defaultResource(ctx: KoaContextWithOIDC) {
          if (ctx.oidc.route === "authorization" || ctx.oidc.route === "pushed_authorization_request") {
            throw new errors.InvalidTarget("the resource parameter is required");
          }
          return undefined as unknown as string;
        },
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, resourceIndicator) {
          if (resourceIndicator !== audience) {
            throw new errors.InvalidTarget(`this server only issues tokens for ${audience}`);
          }
          return resourceServer;
        },
      },
    },
    fetch: clientMetadataFetch(settings),
    fetchResponseBodyLimits: { "client_id metadata document": settings.clientMetadataMaxBytes },
    async renderError(ctx, out) {
      const page = renderErrorPage(String(out.error), String(out.error_description ?? ""));
      for (const [name, value] of Object.entries(page.headers)) ctx.set(name, value);
      ctx.type = "html";
      ctx.body = page.body;
    },
  };
  const provider = new Provider(options.issuer, configuration);
  // The issuer's URLs are built from the configured issuer, not from forwarded headers.
  provider.proxy = false;
  return provider;
}

/**
 * Fetches a Client ID Metadata Document with this server's deadline. oidc-provider refuses
 * connections to special-use (private, loopback, link-local) addresses at connect time, which
 * also defeats DNS rebinding; only OAUTH_CLIENT_METADATA_ALLOW_PRIVATE (development and tests)
 * lifts that guard.
 */
function clientMetadataFetch(settings: OAuthSettings) {
  return (url: URL | string | Request, init?: RequestInit) => {
    const request: RequestInit & { dispatcher?: unknown } = {
      ...(init ?? {}),
      signal: AbortSignal.timeout(settings.clientMetadataTimeoutMs),
    };
    if (settings.clientMetadataAllowPrivate) delete request.dispatcher;
    return fetch(url, request);
  };
}
