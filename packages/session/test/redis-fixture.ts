import { REDIS_URL, rawRedisClient, redisKeyspace } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { createSessionStore, type SessionStore, type SessionStoreOptions } from "../src/index.ts";

export { REDIS_URL };
export const redisAvailable = await requireService({ name: "redis", url: REDIS_URL });

/** Every store gets its own prefix under one per-run root, which `cleanup` removes afterwards. */
const keyspace = redisKeyspace("session");
export const uniquePrefix = keyspace.uniquePrefix;
export const rawClient = rawRedisClient;

export function openRedisStore(
  options?: SessionStoreOptions,
  keyPrefix = uniquePrefix(),
): Promise<SessionStore> {
  return createSessionStore({ backend: "redis", url: REDIS_URL, keyPrefix }, options);
}

export async function cleanup(): Promise<void> {
  if (!redisAvailable) return;
  await keyspace.cleanup();
}
