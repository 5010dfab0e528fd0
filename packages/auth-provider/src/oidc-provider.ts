import { CircuitBreaker, createBulkhead } from "@mcp-langgraph/core";
import { principalFromClaims } from "./claims.js";
import { AuthError, tokenInvalid } from "./errors.js";
import { type ClientAuth, type IssuerHttpOptions, isIssuerFailure, postIssuerForm } from "./issuer-http.js";
import { createIssuerKeySet } from "./issuer-keys.js";
import { DEFAULT_MAX_TOKEN_BYTES, type JwtPolicy, verifyJwt } from "./jwt-verify.js";
import { checkScopes } from "./names.js";
import {
  checkMetadata,
  discover,
  type OidcMetadata,
  type OidcProviderOptions,
  resolveSettings,
} from "./oidc-settings.js";
import type { AuthProvider, CallOptions, Principal, TokenSet } from "./types.js";
import { VerificationCache } from "./verification-cache.js";

export interface PasswordLoginOptions extends CallOptions {
  scopes?: string[];
}

export interface ClientCredentialsOptions extends CallOptions {
  /** Another client's credentials (a service principal); default this server's own client. */
  clientId?: string;
  clientSecret?: string;
  scopes?: string[];
}

export interface OidcProvider extends AuthProvider {
  readonly metadata: OidcMetadata;
  /** Resource-owner password grant (Keycloak "direct access grants"). */
  authenticate(username: string, password: string, opts?: PasswordLoginOptions): Promise<TokenSet>;
  refresh(refreshToken: string, opts?: CallOptions): Promise<TokenSet>;
  /** Client-credentials grant: a token for a service principal. */
  clientCredentials(opts?: ClientCredentialsOptions): Promise<TokenSet>;
  /**
   * RFC 7009 revocation of an access token at the issuer. False when the issuer
   * offers no `revocation_endpoint`, no client is configured (nothing was sent) or
   * the issuer answers `unsupported_token_type`;
   * AUTH_UNAVAILABLE when the issuer refused or did not answer.
   */
  revoke(token: string, opts?: CallOptions): Promise<boolean>;
}

/**
 * Verifies tokens from any OIDC issuer (Keycloak first): discovery once at
 * creation, then JWKS from the issuer with caching and a cooled-down refetch
 * on unknown `kid` (key rotation).
 */
export async function createOidcProvider(
  options: OidcProviderOptions,
  { signal }: CallOptions = {},
): Promise<OidcProvider> {
  const settings = resolveSettings(options);
  const http: IssuerHttpOptions = {
    timeoutMs: settings.httpTimeoutMs,
    bulkhead: createBulkhead({ concurrency: settings.maxConcurrentRequests, maxQueue: 256 }),
    breaker: new CircuitBreaker({
      failureThreshold: settings.breakerFailureThreshold,
      resetTimeoutMs: settings.breakerResetTimeoutMs,
      isFailure: isIssuerFailure,
    }),
  };
  const metadata =
    options.jwksUri === undefined
      ? await discover(settings, http, signal)
      : checkMetadata(
          {
            issuer: settings.issuer,
            jwks_uri: options.jwksUri,
            token_endpoint: options.tokenEndpoint,
            introspection_endpoint: options.introspectionEndpoint,
          },
          settings,
        );
  const keySet = createIssuerKeySet(new URL(metadata.jwks_uri), {
    timeoutMs: settings.httpTimeoutMs,
    cooldownMs: settings.jwksCooldownMs,
    cacheMaxAgeMs: settings.jwksCacheMaxAgeMs,
    maxStaleMs: settings.jwksMaxStaleMs,
  });
  const policy: JwtPolicy = {
    issuer: settings.issuer,
    audience: settings.audience,
    algorithms: settings.algorithms,
    clockToleranceSeconds: settings.clockToleranceSeconds,
    maxTokenBytes: DEFAULT_MAX_TOKEN_BYTES,
  };
  const cache = options.cache === false ? undefined : new VerificationCache(options.cache);
  const client = settings.client;

  function requireClient(what: string): ClientAuth {
    if (client === undefined) throw new AuthError("NOT_SUPPORTED", `${what} needs clientId to be configured`);
    return client;
  }

  function tokenEndpoint(): string {
    if (metadata.token_endpoint === undefined) {
      throw new AuthError("NOT_SUPPORTED", "the issuer publishes no token_endpoint");
    }
    return metadata.token_endpoint;
  }

  async function grant(
    form: Record<string, string>,
    auth: ClientAuth,
    rejected: AuthError,
    callOptions: CallOptions,
  ): Promise<TokenSet> {
    if (settings.resource !== undefined) form.resource = settings.resource;
    const result = await postIssuerForm(tokenEndpoint(), form, auth, http, callOptions);
    if (!result.ok) throw mapGrantError(result.error.error, rejected, auth !== client);
    return toTokenSet(result.body);
  }

  async function introspect(token: string, callOptions: CallOptions): Promise<Principal> {
    const endpoint = metadata.introspection_endpoint as string;
    const result = await postIssuerForm(
      endpoint,
      { token, token_type_hint: "access_token" },
      client as ClientAuth,
      http,
      callOptions,
    );
    if (!result.ok) {
      throw new AuthError("AUTH_UNAVAILABLE", "introspection was refused", {
        details: { reason: "introspection_refused", error: result.error.error },
      });
    }
    const claims = result.body;
    if (claims.active !== true) throw tokenInvalid("inactive", "token is not active");
    if (typeof claims.exp !== "number") throw tokenInvalid("claims", "introspection gave no exp");
    if (claims.exp * 1000 <= Date.now() - settings.clockToleranceSeconds * 1000) {
      throw new AuthError("TOKEN_EXPIRED", "token has expired", { details: { reason: "expired" } });
    }
    if (claims.iss !== undefined && claims.iss !== settings.issuer) {
      throw tokenInvalid("issuer", "introspected token names another issuer");
    }
    const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audience.includes(settings.audience)) {
      throw tokenInvalid("audience", "introspected token is not for this audience");
    }
    const named =
      claims.preferred_username === undefined && typeof claims.username === "string"
        ? { ...claims, preferred_username: claims.username }
        : claims;
    return principalFromClaims(named as typeof claims & { exp: number }, {
      roleClients: settings.roleClients,
    });
  }

  async function verifyUncached(token: string, callOptions: CallOptions): Promise<Principal> {
    if (settings.introspection && isOpaque(token)) {
      const principal = await introspect(token, callOptions);
      cache?.set(token, principal, Date.now() + settings.introspectionCacheSeconds * 1000);
      return principal;
    }
    const { payload } = await verifyJwt(token, keySet, policy, callOptions.signal);
    const principal = principalFromClaims(payload, { roleClients: settings.roleClients });
    cache?.set(token, principal);
    return principal;
  }

  function verifyToken(token: string, callOptions: CallOptions = {}): Promise<Principal> {
    if (cache === undefined) return verifyUncached(token, callOptions);
    return cache.through(token, callOptions.signal, () => verifyUncached(token, callOptions));
  }

  return {
    metadata,
    verifyToken,
    async authenticate(username, password, opts = {}) {
      if (typeof username !== "string" || typeof password !== "string") {
        throw new AuthError("INVALID_ARGUMENT", "username and password must be strings");
      }
      if (username === "" || password === "") {
        throw new AuthError("INVALID_CREDENTIALS", "invalid username or password");
      }
      const scopes =
        opts.scopes === undefined ? settings.scopes : checkScopes(opts.scopes, "INVALID_ARGUMENT");
      return grant(
        { grant_type: "password", username, password, scope: scopes.join(" ") },
        requireClient("password login"),
        new AuthError("INVALID_CREDENTIALS", "invalid username or password"),
        opts,
      );
    },
    async refresh(refreshToken, opts = {}) {
      if (
        typeof refreshToken !== "string" ||
        refreshToken === "" ||
        refreshToken.length > DEFAULT_MAX_TOKEN_BYTES
      ) {
        throw tokenInvalid("malformed", "refresh token must be a non-empty string");
      }
      return grant(
        { grant_type: "refresh_token", refresh_token: refreshToken },
        requireClient("refresh"),
        tokenInvalid("refresh_rejected", "refresh token was rejected by the issuer"),
        opts,
      );
    },
    async revoke(token, opts = {}) {
      const endpoint = metadata.revocation_endpoint;
      if (endpoint === undefined || client === undefined) return false;
      if (typeof token !== "string" || token === "" || token.length > DEFAULT_MAX_TOKEN_BYTES) {
        throw tokenInvalid("malformed", "token must be a non-empty string");
      }
      const result = await postIssuerForm(
        endpoint,
        { token, token_type_hint: "access_token" },
        client,
        http,
        opts,
      );
      // RFC 7009 §2.2.1: an issuer that cannot revoke this kind of token (oidc-provider, for JWTs) says so.
      if (!result.ok && result.error.error === "unsupported_token_type") return false;
      if (!result.ok) {
        throw new AuthError("AUTH_UNAVAILABLE", `the issuer refused the revocation (${result.error.error})`, {
          details: { reason: "revocation_refused", error: result.error.error },
        });
      }
      return true;
    },
    async clientCredentials(opts = {}) {
      const auth =
        opts.clientId === undefined
          ? requireClient("the client-credentials grant")
          : {
              clientId: opts.clientId,
              ...(opts.clientSecret === undefined ? {} : { clientSecret: opts.clientSecret }),
            };
      const form: Record<string, string> = { grant_type: "client_credentials" };
      if (opts.scopes !== undefined) form.scope = checkScopes(opts.scopes, "INVALID_ARGUMENT").join(" ");
      return grant(
        form,
        auth,
        new AuthError("INVALID_CREDENTIALS", "client credentials were rejected"),
        opts,
      );
    },
  };
}

function isOpaque(token: unknown): boolean {
  return (
    typeof token === "string" && token.length <= DEFAULT_MAX_TOKEN_BYTES && token.split(".").length !== 3
  );
}

/** `callerClient`: the client credentials came from the caller, so rejecting them is the caller's failure. */
function mapGrantError(oauthError: string, rejected: AuthError, callerClient: boolean): AuthError {
  const details = { reason: oauthError };
  switch (oauthError) {
    case "invalid_grant":
      return rejected;
    case "invalid_client":
    case "unauthorized_client":
      if (callerClient)
        return new AuthError("INVALID_CREDENTIALS", "client credentials were rejected", { details });
      return new AuthError("AUTH_CONFIG", "the issuer rejected this client's credentials", { details });
    case "unsupported_grant_type":
      return new AuthError("NOT_SUPPORTED", "the issuer does not allow this grant for this client", {
        details,
      });
    case "invalid_scope":
    case "invalid_request":
    case "invalid_target":
      return new AuthError("INVALID_ARGUMENT", `the issuer rejected the request (${oauthError})`, {
        details,
      });
    default:
      return new AuthError("AUTH_UNAVAILABLE", `the issuer refused the grant (${oauthError})`, { details });
  }
}

function toTokenSet(body: Record<string, unknown>): TokenSet {
  const { access_token, token_type, expires_in, refresh_token, id_token } = body;
  if (
    typeof access_token !== "string" ||
    typeof token_type !== "string" ||
    token_type.toLowerCase() !== "bearer"
  ) {
    throw new AuthError("AUTH_UNAVAILABLE", "the token endpoint answered without a bearer access token", {
      details: { reason: "issuer_error" },
    });
  }
  const tokens: TokenSet = {
    accessToken: access_token,
    tokenType: "Bearer",
    expiresIn: typeof expires_in === "number" ? expires_in : 0,
  };
  if (typeof refresh_token === "string") tokens.refreshToken = refresh_token;
  if (typeof id_token === "string") tokens.idToken = id_token;
  return tokens;
}
