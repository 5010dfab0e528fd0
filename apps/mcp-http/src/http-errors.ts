import { isAuthError } from "@mcp-langgraph/auth-provider";
import { isCoreError } from "@mcp-langgraph/core";
import { isSessionError } from "@mcp-langgraph/session";

/** What the HTTP edge answers for a failure: status, a stable `error` word and a client-safe message. */
export interface HttpFailure {
  status: number;
  error: string;
  message: string;
  /** Seconds for `Retry-After`; every 503 carries one, so clients and balancers back off instead of hammering. */
  retryAfterSeconds?: number;
}

/** An overloaded bulkhead frees up within a second or so; a backend that is down takes longer to come back. */
export const RETRY_OVERLOADED_SECONDS = 1;
export const RETRY_BACKEND_SECONDS = 5;

export const unavailable = (message: string, retryAfterSeconds: number): HttpFailure => ({
  status: 503,
  error: "temporarily_unavailable",
  message,
  retryAfterSeconds,
});

/**
 * The one place where the packages' typed error codes become HTTP statuses.
 * Undefined means "not a known failure": the caller answers 500 and logs it.
 * Messages come from here, never from the error, except for invalid input
 * whose package messages are written to be shown (they name the rule, never
 * a secret).
 */
export function httpFailureOf(error: unknown): HttpFailure | undefined {
  if (isAuthError(error)) {
    switch (error.code) {
      case "TOKEN_INVALID":
      case "TOKEN_EXPIRED":
      case "API_KEY_INVALID":
        return { status: 401, error: "invalid_token", message: "A valid bearer token is required." };
      case "INVALID_CREDENTIALS":
        return { status: 401, error: "invalid_grant", message: "Invalid username or password." };
      case "INVALID_ARGUMENT":
        return { status: 400, error: "invalid_request", message: error.message };
      case "API_KEY_LIMIT":
        return { status: 409, error: "limit_reached", message: "You hold the maximum number of API keys." };
      case "NOT_FOUND":
        return { status: 404, error: "not_found", message: "Not found." };
      case "FORBIDDEN":
        return { status: 403, error: "forbidden", message: "Not allowed." };
      case "NOT_SUPPORTED":
        return { status: 400, error: "unsupported", message: "The identity provider does not support this." };
      case "AUTH_UNAVAILABLE":
        return error.reason === "overloaded"
          ? unavailable("Authentication is busy; retry shortly.", RETRY_OVERLOADED_SECONDS)
          : unavailable("Authentication is unavailable; retry later.", RETRY_BACKEND_SECONDS);
      case "LOGIN_THROTTLED":
        return {
          status: 429,
          error: "too_many_requests",
          message: "Too many failed logins; retry later.",
          retryAfterSeconds: retryAfterSecondsOf(error.details?.retryAfterMs),
        };
      case "AUTH_CONFIG":
        return undefined;
    }
  }
  if (isSessionError(error)) {
    switch (error.code) {
      case "SESSION_UNAVAILABLE":
      case "SESSION_CLOSED":
        return unavailable("The session store is unavailable; retry later.", RETRY_BACKEND_SECONDS);
      case "SESSION_INVALID_INPUT":
        return { status: 400, error: "invalid_request", message: error.message };
      case "SESSION_CORRUPT":
        return undefined;
    }
  }
  if (isCoreError(error)) {
    return error.code === "BULKHEAD_FULL"
      ? unavailable("The server is busy; retry shortly.", RETRY_OVERLOADED_SECONDS)
      : unavailable("A backend did not answer in time; retry later.", RETRY_BACKEND_SECONDS);
  }
  // The edge's own deadlines (AbortSignal.timeout) reject with a TimeoutError DOMException.
  if (error instanceof Error && error.name === "TimeoutError") {
    return unavailable("A backend did not answer in time; retry later.", RETRY_BACKEND_SECONDS);
  }
  return undefined;
}

/** Whole seconds for `Retry-After` (at least 1: "0" would invite an immediate retry into the same limit). */
function retryAfterSecondsOf(ms: unknown): number {
  return typeof ms === "number" && Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000)) : 1;
}

/** Headers a failure answer carries besides its content type. */
export function failureHeaders(failure: HttpFailure): Record<string, string> {
  return failure.retryAfterSeconds === undefined ? {} : { "retry-after": String(failure.retryAfterSeconds) };
}
