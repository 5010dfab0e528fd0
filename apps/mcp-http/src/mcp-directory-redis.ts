import type { Logger } from "@mcp-langgraph/core";
import { createRedisChangeBus, type RedisChangeBus } from "@mcp-langgraph/mcp-server";
import type { SessionStore } from "@mcp-langgraph/session";
import { createClient } from "redis";
import type { AppConfig } from "./config.js";
import { McpSessionBus } from "./mcp-session-bus.js";
import { McpSessionDirectory } from "./mcp-session-directory.js";
import { McpSessionSubscriptions } from "./mcp-session-subscriptions.js";

export interface ConnectedDirectory {
  directory: McpSessionDirectory;
  bus: McpSessionBus;
  /** The sessions' resource subscriptions (ADR 0183). */
  subscriptions: McpSessionSubscriptions;
  /** Conversation changes heard by every instance (ADR 0182): the agent's services publish on it. */
  changes: RedisChangeBus;
  close(): Promise<void>;
}

export interface SharedDirectoryHooks {
  /** A finished turn's change did not reach Redis (counted by the app's metrics). */
  onChangeNotShared?: () => void;
}

/**
 * The MCP session directory on its own Redis connection, next to the login sessions
 * (SESSION_BACKEND=redis), with the sessions' bus, subscriptions and the conversation change bus;
 * undefined with the memory backend, where sessions and changes stay in the process.
 * `loginSessions` checks a caller's login session and touches their session record in one script.
 */
export async function connectMcpSessionDirectory(
  config: AppConfig,
  logger: Logger,
  loginSessions: SessionStore,
  hooks: SharedDirectoryHooks = {},
): Promise<ConnectedDirectory | undefined> {
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
  // Pub/sub needs a connection of its own (a subscribed connection sends no other command).
  const subscriber = client.duplicate();
  subscriber.on("error", () => {});
  try {
    await subscriber.connect();
  } catch (error) {
    client.destroy();
    throw error;
  }
  const keyPrefix = sessions.keyPrefix ?? "mcp-langgraph:";
  const changes = await createRedisChangeBus({
    client,
    subscriber,
    keyPrefix,
    timeoutMs: mcp.sessionStoreTimeoutMs,
    onPublishError: (error) => {
      hooks.onChangeNotShared?.();
      logger.warn(
        { err: String(error) },
        "a conversation change was not shared: subscribed sessions on other instances miss this update",
      );
    },
  }).catch((error: unknown) => {
    subscriber.destroy();
    client.destroy();
    throw error;
  });
  return {
    changes,
    subscriptions: new McpSessionSubscriptions({
      client,
      keyPrefix,
      claimTtlMs: mcp.subscriptionClaimSeconds * 1000,
      timeoutMs: mcp.sessionStoreTimeoutMs,
    }),
    bus: new McpSessionBus({
      client,
      subscriber: {
        subscribe: (channel, listener) => subscriber.subscribe(channel, listener),
        unsubscribe: (channel) => subscriber.unsubscribe(channel),
      },
      keyPrefix,
      ttlMs: mcp.idleSeconds * 1000,
      maxEvents: mcp.limits.eventStoreMaxEvents,
      maxBytes: mcp.limits.eventStoreMaxBytes,
      timeoutMs: mcp.sessionStoreTimeoutMs,
      onAppendError: (error) =>
        logger.warn(
          { err: String(error) },
          "an SSE event was not copied to Redis: resuming it elsewhere fails",
        ),
    }),
    directory: new McpSessionDirectory({
      client,
      keyPrefix,
      idleMs: mcp.idleSeconds * 1000,
      maxSessionsPerUser: mcp.maxSessionsPerUser,
      timeoutMs: mcp.sessionStoreTimeoutMs,
      loginSessions,
    }),
    // A graceful close waits for a reply a Redis that is down never sends: drop the socket then.
    close: async () => {
      await changes.close().catch(() => {});
      for (const each of [subscriber, client]) {
        if (each.isReady) await each.close().catch(() => each.destroy());
        else each.destroy();
      }
    },
  };
}
