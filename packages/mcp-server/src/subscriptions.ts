import type { Principal } from "@mcp-langgraph/auth-provider";
import type { Logger } from "@mcp-langgraph/core";
import {
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type ServerContext,
} from "@modelcontextprotocol/server";
import type { ToolAccess } from "./access.js";
import type { ConversationChangeBus } from "./change-bus.js";
import { isMcpServerError } from "./errors.js";
import { conversationKey, threadIdSchema } from "./thread-keys.js";

export const CONVERSATION_URI_PREFIX = "conversation://";
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION = 100;

/**
 * Who made a stored subscription: what the `viewer` check before each update reads (the user and
 * the roles its contextual tuples come from), and nothing else of the token. Null for a public URI.
 */
export interface SubscriberRecord {
  userId: string;
  roles: string[];
}

/**
 * One session's subscriptions kept outside its server, shared by the session's copies on several
 * instances (the HTTP app's Redis store, ADR 0183). Every method bounds its I/O by `signal` and its
 * own deadline.
 */
export interface SharedSubscriptionStore {
  /** Adds `uri` unless the session holds it; refuses beyond `max` (atomically across copies). */
  add(
    uri: string,
    subscriber: SubscriberRecord | null,
    max: number,
    signal: AbortSignal,
  ): Promise<"added" | "present" | "full">;
  remove(uri: string, signal: AbortSignal): Promise<void>;
  /** Every subscription of the session. */
  list(signal: AbortSignal): Promise<Map<string, SubscriberRecord | null>>;
  /**
   * True for exactly one caller per (uri, change id), and only while the session holds `uri`: the
   * copy that sends this update.
   */
  claim(uri: string, changeId: string, signal: AbortSignal): Promise<boolean>;
  /**
   * Registers the copy's resync (re-read the set and follow it). The store's owner calls it when
   * the set changed on another copy and when a copy is rebuilt; returns the function that stops it.
   */
  watch(resync: (signal: AbortSignal) => Promise<void>): () => void;
}

export interface ResourceSubscriptionOptions {
  access: ToolAccess;
  principalOf: (ctx: ServerContext) => Principal;
  changes: ConversationChangeBus;
  /** Subscriptions one session may hold at once; one more is refused with a clear error. */
  maxSubscriptions: number;
  /** Resources anyone may subscribe to (fixtures that never change); every other URI must be a conversation. */
  publicUris?: ReadonlySet<string>;
  /** Set when the session is shared across instances: the subscriptions live there, not in this copy. */
  shared?: SharedSubscriptionStore;
  /** Deadline of each call to the shared store made outside a request (a resync, a claim). */
  sharedTimeoutMs?: number;
  logger: Logger;
}

const limitReached = (max: number) =>
  new ProtocolError(
    ProtocolErrorCode.InvalidRequest,
    `This session already holds ${max} resource subscriptions, the limit (MAX_SUBSCRIPTIONS_PER_SESSION); unsubscribe from one first.`,
  );

interface Subscription {
  stop(): void;
}

/** The principal a stored subscription is checked as: the check reads only the user and its roles. */
function principalOfRecord(record: SubscriberRecord): Principal {
  return {
    userId: record.userId,
    username: record.userId,
    roles: record.roles,
    scopes: [],
    expiresAt: new Date(8.64e15),
    claims: {},
  };
}

/** The conversation a URI names for `userId`, or undefined for a URI that is no conversation. */
function conversationOf(uri: string, userId: string): string | undefined {
  if (!uri.startsWith(CONVERSATION_URI_PREFIX)) return undefined;
  const threadId = threadIdSchema.safeParse(uri.slice(CONVERSATION_URI_PREFIX.length));
  return threadId.success ? conversationKey(userId, threadId.data) : undefined;
}

/**
 * resources/subscribe and resources/unsubscribe for one session. A conversation subscription
 * needs the viewer relation when it is made and again before each update is sent (a grant can be
 * withdrawn in between); updates come from the change bus and carry the URI the client subscribed
 * to. Closing the session releases every subscription.
 *
 * With a shared store (SESSION_BACKEND=redis) the store is the source of truth: this copy listens
 * for the URIs the store holds (resynced when another copy changes them), and of all the copies
 * that hear one change, the one that claims it sends the update (ADR 0183).
 */
export function trackResourceSubscriptions(server: McpServer, options: ResourceSubscriptionOptions): void {
  const { access, principalOf, changes, maxSubscriptions, publicUris, shared, logger } = options;
  const subscriptions = new Map<string, Subscription>();
  const closed = new AbortController();
  const sharedDeadline = () =>
    AbortSignal.any([closed.signal, AbortSignal.timeout(options.sharedTimeoutMs ?? 2_000)]);

  const notifyUpdated = async (uri: string, principal: Principal, key: string, changeId: string) => {
    if (closed.signal.aborted) return;
    try {
      // Claimed first: one viewer check per change, by the copy that sends.
      if (shared && !(await shared.claim(uri, changeId, sharedDeadline()))) return;
      await access.requireConversation(principal, "viewer", key, closed.signal);
      await server.server.sendResourceUpdated({ uri });
    } catch (error) {
      // A withdrawn grant or a closed session just means no update: nothing to report to anyone.
      logger.debug({ err: isMcpServerError(error) ? error.code : String(error) }, "resource update not sent");
    }
  };
  const listen = (uri: string, principal: Principal, key: string): Subscription => ({
    stop: changes.subscribe(key, (_, changeId) => void notifyUpdated(uri, principal, key, changeId)),
  });
  const quiet: Subscription = { stop() {} };

  /** Follows the shared set: listens for the URIs it holds, stops for the ones it no longer does. */
  const resync = async (signal: AbortSignal) => {
    if (!shared) return;
    const stored = await shared.list(signal);
    if (closed.signal.aborted) return;
    for (const [uri, subscription] of subscriptions) {
      if (stored.has(uri)) continue;
      subscription.stop();
      subscriptions.delete(uri);
    }
    for (const [uri, record] of stored) {
      if (subscriptions.has(uri)) continue;
      const key = record ? conversationOf(uri, record.userId) : undefined;
      subscriptions.set(uri, record && key ? listen(uri, principalOfRecord(record), key) : quiet);
    }
  };
  const stopWatching = shared?.watch(resync);

  server.server.setRequestHandler("resources/subscribe", async (request, ctx) => {
    const { uri } = request.params;
    // Shared: always asked of the store, which counts every copy's subscriptions (this copy's map
    // is only a view of them, and may not have heard of another copy's unsubscribe yet).
    if (!shared) {
      if (subscriptions.has(uri)) return {};
      if (subscriptions.size >= maxSubscriptions) throw limitReached(maxSubscriptions);
    }
    if (publicUris?.has(uri)) {
      if (shared && (await shared.add(uri, null, maxSubscriptions, ctx.mcpReq.signal)) === "full") {
        throw limitReached(maxSubscriptions);
      }
      if (!subscriptions.has(uri)) subscriptions.set(uri, quiet);
      return {};
    }
    const threadId = uri.startsWith(CONVERSATION_URI_PREFIX)
      ? threadIdSchema.safeParse(uri.slice(CONVERSATION_URI_PREFIX.length))
      : undefined;
    if (!threadId?.success) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        "Only conversation://{thread_id} resources can be subscribed to.",
      );
    }
    const principal = principalOf(ctx);
    const key = conversationKey(principal.userId, threadId.data);
    try {
      await access.requireConversation(principal, "viewer", key, ctx.mcpReq.signal, threadId.data);
    } catch (error) {
      if (isMcpServerError(error)) throw new Error(error.message);
      throw error;
    }
    if (shared) {
      const subscriber = { userId: principal.userId, roles: principal.roles };
      const added = await shared.add(uri, subscriber, maxSubscriptions, ctx.mcpReq.signal);
      if (added === "full") throw limitReached(maxSubscriptions);
      // A resync that heard of this add may have started listening already.
      if (!subscriptions.has(uri) && !closed.signal.aborted)
        subscriptions.set(uri, listen(uri, principal, key));
      return {};
    }
    // Checked again after the await: two concurrent subscribes must not both pass the bound.
    if (subscriptions.has(uri)) return {};
    if (subscriptions.size >= maxSubscriptions || closed.signal.aborted) {
      throw limitReached(maxSubscriptions);
    }
    subscriptions.set(uri, listen(uri, principal, key));
    return {};
  });

  server.server.setRequestHandler("resources/unsubscribe", async (request, ctx) => {
    // Removed everywhere first: a store that cannot be reached leaves the subscription as it was.
    await shared?.remove(request.params.uri, ctx.mcpReq.signal);
    subscriptions.get(request.params.uri)?.stop();
    subscriptions.delete(request.params.uri);
    return {};
  });

  const previousOnClose = server.server.onclose;
  server.server.onclose = () => {
    closed.abort();
    stopWatching?.();
    for (const subscription of subscriptions.values()) subscription.stop();
    subscriptions.clear();
    previousOnClose?.();
  };
}
