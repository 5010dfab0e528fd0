import { randomBytes } from "node:crypto";

/** 256 bits from the CSPRNG, base64url: 43 URL-safe characters. */
const RANDOM_BYTES = 32;
export const SESSION_TOKEN_LENGTH = 43;

export function randomSessionToken(): string {
  return randomBytes(RANDOM_BYTES).toString("base64url");
}
