import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type ExportedJWKSCache,
  type JWTVerifyGetKey,
  jwksCache,
} from "jose";

export interface IssuerKeySetOptions {
  timeoutMs: number;
  cooldownMs: number;
  cacheMaxAgeMs: number;
  /** How long keys fetched earlier keep verifying while the JWKS endpoint is down. */
  maxStaleMs: number;
  now?: () => number;
}

const OUTAGE_CODES = new Set(["ERR_JWKS_TIMEOUT", "ERR_JOSE_GENERIC", "ERR_JWKS_INVALID"]);

/**
 * The issuer's JWKS through jose (cache, refetch on unknown kid with a
 * cooldown), plus stale-if-error: when a refetch fails because the issuer is
 * unreachable, keys fetched within `maxStaleMs` keep verifying, so a short
 * identity-provider outage does not take every authenticated request down.
 */
export function createIssuerKeySet(url: URL, options: IssuerKeySetOptions): JWTVerifyGetKey {
  const now = options.now ?? Date.now;
  // jose fills this in on every successful fetch: the last good key set and when it arrived.
  const cache = {} as Partial<ExportedJWKSCache>;
  const remote = createRemoteJWKSet(url, {
    timeoutDuration: options.timeoutMs,
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: options.cacheMaxAgeMs,
    [jwksCache]: cache as ExportedJWKSCache,
  });
  let stale: { fetchedAt: number; keys: JWTVerifyGetKey } | undefined;

  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (!isOutage(error) || cache.jwks === undefined || cache.uat === undefined) throw error;
      if (now() - cache.uat > options.maxStaleMs) throw error;
      if (stale?.fetchedAt !== cache.uat)
        stale = { fetchedAt: cache.uat, keys: createLocalJWKSet(cache.jwks) };
      return stale.keys(header, token);
    }
  };
}

function isOutage(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (typeof code === "string" && OUTAGE_CODES.has(code)) || error instanceof TypeError;
}
