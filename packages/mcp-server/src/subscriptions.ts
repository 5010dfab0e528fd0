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

export interface ResourceSubscriptionOptions {
  access: ToolAccess;
  principalOf: (ctx: ServerContext) => Principal;
  changes: ConversationChangeBus;
  /** Subscriptions one session may hold at once; one more is refused with a clear error. */
  maxSubscriptions: number;
  /** Resources anyone may subscribe to (fixtures that never change); every other URI must be a conversation. */
  publicUris?: ReadonlySet<string>;
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

/**
 * resources/subscribe and resources/unsubscribe for one session. A conversation subscription
 * needs the viewer relation when it is made and again before each update is sent (a grant can be
 * withdrawn in between); updates come from the process's change bus and carry the URI the client
 * subscribed to. Closing the session releases every subscription.
 */
export function trackResourceSubscriptions(server: McpServer, options: ResourceSubscriptionOptions): void {
  const { access, principalOf, changes, maxSubscriptions, publicUris, logger } = options;
  const subscriptions = new Map<string, Subscription>();
  const closed = new AbortController();

  const notifyUpdated = async (uri: string, principal: Principal, key: string) => {
    if (closed.signal.aborted) return;
    try {
      await access.requireConversation(principal, "viewer", key, closed.signal);
      await server.server.sendResourceUpdated({ uri });
    } catch (error) {
      // A withdrawn grant or a closed session just means no update: nothing to report to anyone.
      logger.debug({ err: isMcpServerError(error) ? error.code : String(error) }, "resource update not sent");
    }
  };

  server.server.setRequestHandler("resources/subscribe", async (request, ctx) => {
    const { uri } = request.params;
    if (subscriptions.has(uri)) return {};
    if (subscriptions.size >= maxSubscriptions) {
      throw limitReached(maxSubscriptions);
    }
    if (publicUris?.has(uri)) {
      subscriptions.set(uri, { stop() {} });
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
    // Checked again after the await: two concurrent subscribes must not both pass the bound.
    if (subscriptions.has(uri)) return {};
    if (subscriptions.size >= maxSubscriptions || closed.signal.aborted) {
      throw limitReached(maxSubscriptions);
    }
    const stop = changes.subscribe(key, () => void notifyUpdated(uri, principal, key));
    subscriptions.set(uri, { stop });
    return {};
  });

  server.server.setRequestHandler("resources/unsubscribe", async (request) => {
    subscriptions.get(request.params.uri)?.stop();
    subscriptions.delete(request.params.uri);
    return {};
  });

  const previousOnClose = server.server.onclose;
  server.server.onclose = () => {
    closed.abort();
    for (const subscription of subscriptions.values()) subscription.stop();
    subscriptions.clear();
    previousOnClose?.();
  };
}
