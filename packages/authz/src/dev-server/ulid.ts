import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A ULID (what OpenFGA uses for store and model ids, and what its SDK insists on). */
export function ulid(now = Date.now()): string {
  let time = "";
  let remaining = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[remaining % 32] + time;
    remaining = Math.floor(remaining / 32);
  }
  const random = [...randomBytes(16)].map((byte) => ALPHABET[byte % 32]).join("");
  return time + random;
}
