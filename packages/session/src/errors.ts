import { CodedError, type CodedErrorOptions, isCodedError } from "@mcp-langgraph/core";

export const SESSION_ERROR_FAMILY = "session";

export type SessionErrorCode =
  /** The backend did not answer in time, is unreachable, or refused the call. Retryable. */
  | "SESSION_UNAVAILABLE"
  /** A stored session value could not be decoded (corrupt, foreign or from an unknown version). */
  | "SESSION_CORRUPT"
  /** The caller passed input the store refuses; nothing was changed. */
  | "SESSION_INVALID_INPUT"
  /** The store was closed; create a new one. */
  | "SESSION_CLOSED"
  /** A lock was not free within the wait allowed. Retryable. */
  | "SESSION_LOCK_TIMEOUT"
  /** A lock held by this process expired or was taken over before its holder finished. */
  | "SESSION_LOCK_LOST";

export class SessionError extends CodedError<SessionErrorCode> {
  constructor(code: SessionErrorCode, message: string, options?: CodedErrorOptions) {
    super(SESSION_ERROR_FAMILY, code, message, options);
    this.name = "SessionError";
  }
}

export function isSessionError(value: unknown): value is SessionError {
  return isCodedError(value, SESSION_ERROR_FAMILY);
}

export function invalidInput(message: string, details?: Record<string, unknown>): SessionError {
  return new SessionError("SESSION_INVALID_INPUT", message, details ? { details } : undefined);
}
