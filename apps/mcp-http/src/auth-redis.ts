import type { RedisCommandClient } from "@mcp-langgraph/auth-provider";
import { createClient } from "redis";

/** What the auth stores use of the connection, and closing it. */
export interface AuthRedis extends RedisCommandClient {
  readonly isReady: boolean;
  close(): Promise<unknown>;
  destroy(): void;
}

/**
 * Closes gracefully when connected; a client that is reconnecting would queue the
 * close until Redis came back (shutdown hung while Redis was down), so it is destroyed.
 */
export async function closeAuthRedis(client: AuthRedis): Promise<void> {
  if (client.isReady) await client.close().catch(() => client.destroy());
  else client.destroy();
}

/**
 * The Redis that API keys and the logout denylist share with the login sessions
 * (SESSION_BACKEND=redis), so every instance behind the balancer sees the same state.
 */
export async function connectAuthRedis(url: string): Promise<AuthRedis> {
  const client = createClient({ url, socket: { connectTimeout: 5_000 } });
  // Connection errors surface on the calls (typed AUTH_UNAVAILABLE); the emitter must not crash the process.
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** `<SESSION_KEY_PREFIX><name>` when a prefix is configured, else the store's own default (undefined). */
export function authKeyPrefix(sessionKeyPrefix: string | undefined, name: string): string | undefined {
  return sessionKeyPrefix ? `${sessionKeyPrefix}${name}` : undefined;
}
