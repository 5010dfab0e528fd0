/**
 * A real OpenID Provider (the `oidc-provider` package) on loopback, standing in
 * for Keycloak: JWT access tokens via resource indicators, Keycloak-shaped
 * claims, a password grant (Keycloak's "direct access grants"), client
 * credentials, introspection, optional RFC 7009 revocation, and key rotation
 * by swapping the signing keys.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import Provider, { errors } from "oidc-provider";

export const APP_CLIENT = { clientId: "mcp-app", clientSecret: "app-secret-0123456789" };
export const SERVICE_CLIENT = { clientId: "reporting-svc", clientSecret: "svc-secret-0123456789" };

export const ACCOUNTS: Record<string, { password: string; realmRoles: string[]; groups: string[] }> = {
  alice: { password: "alice-pw", realmRoles: ["user", "admin"], groups: ["/acme", "/acme/engineering"] },
  bob: { password: "bob-pw", realmRoles: ["user"], groups: [] },
};

export interface OidcTestServer {
  issuer: string;
  /** The JWT resource server (this MCP server's audience). */
  resource: string;
  /** A resource whose access tokens are opaque, for introspection. */
  opaqueResource: string;
  /** A resource that belongs to someone else. */
  otherResource: string;
  jwksRequests: number;
  /**
   * What the revocation endpoint was sent by an authenticated client, oldest first, with its answer:
   * oidc-provider revokes opaque tokens (200) but answers `unsupported_token_type` for JWT access
   * tokens, which it cannot look up (Keycloak revokes those too).
   */
  revocations: readonly RevocationSeen[];
  /** Replaces the signing keys (newest first); the previous provider instance stops being used. */
  rotateKeys(keys: JWK[]): void;
  close(): Promise<void>;
}

export async function makeRsaJwk(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
}

export interface RevocationSeen {
  token: string;
  status: number;
  /** The OAuth error answered, if any. */
  error?: string;
}

export interface OidcTestServerOptions {
  /** Offer a `revocation_endpoint` in discovery (default false, like a Keycloak realm without it). */
  revocation?: boolean;
}

export async function startOidcServer(
  initialKeys?: JWK[],
  options: OidcTestServerOptions = {},
): Promise<OidcTestServer> {
  let current: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const state = { jwksRequests: 0, revocations: [] as RevocationSeen[] };
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith("/jwks")) state.jwksRequests++;
    current?.(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const resource = `${issuer}/mcp`;
  const opaqueResource = `${issuer}/opaque-api`;
  const otherResource = "https://other.example/api";

  const build = (keys: JWK[]) => {
    const provider = new Provider(
      issuer,
      configuration(keys, {
        resource,
        opaqueResource,
        otherResource,
        revocation: options.revocation ?? false,
      }),
    );
    // Records what reached the revocation endpoint once oidc-provider had authenticated the client.
    // biome-ignore lint/suspicious/noExplicitAny: oidc-provider's koa context is untyped here
    provider.use(async (ctx: any, next: () => Promise<void>) => {
      await next();
      if (ctx.oidc?.route !== "revocation" || !ctx.oidc.client || typeof ctx.oidc.params?.token !== "string")
        return;
      const error = typeof ctx.body?.error === "string" ? { error: ctx.body.error as string } : {};
      state.revocations.push({ token: ctx.oidc.params.token, status: ctx.status, ...error });
    });
    provider.registerGrantType("password", passwordGrant(provider, resource), [
      "username",
      "password",
      "scope",
    ]);
    return provider.callback();
  };
  current = build(initialKeys ?? [await makeRsaJwk("key-1")]);

  return {
    issuer,
    resource,
    opaqueResource,
    otherResource,
    get jwksRequests() {
      return state.jwksRequests;
    },
    get revocations() {
      return [...state.revocations];
    },
    rotateKeys(keys) {
      current = build(keys);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function configuration(
  keys: JWK[],
  {
    resource,
    opaqueResource,
    otherResource,
    revocation,
  }: { resource: string; opaqueResource: string; otherResource: string; revocation: boolean },
) {
  const jwtServer = (audience: string) => ({
    scope: "mcp:tools mcp:admin",
    audience,
    accessTokenFormat: "jwt" as const,
    accessTokenTTL: 300,
    jwt: { sign: { alg: "RS256" as const } },
  });
  return {
    clients: [
      {
        client_id: APP_CLIENT.clientId,
        client_secret: APP_CLIENT.clientSecret,
        grant_types: ["password", "refresh_token", "client_credentials"],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: SERVICE_CLIENT.clientId,
        client_secret: SERVICE_CLIENT.clientSecret,
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys },
    scopes: ["openid", "offline_access", "mcp:tools", "mcp:admin"],
    rotateRefreshToken: true,
    ttl: { AccessToken: 300, ClientCredentials: 300, IdToken: 300, RefreshToken: 3600, Grant: 3600 },
    findAccount: (_ctx: unknown, id: string) =>
      ACCOUNTS[id] ? { accountId: id, claims: () => ({ sub: id, preferred_username: id }) } : undefined,
    // Keycloak puts these into every access token.
    extraTokenClaims: (
      _ctx: unknown,
      token: { accountId?: string | undefined; clientId?: string | undefined },
    ) => {
      const account = token.accountId ? ACCOUNTS[token.accountId] : undefined;
      if (!account) {
        return {
          azp: token.clientId,
          preferred_username: `service-account-${token.clientId}`,
          realm_access: { roles: ["service"] },
          typ: "Bearer",
        };
      }
      return {
        azp: token.clientId,
        preferred_username: token.accountId,
        realm_access: { roles: account.realmRoles },
        resource_access: {
          [APP_CLIENT.clientId]: { roles: ["tool-executor"] },
          "other-client": { roles: ["other-client-admin"] },
        },
        groups: account.groups,
        sid: `sess-${token.accountId}`,
        typ: "Bearer",
      };
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: () => true },
      revocation: { enabled: revocation },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, requested: string) => {
          if (requested === resource || requested === otherResource) return jwtServer(requested);
          if (requested === opaqueResource) {
            return { scope: "mcp:tools", audience: requested, accessTokenFormat: "opaque" as const };
          }
          throw new errors.InvalidTarget();
        },
      },
    },
  };
}

/** Keycloak's direct access grant, which oidc-provider leaves to a custom grant handler. */
// biome-ignore lint/suspicious/noExplicitAny: oidc-provider is untyped
function passwordGrant(provider: any, defaultResource: string) {
  // biome-ignore lint/suspicious/noExplicitAny: oidc-provider's koa context is untyped here
  return async (ctx: any) => {
    const { username, password } = ctx.oidc.params as { username?: string; password?: string };
    const account = username ? ACCOUNTS[username] : undefined;
    if (!username || !account || account.password !== password) {
      throw new errors.InvalidGrant("invalid user credentials");
    }
    const client = ctx.oidc.client;
    const resource: string = ctx.oidc.params.resource ?? defaultResource;
    const grant = new provider.Grant({ accountId: username, clientId: client.clientId });
    grant.addOIDCScope("openid offline_access");
    grant.addResourceScope(resource, "mcp:tools");
    const grantId = await grant.save();
    const accessToken = new provider.AccessToken({
      accountId: username,
      client,
      grantId,
      gty: "password",
      scope: "mcp:tools",
    });
    accessToken.resourceServer = new provider.ResourceServer(resource, {
      scope: "mcp:tools mcp:admin",
      audience: resource,
      accessTokenFormat: "jwt",
      accessTokenTTL: 300,
      jwt: { sign: { alg: "RS256" } },
    });
    const refreshToken = new provider.RefreshToken({
      accountId: username,
      client,
      grantId,
      gty: "password",
      scope: "openid offline_access mcp:tools",
      resource,
    });
    ctx.body = {
      access_token: await accessToken.save(),
      refresh_token: await refreshToken.save(),
      token_type: "Bearer",
      expires_in: accessToken.expiration,
      scope: "mcp:tools",
    };
  };
}
