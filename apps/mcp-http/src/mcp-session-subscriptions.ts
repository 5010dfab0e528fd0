import type { SharedSubscriptionStore, SubscriberRecord } from "@mcp-langgraph/mcp-server";
import { ProtocolError, ProtocolErrorCode } from "@modelcontextprotocol/server";
import type { BusMessage } from "./mcp-session-bus.js";
import { mcpSessionKeys } from "./mcp-session-directory.js";
import { type CommandClient, sessionStoreCall } from "./session-store-call.js";

export interface McpSessionSubscriptionsOptions {
  client: CommandClient;
  /** SESSION_KEY_PREFIX: the same as the directory's and the bus's. */
  keyPrefix: string;
  /** How long the claim to send one update is kept (MCP_SUBSCRIPTION_CLAIM_SECONDS). */
  claimTtlMs: number;
  /** Deadline of each Redis call (MCP_SESSION_STORE_TIMEOUT_MS). */
  timeoutMs: number;
}

/** What the session's copies hear on its channel when its subscriptions change (McpSessionBus). */
const CHANGED: BusMessage = { t: "s" };

/**
 * Adds a subscription unless held, within the bound, to a session that still exists; expires
 * with the session's record (whose TTL every request slides, with this one's: the directory's
 * TOUCH). Tells the session's copies on its channel, in the same atomic step.
 * Returns 1 added, 0 present, -1 full, -2 no such session.
 */
const ADD = `
local ttl = redis.call('PTTL', KEYS[2])
if ttl <= 0 then return -2 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1`;

/** Removes a subscription and, when there was one, tells the session's copies. */
const REMOVE = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return 0`;

/**
 * Claims sending one update: only while the session still holds the subscription (an unsubscribe
 * on another copy that this one has not heard of yet sends nothing), and only once per change.
 */
const CLAIM = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 1 end
return 0`;

/** A session's subscriptions as one copy uses them: the store, plus the resync its owner triggers. */
export interface SessionSubscriptions extends SharedSubscriptionStore {
  /** Makes the copy follow the stored set (when it changed elsewhere, and once when rebuilt). */
  resync(signal: AbortSignal): Promise<void>;
}

/**
 * The resource subscriptions of MCP sessions shared across instances (SESSION_BACKEND=redis,
 * ADR 0183): a hash per session under its owner's slot tag, next to its record, so the record's
 * expiry, DELETE, eviction and erasure take them along. A change to the set is published on the
 * session's channel (McpSessionBus), where every copy hears it and resyncs.
 */
export class McpSessionSubscriptions {
  readonly #options: McpSessionSubscriptionsOptions;

  constructor(options: McpSessionSubscriptionsOptions) {
    this.#options = options;
  }

  /** The subscriptions of one session, for one copy of it. */
  forSession(sessionId: string, ownerId: string, channel: string): SessionSubscriptions {
    const keys = mcpSessionKeys(this.#options.keyPrefix, ownerId);
    const key = keys.subscriptions(sessionId);
    const call = (args: string[], signal: AbortSignal) =>
      sessionStoreCall(this.#options.client, args, {
        what: "MCP subscription store",
        timeoutMs: this.#options.timeoutMs,
        signal,
      });
    const { claimTtlMs } = this.#options;
    const resyncs = new Set<(signal: AbortSignal) => Promise<void>>();
    return {
      async add(uri, subscriber, max, signal) {
        const outcome = Number(
          await call(
            [
              "EVAL",
              ADD,
              "2",
              key,
              keys.record(sessionId),
              uri,
              JSON.stringify(subscriber),
              String(max),
              channel,
              JSON.stringify(CHANGED),
            ],
            signal,
          ),
        );
        if (outcome === -2) {
          throw new ProtocolError(ProtocolErrorCode.InvalidRequest, "This MCP session has ended.");
        }
        return outcome === 1 ? "added" : outcome === 0 ? "present" : "full";
      },
      async remove(uri, signal) {
        await call(["EVAL", REMOVE, "1", key, uri, channel, JSON.stringify(CHANGED)], signal);
      },
      async list(signal) {
        const flat = (await call(["HGETALL", key], signal)) as string[] | Record<string, string>;
        // node-redis answers HGETALL through sendCommand as a flat array.
        const entries = Array.isArray(flat)
          ? Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]] as const)
          : Object.entries(flat);
        const stored = new Map<string, SubscriberRecord | null>();
        for (const [uri, raw] of entries) {
          if (uri === undefined || raw === undefined) continue;
          stored.set(uri, parseSubscriber(raw));
        }
        return stored;
      },
      async claim(uri, changeId, signal) {
        const claimed = await call(
          ["EVAL", CLAIM, "2", key, keys.claim(sessionId, changeId, uri), uri, String(claimTtlMs)],
          signal,
        );
        return Number(claimed) === 1;
      },
      watch(resync) {
        resyncs.add(resync);
        return () => resyncs.delete(resync);
      },
      async resync(signal) {
        await Promise.all([...resyncs].map((each) => each(signal)));
      },
    };
  }
}

/** A stored subscriber; anything unreadable counts as none (no update is sent for it). */
function parseSubscriber(raw: string): SubscriberRecord | null {
  try {
    const value = JSON.parse(raw) as SubscriberRecord | null;
    if (value && typeof value.userId === "string" && Array.isArray(value.roles)) return value;
  } catch {
    // Fall through: a corrupt entry is treated as a public one, which sends nothing.
  }
  return null;
}
