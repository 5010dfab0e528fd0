import type { Agent } from "@mcp-langgraph/agent-graph";
import type { Principal } from "@mcp-langgraph/auth-provider";
import { type McpServer, ResourceTemplate, type ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ToolAccess } from "./access.js";
import type { CompletionRouter } from "./completions.js";
import { isMcpServerError } from "./errors.js";
import { CONVERSATION_URI_PREFIX } from "./subscriptions.js";
import { clientThreadId, conversationKey, ownThreadId, threadIdSchema } from "./thread-keys.js";

export interface ConversationResourceOptions {
  agent: Agent;
  access: ToolAccess;
  principalOf: (ctx: ServerContext) => Principal;
  completions: CompletionRouter;
}

export const CONVERSATION_URI_TEMPLATE = `${CONVERSATION_URI_PREFIX}{thread_id}`;

/**
 * Conversations as resources (`conversation://<thread_id>`, the caller's own thread id) and a prompt that
 * asks the client's model to summarise one. Reads go through the same viewer
 * check as the conversation_get tool.
 */
export function registerConversationResources(server: McpServer, options: ConversationResourceOptions): void {
  const { agent, access, principalOf, completions } = options;

  const readTranscript = async (threadIdInput: unknown, ctx: ServerContext) => {
    const threadId = threadIdSchema.parse(threadIdInput);
    const principal = principalOf(ctx);
    const key = conversationKey(principal.userId, threadId);
    await access.requireConversation(principal, "viewer", key, ctx.mcpReq.signal, threadId);
    const messages = (await agent.getConversation(key, { signal: ctx.mcpReq.signal })) ?? [];
    return { threadId, text: messages.map((m) => `${m.role}: ${m.content}`).join("\n") };
  };

  /** The caller's own thread ids starting with `prefix`, sorted (conversations shared with it are not suggested). */
  const ownThreadIds = async (prefix: string, ctx: ServerContext) => {
    const principal = principalOf(ctx);
    const { userId } = principal;
    const keys = await access.viewableConversations(principal, ctx.mcpReq.signal);
    return keys
      .flatMap((key) => ownThreadId(userId, key) ?? [])
      .filter((threadId) => threadId.startsWith(prefix))
      .sort();
  };
  completions.forResourceTemplate(CONVERSATION_URI_TEMPLATE, "thread_id", ownThreadIds);
  completions.forPrompt("summarize_conversation", "thread_id", ownThreadIds);

  server.registerResource(
    "conversation",
    new ResourceTemplate(CONVERSATION_URI_TEMPLATE, {
      list: async (ctx) => {
        const principal = principalOf(ctx);
        const keys = await access.viewableConversations(principal, ctx.mcpReq.signal);
        const threadIds = keys.flatMap((key) => clientThreadId(principal.userId, key) ?? []);
        return {
          resources: threadIds.map((threadId) => ({
            uri: `${CONVERSATION_URI_PREFIX}${threadId}`,
            name: `conversation ${threadId}`,
            mimeType: "text/plain",
          })),
        };
      },
    }),
    {
      title: "Conversation transcript",
      description: "One of your agent conversations",
      mimeType: "text/plain",
    },
    async (uri, variables, ctx) => {
      try {
        const { text } = await readTranscript(variables.thread_id, ctx);
        return { contents: [{ uri: uri.href, mimeType: "text/plain", text }] };
      } catch (error) {
        // Resource reads have no isError result: a denial is a protocol error with the safe message.
        if (isMcpServerError(error)) throw new Error(error.message);
        throw error;
      }
    },
  );

  server.registerPrompt(
    "summarize_conversation",
    {
      title: "Summarise a conversation",
      description: "Ask the model to summarise one of your agent conversations.",
      argsSchema: z.object({ thread_id: threadIdSchema.describe("Conversation id") }),
    },
    async ({ thread_id }, ctx) => {
      try {
        const { text } = await readTranscript(thread_id, ctx);
        return {
          messages: [
            {
              role: "user" as const,
              content: {
                type: "text" as const,
                text: `Summarise this conversation in a few sentences:\n\n${text}`,
              },
            },
          ],
        };
      } catch (error) {
        if (isMcpServerError(error)) throw new Error(error.message);
        throw error;
      }
    },
  );
}
