import { hash } from "node:crypto";
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
  readonly #entries = new Map<string, Principal>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor({ maxEntries = 10_000, now = Date.now }: VerificationCacheOptions = {}) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError("maxEntries must be a positive integer");
    }
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(token: string): Principal | undefined {
    const key = digest(token);
    const principal = this.#entries.get(key);
    if (principal === undefined) return undefined;
    if (principal.expiresAt.getTime() <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return principal;
  }

  set(token: string, principal: Principal): void {
    if (principal.expiresAt.getTime() <= this.#now()) return;
    const key = digest(token);
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, principal);
  }

  clear(): void {
    this.#entries.clear();
  }
}

function digest(token: string): string {
  return hash("sha256", token, "base64url");
}
