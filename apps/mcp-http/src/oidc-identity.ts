import {
  createMemoryTokenDenylist,
  createOidcProvider,
  createRedisTokenDenylist,
  createRevocableTokens,
  type OidcProvider,
  type TokenDenylist,
} from "@mcp-langgraph/auth-provider";
import type { Logger } from "@mcp-langgraph/core";
import { type AuthRedis, authKeyPrefix } from "./auth-redis.js";
import type { AppConfig } from "./config.js";
import type { ProviderIdentity } from "./identity.js";

export function connectOidc(config: AppConfig): Promise<OidcProvider> {
  const { oidc } = config.auth;
  return createOidcProvider(
    {
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      ...(oidc?.clientId ? { clientId: oidc.clientId } : {}),
      ...(oidc?.clientSecret ? { clientSecret: oidc.clientSecret } : {}),
      resource: config.auth.audience,
    },
    { signal: AbortSignal.timeout(15_000) },
  );
}

/** Logged-out tokens: in Redis when sessions are (every instance honours a logout), else in memory. */
export function createLogoutDenylist(config: AppConfig, redis: AuthRedis | undefined): TokenDenylist {
  if (redis && config.sessions.backend === "redis") {
    const keyPrefix = authKeyPrefix(config.sessions.keyPrefix, "denylist");
    return createRedisTokenDenylist({ client: redis, ...(keyPrefix ? { keyPrefix } : {}) });
  }
  return createMemoryTokenDenylist({ maxEntries: config.auth.logoutDenylistMaxEntries });
}

export function createOidcIdentity(
  config: AppConfig,
  provider: OidcProvider,
  denylist: TokenDenylist,
  logger: Logger,
): ProviderIdentity {
  const canLogin = Boolean(config.auth.oidc?.clientId);
  // The issuer owns sessions; a JWT stays valid there until `exp`, so logout is enforced here by
  // the denylist, checked after the signature on every request.
  const tokens = createRevocableTokens({ tokens: provider, denylist });
  return {
    tokens,
    login: canLogin
      ? (username, password, signal) => provider.authenticate(username, password, { signal })
      : undefined,
    async logout(principal, token, signal) {
      // Denied here first: it is what ends access at this server, and a store that cannot take it
      // fails the logout (503) rather than answering 204 for a token that still works.
      await tokens.deny(token, principal, { signal });
      // The issuer's revocation also ends the token at other resource servers (and its refresh
      // grant); it is best effort, because a failed call cannot be retried with a denied token.
      await provider.revoke(token, { signal }).catch((error: unknown) => {
        logger.warn({ err: error }, "logout: the issuer did not accept the token revocation");
      });
    },
    localProvider: undefined,
    issuer: provider.metadata.issuer,
    apiKeys: undefined,
    close: async () => {},
  };
}
