import { randomBytes } from "node:crypto";
import {
  type ApiKeyManager,
  AuthError,
  type AuthProvider,
  createApiKeyManager,
  createBearerVerifier,
  createLocalProvider,
  createMemoryApiKeyStore,
  createRedisApiKeyStore,
  generateSigningJwk,
  isAuthError,
  type LocalProvider,
  type LocalUserInput,
  type Principal,
  parseLocalUsers,
  type TokenSet,
} from "@mcp-langgraph/auth-provider";
import type { Logger } from "@mcp-langgraph/core";
import type { SessionStore } from "@mcp-langgraph/session";
import { type AuthRedis, authKeyPrefix, closeAuthRedis, connectAuthRedis } from "./auth-redis.js";
import type { AppConfig } from "./config.js";
import { assertLoginSession, type LoginSessionCheck, loginSessionStoreFailure } from "./login-session.js";
import { createEmbeddedOAuth, type EmbeddedOAuth } from "./oauth/embedded.js";
import { connectOidc, createLogoutDenylist, createOidcIdentity } from "./oidc-identity.js";

/** How the HTTP app learns who is calling, whichever identity provider is configured. */
export interface Identity {
  /** Resolves the caller from an `Authorization` header; throws an AuthError for a missing or bad credential. */
  authenticate(authorization: string | undefined, signal: AbortSignal): Promise<Principal>;
  /**
   * `authenticate` for a caller whose login session the MCP session lookup checks itself (ADR 0188):
   * a local token is verified without its login session, which comes back in `loginSession` and
   * must be checked before anything is served. Other credentials are checked in full here.
   */
  authenticateDeferringLoginSession(
    authorization: string | undefined,
    signal: AbortSignal,
  ): Promise<{ principal: Principal; loginSession: LoginSessionCheck | undefined }>;
  /** Username/password login for `POST /auth/login`, when the provider supports it. */
  login: ((username: string, password: string, signal: AbortSignal) => Promise<TokenSet>) | undefined;
  /**
   * `POST /auth/logout`: ends the credential the caller authenticated with (`authorization`,
   * already verified into `principal`) — the login session (local issuer), the token until its
   * expiry plus revocation at the issuer (OIDC), or the API key itself.
   */
  logout(principal: Principal, authorization: string | undefined, signal: AbortSignal): Promise<void>;
  /** The embedded issuer, whose keys and discovery document the app publishes. */
  localProvider: LocalProvider | undefined;
  /** The authorization server named in the protected-resource metadata. */
  issuer: string;
  /** The embedded issuer's OAuth 2.1 authorization server (AUTH_PROVIDER=local). */
  oauth?: EmbeddedOAuth | undefined;
  /** API keys, when enabled; a bearer value with the key prefix resolves through it. */
  apiKeys: ApiKeyManager | undefined;
  close(): Promise<void>;
}

/** An identity provider's part: its token check, before API keys join it; logout gets the bare token. */
export type ProviderIdentity = Omit<
  Identity,
  "authenticate" | "authenticateDeferringLoginSession" | "logout"
> & {
  tokens: AuthProvider;
  /** The local issuer's token check without its login session, which it returns for the caller to check. */
  tokensDeferringLoginSession?: (
    token: string,
    signal: AbortSignal,
  ) => Promise<{ principal: Principal; loginSession: LoginSessionCheck }>;
  logout(principal: Principal, token: string, signal: AbortSignal): Promise<void>;
};

const LOOPBACK_PRINCIPAL: Principal = {
  userId: "user:local",
  username: "local",
  roles: ["user"],
  scopes: [],
  expiresAt: new Date(8_640_000_000_000_000),
  claims: {},
};

function bearerToken(authorization: string | undefined): string {
  const match = /^Bearer ([^\s]+)$/i.exec(authorization ?? "");
  if (!match?.[1]) throw new AuthError("TOKEN_INVALID", "missing bearer token");
  return match[1];
}

/** Users from LOCAL_USERS, or one `dev` user with a fresh random password announced once on stderr. */
function localUsers(spec: string | undefined): LocalUserInput[] {
  if (spec?.trim()) return parseLocalUsers(spec);
  const password = randomBytes(18).toString("base64url");
  process.stderr.write(
    `\nLOCAL_USERS is not set: created user "dev" with password "${password}" (roles: user, admin).\n` +
      `This password is shown once; set LOCAL_USERS="name:password:role1|role2" to choose your own.\n\n`,
  );
  return [{ username: "dev", password, roles: ["user", "admin"] }];
}

export async function createIdentity(
  config: AppConfig,
  sessions: SessionStore,
  logger: Logger,
): Promise<Identity> {
  const { auth } = config;
  if (auth.mode === "none") {
    return {
      authenticate: async () => LOOPBACK_PRINCIPAL,
      authenticateDeferringLoginSession: async () => ({
        principal: LOOPBACK_PRINCIPAL,
        loginSession: undefined,
      }),
      login: undefined,
      logout: async () => {},
      localProvider: undefined,
      issuer: auth.issuer,
      apiKeys: undefined,
      close: async () => {},
    };
  }
  // One Redis connection for API keys, the logout denylist and OAuth state, next to the login sessions.
  const redis = config.sessions.backend === "redis" ? await connectAuthRedis(config.sessions.url) : undefined;
  const base = await (auth.provider === "oidc"
    ? connectOidc(config).then((provider) =>
        createOidcIdentity(config, provider, createLogoutDenylist(config, redis), logger),
      )
    : createLocalIdentity(config, sessions, redis)
  ).catch(async (error: unknown) => {
    if (redis) await closeAuthRedis(redis);
    throw error;
  });
  // With the local issuer the user list is the source of truth: a removed user's keys stop working.
  // An OIDC issuer's users cannot be listed here; its keys end by revocation or expiry.
  const localProvider = base.localProvider;
  const keys = auth.apiKeys
    ? createApiKeys(config, redis, localProvider ? (username) => localProvider.hasUser(username) : undefined)
    : undefined;
  // API keys are recognised by their prefix; everything else is a token for the configured provider.
  const verifier = createBearerVerifier({ tokens: base.tokens, ...(keys ? { apiKeys: keys } : {}) });
  const { tokens: _tokens, tokensDeferringLoginSession, logout: _logout, ...rest } = base;
  return {
    ...rest,
    apiKeys: keys,
    async logout(principal, authorization, signal) {
      const credential = bearerToken(authorization);
      const keyId = principal.claims.api_key_id;
      // Decided by the credential, not the claim: an issuer's token carrying an `api_key_id` claim
      // must still be denied as a token.
      if (keys?.looksLikeKey(credential) && typeof keyId === "string") {
        // Logging out with an API key ends that key; the user's other keys and sessions stay.
        await keys.revoke(principal.username, keyId, { signal }).catch((error: unknown) => {
          // Revoked concurrently (another logout, DELETE /auth/api-keys/:id): already ended.
          if (!(isAuthError(error) && error.code === "NOT_FOUND")) throw error;
        });
        return;
      }
      await base.logout(principal, credential, signal);
    },
    // async, so a missing or malformed header rejects like every other bad credential (a synchronous
    // throw escaped the callers' .catch and answered 500).
    authenticate: async (authorization, signal) =>
      verifier.verifyToken(bearerToken(authorization), { signal }),
    async authenticateDeferringLoginSession(authorization, signal) {
      const credential = bearerToken(authorization);
      if (!tokensDeferringLoginSession || keys?.looksLikeKey(credential)) {
        return { principal: await verifier.verifyToken(credential, { signal }), loginSession: undefined };
      }
      return tokensDeferringLoginSession(credential, signal);
    },
    close: async () => {
      await base.close();
      if (redis) await closeAuthRedis(redis);
    },
  };
}

function createApiKeys(
  config: AppConfig,
  redis: AuthRedis | undefined,
  ownerExists: ((username: string) => boolean) | undefined,
): ApiKeyManager {
  const limits = {
    maxKeysPerUser: config.auth.apiKeys?.maxPerUser,
    defaultTtlSeconds: config.auth.apiKeys?.ttlSeconds,
    ...(ownerExists ? { ownerExists } : {}),
  };
  if (!redis || config.sessions.backend !== "redis") {
    return createApiKeyManager({ store: createMemoryApiKeyStore(), ...limits });
  }
  const keyPrefix = authKeyPrefix(config.sessions.keyPrefix, "apikey");
  const store = createRedisApiKeyStore({ client: redis, ...(keyPrefix ? { keyPrefix } : {}) });
  return createApiKeyManager({ store, ...limits });
}

async function createLocalIdentity(
  config: AppConfig,
  sessions: SessionStore,
  redis: AuthRedis | undefined,
): Promise<ProviderIdentity> {
  const { auth } = config;
  const users = localUsers(auth.localUsers);
  // One key for `/auth/login` tokens and the authorization server's, so both verify the same way.
  const signingJwk = auth.signingKey ?? (await generateSigningJwk());

  const provider = await createLocalProvider({
    issuer: auth.issuer,
    audience: auth.audience,
    users,
    tokenTtlSeconds: auth.tokenTtlSeconds,
    passwordHashing: auth.loginHashing,
    privateKeyJwk: signingJwk,
  });
  const oauth = createEmbeddedOAuth({
    config,
    sessions,
    signingJwk,
    users,
    redis,
    verifyCredentials: (username, password, signal) =>
      provider.verifyCredentials(username, password, { signal }),
  });
  /** A verified local token and the login session it names (every local token names one). */
  const withoutLoginSession = async (token: string, signal: AbortSignal | undefined) => {
    const principal = await provider.verifyToken(token, signal ? { signal } : {});
    if (!principal.sessionId) throw new AuthError("TOKEN_INVALID", "login session ended");
    const { userId, username } = principal;
    return { principal, loginSession: { sessionId: principal.sessionId, userId, username } };
  };
  return {
    tokens: {
      async verifyToken(token, opts) {
        const signal = opts?.signal;
        const { principal, loginSession } = await withoutLoginSession(token, signal);
        // Local tokens name their login session: logout or expiry ends them on the next request.
        const session = await sessions
          .get(loginSession.sessionId, signal ? { signal } : {})
          .catch((error: unknown) => {
            throw loginSessionStoreFailure(error);
          });
        assertLoginSession(session, loginSession);
        return principal;
      },
    },
    tokensDeferringLoginSession: (token, signal) => withoutLoginSession(token, signal),
    async login(username, password, signal) {
      const identity = await provider.verifyCredentials(username, password, { signal });
      const sessionId = await sessions.create(
        { userId: `user:${identity.username}`, username: identity.username, roles: identity.roles },
        { signal },
      );
      return provider.issueToken(identity, { sessionId });
    },
    async logout(principal, _token, signal) {
      if (principal.sessionId) await sessions.delete(principal.sessionId, { signal });
    },
    localProvider: provider,
    issuer: auth.issuer,
    oauth,
    apiKeys: undefined,
    close: async () => {},
  };
}
