import { hash } from "node:crypto";
import { AuthError } from "./errors.js";
import type { Principal } from "./types.js";

export interface VerificationCacheOptions {
  /** Entries kept at most; the oldest is evicted first. Default 10,000. */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Remembers verified tokens until their `exp`. Keys are SHA-256 digests, so
 * the cache never holds a usable bearer token. Cached principals are frozen:
 * a caller cannot alter what the next caller receives.
 */
export class VerificationCache {
  readonly #entries = new Map<string, { principal: Principal; until: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor({ maxEntries = 10_000, now = Date.now }: VerificationCacheOptions = {}) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new AuthError("AUTH_CONFIG", "verification cache maxEntries must be a positive integer");
    }
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Verification short-cut for providers: a settled promise on a hit, else `verify()`. */
  through(
    token: string,
    signal: AbortSignal | undefined,
    verify: () => Promise<Principal>,
  ): Promise<Principal> {
    const principal = typeof token === "string" && !signal?.aborted ? this.get(token) : undefined;
    if (principal === undefined) return verify();
    return Promise.resolve(principal);
  }

  get(token: string): Principal | undefined {
    const key = digest(token);
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.principal;
  }

  /** Caches until the principal expires, or until `validUntilMs` when that comes first. */
  set(token: string, principal: Principal, validUntilMs = Number.POSITIVE_INFINITY): void {
    const until = Math.min(principal.expiresAt.getTime(), validUntilMs);
    if (until <= this.#now()) return;
    const key = digest(token);
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, { principal, until });
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** base64 (not base64url): the cheapest text encoding Node offers for a digest. */
function digest(token: string): string {
  return hash("sha256", token, "base64");
}
