import { CodedError, type CodedErrorOptions, isCodedError } from "@mcp-langgraph/core";

export const AUTH_ERROR_FAMILY = "auth";

export type AuthErrorCode =
  /** The token is malformed, forged, for another issuer/audience, or otherwise unacceptable. */
  | "TOKEN_INVALID"
  /** The token was valid once; its `exp` has passed. */
  | "TOKEN_EXPIRED"
  /** Unknown user or wrong password: deliberately one code for both. */
  | "INVALID_CREDENTIALS"
  /** Start-up configuration is unusable (bad key, bad user list, bad role-mapping rules). */
  | "AUTH_CONFIG"
  /** A backend (OIDC issuer, JWKS, Redis, hashing pool) failed or timed out: retry later. */
  | "AUTH_UNAVAILABLE"
  /** A caller passed an argument of the wrong shape. */
  | "INVALID_ARGUMENT"
  /** An API key is unknown, revoked, expired or malformed. */
  | "API_KEY_INVALID"
  /** The user already holds the maximum number of API keys. */
  | "API_KEY_LIMIT"
  /** The operation names something that does not exist (e.g. revoking an unknown key id). */
  | "NOT_FOUND"
  /** The caller is authenticated but may not do this (e.g. act for that user). */
  | "FORBIDDEN"
  /** The provider cannot do this (e.g. refresh without a client configured). */
  | "NOT_SUPPORTED"
  /** Too many failed logins for this username and address, or from this address: `details.retryAfterMs`. */
  | "LOGIN_THROTTLED";

/**
 * The one error class of this package. `details.reason` gives a stable,
 * finer-grained cause (e.g. "audience", "algorithm") that is safe to log;
 * messages never contain tokens, passwords or key material.
 */
export class AuthError extends CodedError<AuthErrorCode> {
  constructor(code: AuthErrorCode, message: string, options?: CodedErrorOptions) {
    super(AUTH_ERROR_FAMILY, code, message, options);
    this.name = "AuthError";
  }

  /** The `details.reason` this error was raised with, if any. */
  get reason(): string | undefined {
    const reason = this.details?.reason;
    return typeof reason === "string" ? reason : undefined;
  }
}

export function isAuthError(value: unknown): value is AuthError {
  return isCodedError(value, AUTH_ERROR_FAMILY);
}

export function tokenInvalid(reason: string, message: string, cause?: unknown): AuthError {
  return new AuthError("TOKEN_INVALID", message, { details: { reason }, cause });
}
