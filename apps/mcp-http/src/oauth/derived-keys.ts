import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import type { JsonWebKey } from "@mcp-langgraph/auth-provider";

export interface DerivedKeys {
  /** Signs the authorization server's cookies (interaction and session). */
  cookieKey: string;
  /** The CSRF token of an interaction: HMAC of its uid, so no state is kept for it. */
  csrfToken(uid: string): string;
  checkCsrf(uid: string, token: unknown): boolean;
}

/**
 * Keys derived from the signing key rather than configured apart: every instance sharing
 * LOCAL_SIGNING_KEY (which they must, to verify each other's tokens) signs the same cookies and
 * CSRF tokens, so a login started on one instance can finish on another, with no new secret to
 * distribute or rotate.
 */
export function deriveKeys(signingJwk: JsonWebKey): DerivedKeys {
  const secret = Buffer.from(String(signingJwk.d), "base64url");
  const derive = (info: string) => Buffer.from(hkdfSync("sha256", secret, "mcp-langgraph", info, 32));
  const cookieKey = derive("oauth-cookies").toString("base64url");
  const csrfKey = derive("oauth-csrf");
  const csrfToken = (uid: string) => createHmac("sha256", csrfKey).update(uid).digest("base64url");
  return {
    cookieKey,
    csrfToken,
    checkCsrf(uid, token) {
      if (typeof token !== "string") return false;
      const expected = Buffer.from(csrfToken(uid));
      const given = Buffer.from(token);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
