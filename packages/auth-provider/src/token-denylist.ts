import { createHash } from "node:crypto";
import { AuthError } from "./errors.js";
import { DEFAULT_CLOCK_TOLERANCE_SECONDS } from "./jwt-verify.js";
import { createRedisCall, type RedisCommandClient } from "./redis-call.js";
import type { AuthProvider, CallOptions, Principal } from "./types.js";

/**
 * Tokens ended before their `exp` (logout). Entries carry their own expiry:
 * once the token would have expired anyway, the verifier rejects it without help.
 */
export interface TokenDenylist {
  /** Denies `key` until `expiresAtMs` (epoch ms); an already-past expiry is a no-op. */
  deny(key: string, expiresAtMs: number, opts?: CallOptions): Promise<void>;
  has(key: string, opts?: CallOptions): Promise<boolean>;
}

export const DEFAULT_DENYLIST_MAX_ENTRIES = 100_000;

export interface MemoryTokenDenylistOptions {
  /** Live entries held at once; default 100000. Beyond it `deny` fails (AUTH_UNAVAILABLE), never evicts. */
  maxEntries?: number;
  now?: () => number;
}

/** One process's denylist: right for a single instance; several instances need the Redis one. */
export function createMemoryTokenDenylist(options: MemoryTokenDenylistOptions = {}): TokenDenylist {
  const maxEntries = options.maxEntries ?? DEFAULT_DENYLIST_MAX_ENTRIES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new AuthError("AUTH_CONFIG", "maxEntries must be a positive integer");
  }
  const now = options.now ?? Date.now;
  const entries = new Map<string, number>();
  const sweep = () => {
    const at = now();
    for (const [key, expiresAt] of entries) if (expiresAt <= at) entries.delete(key);
  };
  return {
    async deny(key, expiresAtMs) {
      if (expiresAtMs <= now()) return;
      if (!entries.has(key) && entries.size >= maxEntries) sweep();
      // Evicting a live entry would bring a logged-out token back to life: refuse instead (fail closed).
      if (!entries.has(key) && entries.size >= maxEntries) {
        throw new AuthError("AUTH_UNAVAILABLE", `the token denylist holds its maximum of ${maxEntries}`, {
          details: { reason: "denylist_full" },
        });
      }
      entries.set(key, Math.max(expiresAtMs, entries.get(key) ?? 0));
    },
    async has(key) {
      const expiresAt = entries.get(key);
      if (expiresAt === undefined) return false;
      if (expiresAt > now()) return true;
      entries.delete(key);
      return false;
    },
  };
}

export interface RedisTokenDenylistOptions {
  client: RedisCommandClient;
  /** Key namespace; default "mcp:denylist". */
  keyPrefix?: string;
  /** Deadline per Redis call; default 2000 ms. */
  timeoutMs?: number;
  /** Redis calls in flight at once; default 64. */
  concurrency?: number;
}

/** Shared by every instance: one key per denied token, expiring (PXAT) when the token would have. */
export function createRedisTokenDenylist(options: RedisTokenDenylistOptions): TokenDenylist {
  const { client, keyPrefix = "mcp:denylist" } = options;
  const call = createRedisCall({
    client,
    timeoutMs: options.timeoutMs ?? 2000,
    concurrency: options.concurrency ?? 64,
    what: "token denylist",
  });
  return {
    async deny(key, expiresAtMs, opts = {}) {
      if (expiresAtMs <= Date.now()) return;
      await call(["SET", `${keyPrefix}:${key}`, "1", "PXAT", String(Math.ceil(expiresAtMs))], opts);
    },
    async has(key, opts = {}) {
      return Number(await call(["EXISTS", `${keyPrefix}:${key}`], opts)) === 1;
    },
  };
}

const sha256 = (value: string) => createHash("sha256").update(value).digest("base64url");

/**
 * What a token is denied by: its issuer and `jti` when it has one (every copy of
 * that token), else a hash of the token itself. Hashed either way, so keys are
 * bounded in size and the store never holds a usable token.
 */
export function denylistKey(token: string, principal: Principal): string {
  const { jti, iss } = principal.claims;
  return typeof jti === "string" && jti !== ""
    ? `jti:${sha256(`${typeof iss === "string" ? iss : ""}\n${jti}`)}`
    : `tok:${sha256(token)}`;
}

export interface RevocableTokens extends AuthProvider {
  /** Denies this (already verified) token until it expires. */
  deny(token: string, principal: Principal, opts?: CallOptions): Promise<void>;
}

export interface RevocableTokensOptions {
  tokens: AuthProvider;
  denylist: TokenDenylist;
  /** The verifier's allowed clock skew: a denied entry outlives `exp` by this much. Default 30 s. */
  clockToleranceSeconds?: number;
}

/**
 * Wraps a token verifier with a denylist checked on every call, after the
 * signature (so forged tokens never reach the store). A store that cannot
 * answer rejects with AUTH_UNAVAILABLE: fail closed, never "not denied".
 */
export function createRevocableTokens({
  tokens,
  denylist,
  clockToleranceSeconds = DEFAULT_CLOCK_TOLERANCE_SECONDS,
}: RevocableTokensOptions): RevocableTokens {
  return {
    async verifyToken(token, opts = {}) {
      const principal = await tokens.verifyToken(token, opts);
      if (await denylist.has(denylistKey(token, principal), opts)) {
        throw new AuthError("TOKEN_INVALID", "token was revoked", { details: { reason: "revoked" } });
      }
      return principal;
    },
    deny(token, principal, opts = {}) {
      const expiresAtMs = principal.expiresAt.getTime() + clockToleranceSeconds * 1000;
      return denylist.deny(denylistKey(token, principal), expiresAtMs, opts);
    },
  };
}
