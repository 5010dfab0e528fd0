import { randomUUID } from "node:crypto";
import { createLocalJWKSet, SignJWT } from "jose";
import { principalFromClaims } from "./claims.js";
import { AuthError, tokenInvalid } from "./errors.js";
import {
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_MAX_TOKEN_BYTES,
  type JwtPolicy,
  verifyJwt,
} from "./jwt-verify.js";
import { type LocalAlgorithm, loadSigningKey } from "./keys.js";
import {
  type LocalServiceClientInput,
  type LocalUserInput,
  validateLocalUsers,
  validateServiceClients,
} from "./local-users.js";
import { checkScopes } from "./names.js";
import { PasswordVault, type PasswordVaultOptions } from "./password-vault.js";
import type { AuthProvider, CallOptions, JsonWebKey, Principal, TokenSet } from "./types.js";
import { VerificationCache, type VerificationCacheOptions } from "./verification-cache.js";

export interface LocalIdentity {
  username: string;
  roles: string[];
}

export interface IssueTokenOptions {
  sessionId?: string;
  scopes?: string[];
}

export interface LocalProvider extends AuthProvider {
  /** Same INVALID_CREDENTIALS error, after the same argon2 work, for an unknown user and a wrong password. */
  verifyCredentials(username: string, password: string, opts?: CallOptions): Promise<LocalIdentity>;
  issueToken(identity: LocalIdentity, opts?: IssueTokenOptions): Promise<TokenSet>;
  authenticate(username: string, password: string, opts?: IssueTokenOptions & CallOptions): Promise<TokenSet>;
  /** Client-credentials grant for a configured service client; same INVALID_CREDENTIALS for every failure. */
  clientCredentials(
    clientId: string,
    clientSecret: string,
    opts?: { scopes?: string[] } & CallOptions,
  ): Promise<TokenSet>;
  /** Public keys only, for GET /.well-known/jwks.json. */
  jwks(): { keys: JsonWebKey[] };
  /** Whether `username` is a configured user: the user list is the source of truth for who may still act. */
  hasUser(username: string): boolean;
}

export interface LocalProviderOptions {
  issuer: string;
  audience: string;
  users: LocalUserInput[];
  /** Service principals that obtain tokens with `clientCredentials`; secrets are argon2id-hashed too. */
  serviceClients?: LocalServiceClientInput[];
  /** Default EdDSA (Ed25519). */
  algorithm?: LocalAlgorithm;
  /** A private JWK to sign with; generated (and lost at exit) when absent. */
  privateKeyJwk?: JsonWebKey;
  /** Access-token lifetime; default 900 s. */
  tokenTtlSeconds?: number;
  /** Allowed clock skew for exp/nbf; default 30 s. */
  clockToleranceSeconds?: number;
  /** Scopes put into tokens when `issueToken` is given none; default none. */
  defaultScopes?: string[];
  /** Verification cache settings, or false to verify every call. */
  cache?: VerificationCacheOptions | false;
  passwordHashing?: PasswordVaultOptions;
}

const SESSION_ID = /^[\x21-\x7e]{1,256}$/;

/** The embedded issuer: users from configuration, asymmetric signing, a JWKS the app serves. */
export async function createLocalProvider(options: LocalProviderOptions): Promise<LocalProvider> {
  const { issuer, audience } = options;
  checkNonEmpty("issuer", issuer);
  checkNonEmpty("audience", audience);
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 900;
  if (!Number.isInteger(tokenTtlSeconds) || tokenTtlSeconds < 1 || tokenTtlSeconds > 86_400) {
    throw new AuthError("AUTH_CONFIG", "tokenTtlSeconds must be an integer between 1 and 86400");
  }
  const clockToleranceSeconds = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  if (!Number.isFinite(clockToleranceSeconds) || clockToleranceSeconds < 0 || clockToleranceSeconds > 300) {
    throw new AuthError("AUTH_CONFIG", "clockToleranceSeconds must be between 0 and 300");
  }
  if (!Array.isArray(options.users)) throw new AuthError("AUTH_CONFIG", "users must be an array");
  validateLocalUsers(options.users);
  const defaultScopes = checkScopes(options.defaultScopes ?? [], "AUTH_CONFIG");

  const serviceClients = options.serviceClients ?? [];
  if (!Array.isArray(serviceClients)) throw new AuthError("AUTH_CONFIG", "serviceClients must be an array");
  validateServiceClients(serviceClients);

  const key = await loadSigningKey(options.algorithm ?? "EdDSA", options.privateKeyJwk);
  const vault = await PasswordVault.create<LocalIdentity>(
    options.users.map(({ username, password, roles }) => ({
      name: username,
      secret: password,
      entry: Object.freeze({ username, roles: Object.freeze([...roles]) as string[] }),
    })),
    options.passwordHashing,
  );
  const clientVault = await PasswordVault.create<LocalIdentity>(
    serviceClients.map(({ clientId, clientSecret, roles }) => ({
      name: clientId,
      secret: clientSecret,
      entry: Object.freeze({ username: clientId, roles: Object.freeze([...roles]) as string[] }),
    })),
    options.passwordHashing,
  );
  const keySet = createLocalJWKSet({ keys: [key.publicJwk] });
  const policy: JwtPolicy = {
    issuer,
    audience,
    algorithms: [key.alg],
    clockToleranceSeconds,
    maxTokenBytes: DEFAULT_MAX_TOKEN_BYTES,
  };
  const cache = options.cache === false ? undefined : new VerificationCache(options.cache);

  async function sign(
    subject: LocalIdentity,
    kind: "user" | "service_principal",
    opts: IssueTokenOptions,
  ): Promise<TokenSet> {
    try {
      validateLocalUsers([{ username: subject?.username, password: "-", roles: subject?.roles }]);
    } catch (error) {
      throw new AuthError("INVALID_ARGUMENT", (error as Error).message.replace(/^local user #1/, "identity"));
    }
    if (opts.sessionId !== undefined && !SESSION_ID.test(opts.sessionId)) {
      throw new AuthError("INVALID_ARGUMENT", "sessionId must be 1-256 printable ASCII characters");
    }
    const scopes = opts.scopes === undefined ? defaultScopes : checkScopes(opts.scopes, "INVALID_ARGUMENT");
    // A service token names its client and no preferred_username, as Keycloak's service accounts do.
    const claims: Record<string, unknown> =
      kind === "user"
        ? { preferred_username: subject.username, roles: [...subject.roles] }
        : { client_id: subject.username, azp: subject.username, roles: [...subject.roles] };
    if (scopes.length > 0) claims.scope = scopes.join(" ");
    if (opts.sessionId !== undefined) claims.sid = opts.sessionId;
    const now = Math.floor(Date.now() / 1000);
    const accessToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt" })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(subject.username)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + tokenTtlSeconds)
      .sign(key.privateKey);
    return { accessToken, tokenType: "Bearer", expiresIn: tokenTtlSeconds };
  }

  const issueToken = (identity: LocalIdentity, opts: IssueTokenOptions = {}) => sign(identity, "user", opts);

  async function verifyUncached(token: string, signal: AbortSignal | undefined): Promise<Principal> {
    const { payload } = await verifyJwt(token, keySet, policy, signal);
    const principal = principalFromClaims(payload);
    cache?.set(token, principal);
    return principal;
  }

  async function verifyToken(token: string, { signal }: CallOptions = {}): Promise<Principal> {
    const principal = await (cache === undefined
      ? verifyUncached(token, signal)
      : cache.through(token, signal, () => verifyUncached(token, signal)));
    // A token outlives a change to the user list (instances share the signing key, tokens live up to
    // tokenTtlSeconds): one whose subject is no longer configured must stop working at once.
    const known =
      principal.kind === "service_principal"
        ? clientVault.has(principal.username)
        : vault.has(principal.username);
    if (!known) throw tokenInvalid("unknown_subject", "the token's subject is not a configured user");
    return principal;
  }

  return {
    verifyToken,
    issueToken,
    verifyCredentials: (username, password, opts) => vault.verify(username, password, opts),
    async authenticate(username, password, opts = {}) {
      const identity = await vault.verify(username, password, opts);
      const issueOptions: IssueTokenOptions = {};
      if (opts.sessionId !== undefined) issueOptions.sessionId = opts.sessionId;
      if (opts.scopes !== undefined) issueOptions.scopes = opts.scopes;
      return issueToken(identity, issueOptions);
    },
    async clientCredentials(clientId, clientSecret, opts = {}) {
      const client = await clientVault.verify(clientId, clientSecret, opts);
      return sign(client, "service_principal", opts.scopes === undefined ? {} : { scopes: opts.scopes });
    },
    jwks: () => ({ keys: [{ ...key.publicJwk } as JsonWebKey] }),
    hasUser: (username) => typeof username === "string" && vault.has(username),
  };
}

function checkNonEmpty(name: string, value: unknown): void {
  if (typeof value !== "string" || value.length === 0) {
    throw new AuthError("AUTH_CONFIG", `${name} must be a non-empty string`);
  }
}
