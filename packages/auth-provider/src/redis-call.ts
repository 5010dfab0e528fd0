import { createBulkhead, withDeadline } from "@mcp-langgraph/core";
import { AuthError, isAuthError } from "./errors.js";
import type { CallOptions } from "./types.js";

/** The one method the Redis-backed stores need; a node-redis v5+ client (`createClient()`) fits as is. */
export interface RedisCommandClient {
  sendCommand(args: string[]): Promise<unknown>;
}

export interface RedisCallOptions {
  client: RedisCommandClient;
  /** Deadline per Redis call. */
  timeoutMs: number;
  /** Redis calls in flight at once. */
  concurrency: number;
  /** Names the store in error messages ("API key store", "token denylist"). */
  what: string;
}

/**
 * One bounded Redis command: a deadline, a bulkhead, and every failure typed
 * AUTH_UNAVAILABLE so the edge answers 503 (fail closed) instead of 500.
 */
export function createRedisCall({ client, timeoutMs, concurrency, what }: RedisCallOptions) {
  const bulkhead = createBulkhead({ concurrency, maxQueue: 4096 });
  return function call(args: string[], { signal }: CallOptions = {}): Promise<unknown> {
    return withDeadline((deadline) => bulkhead.run(() => client.sendCommand(args), deadline), {
      timeoutMs,
      ...(signal ? { signal } : {}),
      onTimeout: (ms) =>
        new AuthError("AUTH_UNAVAILABLE", `${what} did not answer within ${ms} ms`, {
          details: { reason: "timeout" },
        }),
    }).catch((error: unknown) => {
      if (signal?.aborted && error === signal.reason) throw error;
      if (isAuthError(error)) throw error;
      throw new AuthError("AUTH_UNAVAILABLE", `${what} is unavailable`, {
        details: { reason: "redis_error" },
        cause: error,
      });
    });
  };
}
