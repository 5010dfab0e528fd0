import { AsyncLocalStorage } from "node:async_hooks";
import type { Principal } from "@mcp-langgraph/auth-provider";
import type { Logger } from "@mcp-langgraph/core";
import type { ServerEvent, ServerEventBus } from "@modelcontextprotocol/server";
import type { ToolAccess } from "./access.js";
import type { ConversationChangeBus } from "./change-bus.js";
import { McpServerError } from "./errors.js";
import { CONVERSATION_URI_PREFIX } from "./subscriptions.js";
import { conversationKey, threadIdSchema } from "./thread-keys.js";

/** The conversations one `subscriptions/listen` stream may hear of, checked before it opens. */
interface ListenGrant {
  principal: Principal;
  /** Subscribed URI → the caller's conversation key behind it. */
  conversations: Map<string, string>;
}

export interface ConversationListensOptions {
  access: ToolAccess;
  changes: ConversationChangeBus;
  /** Resource URIs one listen stream may name (the MAX_SUBSCRIPTIONS_PER_SESSION bound of sessions). */
  maxUris: number;
  logger: Logger;
}

/**
 * `subscriptions/listen` for conversation resources on the 2026-07-28 protocol (ADR 0187). The
 * SDK's handler owns the stream (acknowledgement, subscription ids, keep-alive, shutdown) and asks
 * its `ServerEventBus` for events; this is that bus. Every stream gets only its own caller's
 * conversations: `authorize` checks each URI (viewer) before the handler opens the stream, and the
 * stream's bus subscription, made while the handler serves that request, is bound to the grant
 * through async context. Updates come from the conversation change bus and are checked again
 * (viewer) before each is sent, as for sessions' resources/subscribe.
 */
export class ConversationListens {
  readonly #options: ConversationListensOptions;
  readonly #grants = new AsyncLocalStorage<ListenGrant>();

  constructor(options: ConversationListensOptions) {
    this.#options = options;
  }

  /** The bus for `createMcpHandler({ bus })`: it publishes nothing of its own. */
  readonly bus: ServerEventBus = {
    publish: () => {},
    subscribe: (listener) => this.#subscribe(listener),
  };

  /**
   * Checks the listen request's resource URIs for `principal` and runs `serve` (the handler) with
   * the grant bound. A URI that is no conversation, or one the caller may not view, refuses the
   * whole listen with an McpServerError before any stream opens.
   */
  async authorize<T>(
    principal: Principal,
    params: unknown,
    signal: AbortSignal,
    serve: () => Promise<T>,
  ): Promise<T> {
    const uris = (params as { notifications?: { resourceSubscriptions?: unknown } } | undefined)
      ?.notifications?.resourceSubscriptions;
    const list = Array.isArray(uris) ? uris : [];
    if (list.length > this.#options.maxUris) {
      throw new McpServerError(
        "FORBIDDEN",
        `A listen stream may name at most ${this.#options.maxUris} resources (MAX_SUBSCRIPTIONS_PER_SESSION).`,
      );
    }
    const requested = list.map((uri) => {
      const threadId =
        typeof uri === "string" && uri.startsWith(CONVERSATION_URI_PREFIX)
          ? threadIdSchema.safeParse(uri.slice(CONVERSATION_URI_PREFIX.length))
          : undefined;
      if (!threadId?.success) {
        throw new McpServerError(
          "FORBIDDEN",
          "Only conversation://{thread_id} resources can be listened to.",
        );
      }
      return {
        uri: uri as string,
        threadId: threadId.data,
        key: conversationKey(principal.userId, threadId.data),
      };
    });
    // Checked together: with a remote authorizer each check is a round trip of its own.
    await Promise.all(
      requested.map(({ key, threadId }) =>
        this.#options.access.requireConversation(principal, "viewer", key, signal, threadId),
      ),
    );
    const conversations = new Map(requested.map(({ uri, key }) => [uri, key]));
    return this.#grants.run({ principal, conversations }, serve);
  }

  #subscribe(listener: (event: ServerEvent) => void): () => void {
    const grant = this.#grants.getStore();
    // A stream opened without a grant hears nothing (fail closed).
    if (!grant) return () => {};
    const stopped = new AbortController();
    const stops = [...grant.conversations].map(([uri, key]) =>
      this.#options.changes.subscribe(
        key,
        () => void this.#notify(listener, grant.principal, uri, key, stopped.signal),
      ),
    );
    return () => {
      stopped.abort();
      for (const stop of stops) stop();
    };
  }

  async #notify(
    listener: (event: ServerEvent) => void,
    principal: Principal,
    uri: string,
    key: string,
    stopped: AbortSignal,
  ): Promise<void> {
    try {
      // A grant withdrawn since the stream opened means no more updates.
      await this.#options.access.requireConversation(principal, "viewer", key, stopped);
      if (!stopped.aborted) listener({ kind: "resource_updated", uri });
    } catch (error) {
      this.#options.logger.debug(
        { err: error instanceof Error ? error.message : String(error) },
        "listen update not sent",
      );
    }
  }
}
