import { randomBytes, randomUUID } from "node:crypto";
import { withDeadline } from "@mcp-langgraph/core";
import { type ConversationChangeBus, LocalChangeListeners } from "./change-bus.js";
import { isMcpServerError, McpServerError } from "./errors.js";

/** What the bus publishes through: a connected node-redis client (v4+), ideally with `disableOfflineQueue`. */
export interface ChangeBusRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/** A connection in subscriber mode (node-redis: `client.duplicate()`, connected); may be shared with other channels. */
export interface ChangeBusRedisSubscriber {
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
}

export interface RedisChangeBusOptions {
  client: ChangeBusRedisClient;
  subscriber: ChangeBusRedisSubscriber;
  /** Prepended to the channel (SESSION_KEY_PREFIX, default `mcp-langgraph:`). */
  keyPrefix?: string;
  /** Deadline of each publish (default 2 s). */
  timeoutMs?: number;
  /**
   * A change this process's listeners heard but the other instances may not have (Redis down or
   * slow). The turn that made it is not failed for it: log it, count it.
   */
  onPublishError?: (error: unknown) => void;
}

export interface RedisChangeBus extends ConversationChangeBus {
  /** Stops hearing the other instances' changes. */
  close(): Promise<void>;
}

/** On the channel: the change id, the publishing instance, the conversation key. */
interface ChangeMessage {
  c: string;
  i: string;
  k: string;
}

/**
 * A conversation change bus shared by every instance on one Redis (ADR 0182): a change is
 * delivered to this process's listeners at once and published on one channel, from which every
 * other instance delivers it to its own. The instance's id in the message keeps it from hearing
 * its own changes twice. Pub/sub delivers to instances listening now: a change made while one is
 * cut off from Redis is not replayed to it, as a change in one process is not replayed to a
 * session that subscribes later.
 */
export async function createRedisChangeBus(options: RedisChangeBusOptions): Promise<RedisChangeBus> {
  const { client, subscriber, onPublishError } = options;
  const channel = `${options.keyPrefix ?? "mcp-langgraph:"}conversation-changes`;
  const timeoutMs = options.timeoutMs ?? 2_000;
  // 72 random bits: no two instances (nor two apps in one process) share it.
  const instanceId = randomBytes(9).toString("base64url");
  const listeners = new LocalChangeListeners();
  const unavailable = (ms: number) =>
    new McpServerError(
      "CHANGE_BUS_UNAVAILABLE",
      `The conversation change bus did not answer within ${ms} ms.`,
    );
  const listening = subscriber.subscribe(channel, (raw) => {
    let message: ChangeMessage;
    try {
      message = JSON.parse(raw) as ChangeMessage;
    } catch {
      return;
    }
    if (message.i === instanceId || typeof message.k !== "string" || typeof message.c !== "string") return;
    listeners.deliver(message.k, message.c);
  });
  await withDeadline(() => listening, { timeoutMs, onTimeout: unavailable });
  return {
    async publish(conversationKey, signal) {
      const changeId = randomUUID();
      listeners.deliver(conversationKey, changeId);
      const message: ChangeMessage = { c: changeId, i: instanceId, k: conversationKey };
      await withDeadline(() => client.sendCommand(["PUBLISH", channel, JSON.stringify(message)]), {
        timeoutMs,
        ...(signal ? { signal } : {}),
        onTimeout: unavailable,
      }).catch((error: unknown) => {
        const reported = isMcpServerError(error)
          ? error
          : new McpServerError(
              "CHANGE_BUS_UNAVAILABLE",
              "The conversation change bus is unavailable right now.",
              {
                cause: error,
              },
            );
        onPublishError?.(reported);
      });
    },
    subscribe: (conversationKey, listener) => listeners.add(conversationKey, listener),
    async close() {
      // Bounded: a shutdown must not wait on a Redis that does not answer.
      await withDeadline(() => subscriber.unsubscribe(channel), { timeoutMs, onTimeout: unavailable });
    },
  };
}
