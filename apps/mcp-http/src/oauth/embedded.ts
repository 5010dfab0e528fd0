import {
  createMemoryOAuthState,
  createRedisOAuthState,
  type JsonWebKey,
  type LocalIdentity,
  type OAuthStateStore,
  type RedisCommandClient,
} from "@mcp-langgraph/auth-provider";
import type { SessionStore } from "@mcp-langgraph/session";
import type Provider from "oidc-provider";
import type { AppConfig } from "../config.js";
import { createAuthorizationServer } from "./authorization-server.js";
import { type DerivedKeys, deriveKeys } from "./derived-keys.js";

/** The embedded issuer's authorization server and what its login pages need. */
export interface EmbeddedOAuth {
  provider: Provider;
  keys: DerivedKeys;
  /** Same INVALID_CREDENTIALS for an unknown user and a wrong password (the local provider's check). */
  verifyCredentials(username: string, password: string, signal: AbortSignal): Promise<LocalIdentity>;
  rolesOf(username: string): readonly string[] | undefined;
  /**
   * Opens the login session a grant's tokens name (`sid`) in the session store, so POST
   * /auth/logout, session expiry and the GDPR erase end them like `/auth/login` tokens.
   */
  openSession(identity: LocalIdentity, grantId: string, signal: AbortSignal): Promise<void>;
}

export interface EmbeddedOAuthOptions {
  config: AppConfig;
  sessions: SessionStore;
  signingJwk: JsonWebKey;
  users: ReadonlyArray<{ username: string; roles: string[] }>;
  verifyCredentials: EmbeddedOAuth["verifyCredentials"];
  /** Redis next to the login sessions (SESSION_BACKEND=redis); memory otherwise. */
  redis: RedisCommandClient | undefined;
}

/** Model name under which a grant's login session id is kept, beside oidc-provider's own models. */
const LOGIN_SESSION_MODEL = "LoginSession";

export function createEmbeddedOAuth(options: EmbeddedOAuthOptions): EmbeddedOAuth {
  const { config, sessions } = options;
  const settings = config.auth.oauth;
  const state: OAuthStateStore =
    options.redis && config.sessions.backend === "redis"
      ? createRedisOAuthState({
          client: options.redis,
          keyPrefix: `${config.sessions.keyPrefix ?? "mcp-langgraph:"}oauth:`,
          timeoutMs: settings.storeTimeoutMs,
          defaultTtlSeconds: settings.clientTtlSeconds,
        })
      : createMemoryOAuthState({ defaultTtlSeconds: settings.clientTtlSeconds });
  const roles = new Map(options.users.map((user) => [user.username, Object.freeze([...user.roles])]));
  const rolesOf = (username: string) => roles.get(username);
  const links = state(LOGIN_SESSION_MODEL);
  const keys = deriveKeys(options.signingJwk);

  const provider = createAuthorizationServer({
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    signingJwk: options.signingJwk,
    keys,
    state,
    settings,
    accessTokenTtlSeconds: config.auth.tokenTtlSeconds,
    rolesOf,
    async sessionOfGrant(grantId) {
      const link = await links.find(grantId);
      return typeof link?.sessionId === "string" ? link.sessionId : undefined;
    },
  });

  return {
    provider,
    keys,
    verifyCredentials: options.verifyCredentials,
    rolesOf,
    async openSession(identity, grantId, signal) {
      const sessionId = await sessions.create(
        { userId: `user:${identity.username}`, username: identity.username, roles: [...identity.roles] },
        { signal },
      );
      try {
        // The link lives as long as the grant's refresh tokens; the session's own TTL still applies.
        await links.upsert(grantId, { sessionId }, settings.refreshTokenTtlSeconds);
      } catch (error) {
        await sessions.delete(sessionId, { signal }).catch(() => {});
        throw error;
      }
    },
  };
}
