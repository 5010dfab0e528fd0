import { AuthError } from "@mcp-langgraph/auth-provider";
import { isSessionError, type SessionData } from "@mcp-langgraph/session";

/** The login session a verified local token names, and whose it must be. */
export interface LoginSessionCheck {
  sessionId: string;
  userId: string;
  username: string;
}

/**
 * Accepts `session` as the live login session of `expected`, or throws TOKEN_INVALID (401): ended
 * (logout, expiry, erasure), or another user's — a token naming another user's session id (minted
 * elsewhere with the shared signing key, say) must not borrow that session's life.
 */
export function assertLoginSession(session: SessionData | null, expected: LoginSessionCheck): void {
  if (!session) throw new AuthError("TOKEN_INVALID", "login session ended");
  if (session.userId !== expected.userId || session.username !== expected.username)
    throw new AuthError("TOKEN_INVALID", "login session belongs to another user");
}

/** A session store that cannot answer fails closed (503), never as a valid session. */
export function loginSessionStoreFailure(error: unknown): unknown {
  return isSessionError(error)
    ? new AuthError("AUTH_UNAVAILABLE", "session store unavailable", { cause: error })
    : error;
}
