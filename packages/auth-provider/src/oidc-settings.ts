import { retry } from "@mcp-langgraph/core";
import { AuthError, isAuthError } from "./errors.js";
import { type ClientAuth, getIssuerJson, type IssuerHttpOptions } from "./issuer-http.js";
import {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  checkAlgorithms,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
} from "./jwt-verify.js";
import { checkScopes } from "./names.js";
import type { VerificationCacheOptions } from "./verification-cache.js";

export interface OidcProviderOptions {
  /** Must equal the discovery document's `issuer` and every token's `iss`, character for character. */
  issuer: string;
  /** This server's resource identifier; every token's `aud` must contain it. */
  audience: string;
  /** This server's client at the issuer: needed for password login, refresh, client credentials, introspection. */
  clientId?: string;
  clientSecret?: string;
  /** RFC 8707 `resource` sent to the token endpoint (oidc-provider needs it for JWT access tokens). */
  resource?: string;
  /** Scopes requested on password login; default ["openid"]. */
  scopes?: string[];
  /** Default RS256, PS256, ES256, EdDSA; `none` and HS* are refused. */
  algorithms?: AsymmetricAlgorithm[];
  /** Allowed clock skew for exp/nbf; default 30 s. */
  clockToleranceSeconds?: number;
  /** Clients whose Keycloak client roles count; default [clientId, audience]. */
  roleClients?: string[];
  /** Default `${issuer}/.well-known/openid-configuration`. */
  discoveryUrl?: string;
  /**
   * Skip discovery and take keys from this JWKS URL (e.g. the local issuer's
   * /.well-known/jwks.json); token and introspection endpoints then come from
   * `tokenEndpoint` / `introspectionEndpoint` when needed.
   */
  jwksUri?: string;
  tokenEndpoint?: string;
  introspectionEndpoint?: string;
  /** Accept http:// issuer URLs on non-loopback hosts (never in production). Default false. */
  allowInsecureHttp?: boolean;
  /** Deadline for each discovery, JWKS, token and introspection call; default 5000 ms. */
  httpTimeoutMs?: number;
  /** Refetch the JWKS after this long even without an unknown kid; default 10 min. */
  jwksCacheMaxAgeMs?: number;
  /** While the JWKS endpoint is down, keep using keys fetched within this long; default 1 h (0 disables). */
  jwksMaxStaleMs?: number;
  /** Minimum time between JWKS refetches triggered by an unknown kid; default 30 s. */
  jwksCooldownMs?: number;
  /** Verify non-JWT (opaque) tokens with RFC 7662 introspection; needs clientId + clientSecret. */
  introspection?: boolean;
  /** How long an introspection answer is trusted; default 30 s (a revocation shows after at most this). */
  introspectionCacheSeconds?: number;
  /** Consecutive issuer outages that open the circuit (default 5) and how long it stays open (default 30 s). */
  circuitBreaker?: { failureThreshold?: number; resetTimeoutMs?: number };
  /** Calls allowed in flight to the issuer at once; default 16. */
  maxConcurrentRequests?: number;
  /** Verification cache settings, or false to verify every call. */
  cache?: VerificationCacheOptions | false;
}

export interface OidcMetadata {
  issuer: string;
  jwks_uri: string;
  token_endpoint?: string;
  introspection_endpoint?: string;
  /** RFC 7009 token revocation, when the issuer offers it (used on logout). */
  revocation_endpoint?: string;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

export interface Settings {
  issuer: string;
  audience: string;
  client?: ClientAuth;
  resource?: string;
  scopes: string[];
  algorithms: string[];
  clockToleranceSeconds: number;
  roleClients: string[];
  discoveryUrl: string;
  allowInsecureHttp: boolean;
  httpTimeoutMs: number;
  jwksCacheMaxAgeMs: number;
  jwksCooldownMs: number;
  jwksMaxStaleMs: number;
  introspection: boolean;
  introspectionCacheSeconds: number;
  maxConcurrentRequests: number;
  breakerFailureThreshold: number;
  breakerResetTimeoutMs: number;
}

export function resolveSettings(options: OidcProviderOptions): Settings {
  const { issuer, audience, clientId, clientSecret } = options;
  for (const [name, value] of [
    ["issuer", issuer],
    ["audience", audience],
  ] as const) {
    if (typeof value !== "string" || value.length === 0) {
      throw new AuthError("AUTH_CONFIG", `${name} must be a non-empty string`);
    }
  }
  const allowInsecureHttp = options.allowInsecureHttp ?? false;
  checkIssuerUrl("issuer", issuer, allowInsecureHttp);
  if (clientSecret !== undefined && clientId === undefined) {
    throw new AuthError("AUTH_CONFIG", "clientSecret is set but clientId is not");
  }
  const introspection = options.introspection ?? false;
  if (introspection && (clientId === undefined || clientSecret === undefined)) {
    throw new AuthError("AUTH_CONFIG", "introspection needs clientId and clientSecret");
  }
  const settings: Settings = {
    issuer,
    audience,
    scopes: checkScopes(options.scopes ?? ["openid"], "AUTH_CONFIG"),
    algorithms: checkAlgorithms(options.algorithms ?? [...ASYMMETRIC_ALGORITHMS]),
    clockToleranceSeconds: boundedNumber(
      "clockToleranceSeconds",
      options.clockToleranceSeconds,
      DEFAULT_CLOCK_TOLERANCE_SECONDS,
      0,
      300,
    ),
    roleClients: options.roleClients ?? [clientId, audience].filter((c): c is string => c !== undefined),
    discoveryUrl: options.discoveryUrl ?? `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`,
    allowInsecureHttp,
    httpTimeoutMs: boundedNumber("httpTimeoutMs", options.httpTimeoutMs, 5000, 1, 120_000),
    jwksCacheMaxAgeMs: boundedNumber("jwksCacheMaxAgeMs", options.jwksCacheMaxAgeMs, 600_000, 0, 86_400_000),
    jwksMaxStaleMs: boundedNumber("jwksMaxStaleMs", options.jwksMaxStaleMs, 3_600_000, 0, 7 * 86_400_000),
    jwksCooldownMs: boundedNumber("jwksCooldownMs", options.jwksCooldownMs, 30_000, 0, 3_600_000),
    introspection,
    introspectionCacheSeconds: boundedNumber(
      "introspectionCacheSeconds",
      options.introspectionCacheSeconds,
      30,
      0,
      3600,
    ),
    breakerFailureThreshold: boundedNumber(
      "circuitBreaker.failureThreshold",
      options.circuitBreaker?.failureThreshold,
      5,
      1,
      1000,
    ),
    breakerResetTimeoutMs: boundedNumber(
      "circuitBreaker.resetTimeoutMs",
      options.circuitBreaker?.resetTimeoutMs,
      30_000,
      0,
      3_600_000,
    ),
    maxConcurrentRequests: boundedNumber("maxConcurrentRequests", options.maxConcurrentRequests, 16, 1, 1024),
  };
  checkIssuerUrl("discoveryUrl", settings.discoveryUrl, allowInsecureHttp);
  if (clientId !== undefined) {
    settings.client = clientSecret === undefined ? { clientId } : { clientId, clientSecret };
  }
  if (options.resource !== undefined) settings.resource = options.resource;
  return settings;
}

export async function discover(
  settings: Settings,
  http: IssuerHttpOptions,
  signal?: AbortSignal,
): Promise<OidcMetadata> {
  const document = await retry(() => getIssuerJson(settings.discoveryUrl, http, signal ? { signal } : {}), {
    retries: 2,
    baseDelayMs: 200,
    maxDelayMs: 2000,
    classify: (error) => ({ retry: isAuthError(error) && error.code === "AUTH_UNAVAILABLE" }),
    ...(signal ? { signal } : {}),
  });
  if (document.issuer !== settings.issuer) {
    throw new AuthError(
      "AUTH_CONFIG",
      `discovery names issuer ${JSON.stringify(document.issuer)}, not the configured ${JSON.stringify(settings.issuer)}`,
    );
  }
  return checkMetadata(document, settings);
}

export function checkMetadata(document: Record<string, unknown>, settings: Settings): OidcMetadata {
  const metadata: OidcMetadata = { issuer: settings.issuer, jwks_uri: "" };
  for (const field of [
    "jwks_uri",
    "token_endpoint",
    "introspection_endpoint",
    "revocation_endpoint",
  ] as const) {
    const value = document[field];
    if (value === undefined) continue;
    if (typeof value !== "string")
      throw new AuthError("AUTH_CONFIG", `discovery field ${field} is not a URL`);
    checkIssuerUrl(field, value, settings.allowInsecureHttp);
    metadata[field] = value;
  }
  if (metadata.jwks_uri === "") throw new AuthError("AUTH_CONFIG", "discovery document has no jwks_uri");
  if (settings.introspection && metadata.introspection_endpoint === undefined) {
    throw new AuthError(
      "AUTH_CONFIG",
      "introspection is enabled but the issuer publishes no introspection_endpoint",
    );
  }
  return metadata;
}

function checkIssuerUrl(name: string, value: string, allowInsecureHttp: boolean): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AuthError("AUTH_CONFIG", `${name} is not a URL`);
  }
  const secure = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
  if (!secure && !(allowInsecureHttp && url.protocol === "http:")) {
    throw new AuthError(
      "AUTH_CONFIG",
      `${name} must use https (http only on loopback or with allowInsecureHttp)`,
    );
  }
}

function boundedNumber(name: string, value: number | undefined, fallback: number, min: number, max: number) {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved < min || resolved > max) {
    throw new AuthError("AUTH_CONFIG", `${name} must be a number between ${min} and ${max}`);
  }
  return resolved;
}
