import { randomFillSync } from "node:crypto";

/** 256 bits from the CSPRNG, base64url: 43 URL-safe characters. */
const RANDOM_BYTES = 32;
export const SESSION_TOKEN_LENGTH = 43;

/**
 * One CSPRNG call fills 128 tokens' worth of bytes: the per-call cost of the system RNG
 * dominated session creation. Each slice of the pool is handed out exactly once.
 */
const pool = Buffer.alloc(RANDOM_BYTES * 128);
let poolOffset = pool.length;

export function randomSessionToken(): string {
  if (poolOffset + RANDOM_BYTES > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const token = pool.toString("base64url", poolOffset, poolOffset + RANDOM_BYTES);
  poolOffset += RANDOM_BYTES;
  return token;
}
