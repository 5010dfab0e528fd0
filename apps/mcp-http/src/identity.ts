import { randomBytes } from "node:crypto";
import {
  AuthError,
  createLocalProvider,
  createOidcProvider,
  type LocalProvider,
  type LocalUserInput,
  type OidcProvider,
  type Principal,
  parseLocalUsers,
  type TokenSet,
} from "@mcp-langgraph/auth-provider";
import type { SessionStore } from "@mcp-langgraph/session";
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
}

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
    };
  }
  if (auth.provider === "oidc") return createOidcIdentity(config, await connectOidc(config));

  const provider = await createLocalProvider({
    issuer: auth.issuer,
    audience: auth.audience,
    users: localUsers(auth.localUsers),
    tokenTtlSeconds: auth.tokenTtlSeconds,
    ...(auth.signingKey ? { privateKeyJwk: auth.signingKey } : {}),
  });
  return {
    async authenticate(authorization, signal) {
      const principal = await provider.verifyToken(bearerToken(authorization), { signal });
      // Local tokens name their login session: logout or expiry ends them on the next request.
      if (!principal.sessionId || !(await sessions.get(principal.sessionId, { signal }))) {
        throw new AuthError("TOKEN_INVALID", "login session ended");
      }
      return principal;
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

function createOidcIdentity(config: AppConfig, provider: OidcProvider): Identity {
  const canLogin = Boolean(config.auth.oidc?.clientId);
  return {
    // The issuer owns sessions and revocation; tokens are checked on signature, issuer, audience and time.
    authenticate: (authorization, signal) => provider.verifyToken(bearerToken(authorization), { signal }),
    login: canLogin
      ? (username, password, signal) => provider.authenticate(username, password, { signal })
      : undefined,
    logout: async () => {},
    localProvider: undefined,
    issuer: provider.metadata.issuer,
  };
}
