import { randomBytes } from "node:crypto";

/** 256 bits from the CSPRNG, base64url: 43 URL-safe characters. */
const RANDOM_BYTES = 32;
const RANDOM_PART = /^[A-Za-z0-9_-]{43}$/;

export function randomSessionToken(): string {
  return randomBytes(RANDOM_BYTES).toString("base64url");
}

export function isRandomSessionToken(value: unknown): value is string {
  return typeof value === "string" && RANDOM_PART.test(value);
}
