import { randomBytes } from "node:crypto";
import {
  type ApiKeyManager,
  AuthError,
  type AuthProvider,
  createApiKeyManager,
  createBearerVerifier,
  createLocalProvider,
  createMemoryApiKeyStore,
  createOidcProvider,
  createRedisApiKeyStore,
  type LocalProvider,
  type LocalUserInput,
  type OidcProvider,
  type Principal,
  parseLocalUsers,
  type TokenSet,
} from "@mcp-langgraph/auth-provider";
import { isSessionError, type SessionStore } from "@mcp-langgraph/session";
import { createClient } from "redis";
import type { AppConfig } from "./config.js";

/** How the HTTP app learns who is calling, whichever identity provider is configured. */
export interface Identity {
  /** Resolves the caller from an `Authorization` header; throws an AuthError for a missing or bad credential. */
  authenticate(authorization: string | undefined, signal: AbortSignal): Promise<Principal>;
  /** Username/password login for `POST /auth/login`, when the provider supports it. */
  login: ((username: string, password: string, signal: AbortSignal) => Promise<TokenSet>) | undefined;
  /** Ends the login session behind a principal (local issuer), for `POST /auth/logout`. */
  logout(principal: Principal, signal: AbortSignal): Promise<void>;
  /** The embedded issuer, whose keys and discovery document the app publishes. */
  localProvider: LocalProvider | undefined;
  /** The authorization server named in the protected-resource metadata. */
  issuer: string;
  /** API keys, when enabled; a bearer value with the key prefix resolves through it. */
  apiKeys: ApiKeyManager | undefined;
  close(): Promise<void>;
}

/** An identity provider's part: its token check, before API keys join it. */
type ProviderIdentity = Omit<Identity, "authenticate"> & { tokens: AuthProvider };

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

export async function createIdentity(config: AppConfig, sessions: SessionStore): Promise<Identity> {
  const { auth } = config;
  if (auth.mode === "none") {
    return {
      authenticate: async () => LOOPBACK_PRINCIPAL,
      login: undefined,
      logout: async () => {},
      localProvider: undefined,
      issuer: auth.issuer,
      apiKeys: undefined,
      close: async () => {},
    };
  }
  const base =
    auth.provider === "oidc"
      ? createOidcIdentity(config, await connectOidc(config))
      : await createLocalIdentity(config, sessions);
  // With the local issuer the user list is the source of truth: a removed user's keys stop working.
  // An OIDC issuer's users cannot be listed here; its keys end by revocation or expiry.
  const localProvider = base.localProvider;
  const keys = auth.apiKeys
    ? await createApiKeys(config, localProvider ? (username) => localProvider.hasUser(username) : undefined)
    : undefined;
  // API keys are recognised by their prefix; everything else is a token for the configured provider.
  const verifier = createBearerVerifier({ tokens: base.tokens, ...(keys ? { apiKeys: keys.manager } : {}) });
  const { tokens: _tokens, ...rest } = base;
  return {
    ...rest,
    apiKeys: keys?.manager,
    // async, so a missing or malformed header rejects like every other bad credential (a synchronous
    // throw escaped the callers' .catch and answered 500).
    authenticate: async (authorization, signal) =>
      verifier.verifyToken(bearerToken(authorization), { signal }),
    close: async () => {
      await Promise.allSettled([base.close(), keys?.close()]);
    },
  };
}

async function createApiKeys(
  config: AppConfig,
  ownerExists: ((username: string) => boolean) | undefined,
): Promise<{ manager: ApiKeyManager; close(): Promise<void> }> {
  const limits = {
    maxKeysPerUser: config.auth.apiKeys?.maxPerUser,
    defaultTtlSeconds: config.auth.apiKeys?.ttlSeconds,
    ...(ownerExists ? { ownerExists } : {}),
  };
  if (config.sessions.backend !== "redis") {
    return {
      manager: createApiKeyManager({ store: createMemoryApiKeyStore(), ...limits }),
      close: async () => {},
    };
  }
  // Keys live next to the login sessions, so every instance behind the balancer sees the same keys.
  const client = createClient({ url: config.sessions.url, socket: { connectTimeout: 5_000 } });
  // Connection errors surface on the calls (typed AUTH_UNAVAILABLE); the emitter must not crash the process.
  client.on("error", () => {});
  await client.connect();
  const store = createRedisApiKeyStore({
    client,
    ...(config.sessions.keyPrefix ? { keyPrefix: `${config.sessions.keyPrefix}apikey` } : {}),
  });
  return { manager: createApiKeyManager({ store, ...limits }), close: () => client.quit().then(() => {}) };
}

async function createLocalIdentity(config: AppConfig, sessions: SessionStore): Promise<ProviderIdentity> {
  const { auth } = config;

  const provider = await createLocalProvider({
    issuer: auth.issuer,
    audience: auth.audience,
    users: localUsers(auth.localUsers),
    tokenTtlSeconds: auth.tokenTtlSeconds,
    passwordHashing: auth.loginHashing,
    ...(auth.signingKey ? { privateKeyJwk: auth.signingKey } : {}),
  });
  return {
    tokens: {
      async verifyToken(token, opts) {
        const signal = opts?.signal;
        const principal = await provider.verifyToken(token, opts);
        // Local tokens name their login session: logout or expiry ends them on the next request.
        // A session store that cannot answer fails closed (503), never as a valid session.
        const session = principal.sessionId
          ? await sessions.get(principal.sessionId, signal ? { signal } : {}).catch((error: unknown) => {
              if (isSessionError(error))
                throw new AuthError("AUTH_UNAVAILABLE", "session store unavailable", { cause: error });
              throw error;
            })
          : null;
        if (!session) throw new AuthError("TOKEN_INVALID", "login session ended");
        // The session must be the token subject's own: a token naming another user's session id
        // (e.g. minted elsewhere with the shared signing key) must not borrow that session's life.
        if (session.userId !== principal.userId || session.username !== principal.username)
          throw new AuthError("TOKEN_INVALID", "login session belongs to another user");
        return principal;
      },
    },
    async login(username, password, signal) {
      const identity = await provider.verifyCredentials(username, password, { signal });
      const sessionId = await sessions.create(
        { userId: `user:${identity.username}`, username: identity.username, roles: identity.roles },
        { signal },
      );
      return provider.issueToken(identity, { sessionId });
    },
    async logout(principal, signal) {
      if (principal.sessionId) await sessions.delete(principal.sessionId, { signal });
    },
    localProvider: provider,
    issuer: auth.issuer,
    apiKeys: undefined,
    close: async () => {},
  };
}

function connectOidc(config: AppConfig): Promise<OidcProvider> {
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

function createOidcIdentity(config: AppConfig, provider: OidcProvider): ProviderIdentity {
  const canLogin = Boolean(config.auth.oidc?.clientId);
  return {
    // The issuer owns sessions and revocation; tokens are checked on signature, issuer, audience and time.
    tokens: provider,
    login: canLogin
      ? (username, password, signal) => provider.authenticate(username, password, { signal })
      : undefined,
    logout: async () => {},
    localProvider: undefined,
    issuer: provider.metadata.issuer,
    apiKeys: undefined,
    close: async () => {},
  };
}
