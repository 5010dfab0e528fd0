import { RedisLocks } from "@mcp-langgraph/session";
import { createClient } from "redis";
import type { AppConfig } from "./config.js";

export interface SharedLocks {
  locks: RedisLocks;
  close(): Promise<void>;
}

/**
 * Locks every instance sees (SESSION_BACKEND=redis): per-thread turn locks, so two instances never
 * run turns on one thread at once (ADR 0165). Undefined with memory: the agent's in-process locks
 * suffice and a turn does no extra I/O.
 */
export async function createSharedLocks(config: AppConfig): Promise<SharedLocks | undefined> {
  const { sessions } = config;
  if (sessions.backend !== "redis") return undefined;
  // Commands fail at once while Redis is down (no offline queue): a turn then fails clearly and retryably.
  const client = createClient({
    url: sessions.url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 5_000 },
  });
  // Connection errors surface on the calls (SESSION_UNAVAILABLE); the emitter must not crash the process.
  client.on("error", () => {});
  const close = async () => {
    await (client.isReady ? client.close() : Promise.resolve(client.destroy()));
  };
  try {
    await client.connect();
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  const locks = new RedisLocks({
    client,
    keyPrefix: `${sessions.keyPrefix ?? "mcp-langgraph:"}lock:`,
    ttlMs: config.threadLocks.ttlMs,
    waitTimeoutMs: config.threadLocks.waitTimeoutMs,
  });
  return { locks, close };
}
