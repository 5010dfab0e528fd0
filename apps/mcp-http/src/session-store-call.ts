import { withDeadline } from "@mcp-langgraph/core";
import { isSessionError, SessionError } from "@mcp-langgraph/session";

/** A Redis client as the MCP session directory and bus use it (node-redis `sendCommand`). */
export interface CommandClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * One command to the shared MCP session state with its deadline. A timeout or a Redis failure is
 * SESSION_UNAVAILABLE naming `what` (answered as a retryable 503), never Redis's own message; the
 * caller's abort passes through as is.
 */
export function sessionStoreCall(
  client: CommandClient,
  args: string[],
  options: { what: string; timeoutMs: number; signal: AbortSignal },
): Promise<unknown> {
  return sharedStateCall(() => client.sendCommand(args), options);
}

/** `sessionStoreCall` for any one call to Redis (a session store script, say), with the same deadline and errors. */
export function sharedStateCall<T>(
  call: () => Promise<T>,
  options: { what: string; timeoutMs: number; signal: AbortSignal },
): Promise<T> {
  const { what, timeoutMs, signal } = options;
  return withDeadline(call, {
    timeoutMs,
    signal,
    onTimeout: (ms) => new SessionError("SESSION_UNAVAILABLE", `The ${what} did not answer within ${ms} ms.`),
  }).catch((error: unknown) => {
    if (signal.aborted && error === signal.reason) throw error;
    if (isSessionError(error)) throw error;
    throw new SessionError("SESSION_UNAVAILABLE", `The ${what} is unavailable right now.`, { cause: error });
  });
}
