import { createMemoryTaskStore, createRedisTaskStore, type TaskStore } from "@mcp-langgraph/mcp-server";
import { createClient } from "redis";
import type { AppConfig } from "./config.js";

/**
 * The MCP task store: Redis next to the login sessions (SESSION_BACKEND=redis), so a task created
 * through one instance is read, awaited and cancelled through any other; memory for one process.
 * Redis gets two connections: commands, and a subscriber that hears task changes.
 */
export async function createAppTaskStore(config: AppConfig): Promise<TaskStore> {
  const { sessions } = config;
  const { limits, storeTimeoutMs } = config.mcp.tasks;
  if (sessions.backend !== "redis") return createMemoryTaskStore(limits);
  // Commands fail at once while Redis is down (no offline queue): a task call then answers a clear, retryable error.
  const client = createClient({
    url: sessions.url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 5_000 },
  });
  const subscriber = client.duplicate();
  // Connection errors surface on the calls (TASK_STORE_UNAVAILABLE); the emitters must not crash the process.
  client.on("error", () => {});
  subscriber.on("error", () => {});
  // A graceful close waits for a reply a Redis that is down never sends: drop the socket then.
  const closeClients = async () => {
    await Promise.allSettled([client, subscriber].map(async (c) => (c.isReady ? c.close() : c.destroy())));
  };
  try {
    await Promise.all([client.connect(), subscriber.connect()]);
    const store = await createRedisTaskStore({
      client,
      subscriber,
      keyPrefix: sessions.keyPrefix ?? "mcp-langgraph:",
      timeoutMs: storeTimeoutMs,
      limits,
    });
    return {
      ...store,
      async close() {
        await store.close();
        await closeClients();
      },
    };
  } catch (error) {
    await closeClients();
    throw error;
  }
}
