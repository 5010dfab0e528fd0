import { AuthError, type AuthErrorCode } from "./errors.js";

/** Subjects become OpenFGA ids ("user:<name>"), so they may not contain whitespace, '#' or ':'. */
const SUBJECT_NAME = /^[^\s#:]{1,256}$/;
/** RFC 6749 §3.3 scope-token characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;

export function isSubjectName(value: unknown): value is string {
  return typeof value === "string" && SUBJECT_NAME.test(value);
}

export function checkSubjectName(
  value: unknown,
  code: AuthErrorCode = "INVALID_ARGUMENT",
): asserts value is string {
  if (!isSubjectName(value)) {
    throw new AuthError(code, "username must be 1-256 characters without whitespace, '#' or ':'");
  }
}

/** A copy of `scopes` when every entry is an RFC 6749 scope token; otherwise `code`. */
export function checkScopes(scopes: unknown, code: AuthErrorCode): string[] {
  if (
    !Array.isArray(scopes) ||
    !scopes.every((scope) => typeof scope === "string" && SCOPE_TOKEN.test(scope))
  ) {
    throw new AuthError(code, "scopes must be an array of RFC 6749 scope tokens (no spaces or quotes)");
  }
  return [...scopes];
}
