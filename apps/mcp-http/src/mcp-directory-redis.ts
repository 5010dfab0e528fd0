import { createClient } from "redis";
import type { AppConfig } from "./config.js";
import { McpSessionDirectory } from "./mcp-session-directory.js";

export interface ConnectedDirectory {
  directory: McpSessionDirectory;
  close(): Promise<void>;
}

/**
 * The MCP session directory on its own Redis connection, next to the login sessions
 * (SESSION_BACKEND=redis); undefined with the memory backend, where sessions stay in the process.
 */
export async function connectMcpSessionDirectory(config: AppConfig): Promise<ConnectedDirectory | undefined> {
  const { sessions, mcp } = config;
  if (sessions.backend !== "redis") return undefined;
  // Commands fail at once while Redis is down (no offline queue): the request gets a retryable 503.
  const client = createClient({
    url: sessions.url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 5_000 },
  });
  // Connection errors surface on the calls (SESSION_UNAVAILABLE); the emitter must not crash the process.
  client.on("error", () => {});
  await client.connect();
  return {
    directory: new McpSessionDirectory({
      client,
      keyPrefix: sessions.keyPrefix ?? "mcp-langgraph:",
      idleMs: mcp.idleSeconds * 1000,
      maxSessionsPerUser: mcp.maxSessionsPerUser,
      timeoutMs: mcp.sessionStoreTimeoutMs,
    }),
    // A graceful close waits for a reply a Redis that is down never sends: drop the socket then.
    close: async () => {
      if (client.isReady) await client.close().catch(() => client.destroy());
      else client.destroy();
    },
  };
}
