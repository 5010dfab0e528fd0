import type { Agent } from "@mcp-langgraph/agent-graph";
import type { Principal } from "@mcp-langgraph/auth-provider";
import { type McpServer, ResourceTemplate, type ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ToolAccess } from "./access.js";
import { threadIdSchema } from "./agent-tools.js";
import { isMcpServerError } from "./errors.js";

export interface ConversationResourceOptions {
  agent: Agent;
  access: ToolAccess;
  principalOf: (ctx: ServerContext) => Principal;
}

/**
 * Conversations as resources (`conversation://<thread_id>`) and a prompt that
 * asks the client's model to summarise one. Reads go through the same viewer
 * check as the conversation_get tool.
 */
export function registerConversationResources(server: McpServer, options: ConversationResourceOptions): void {
  const { agent, access, principalOf } = options;

  const readTranscript = async (threadIdInput: unknown, ctx: ServerContext) => {
    const threadId = threadIdSchema.parse(threadIdInput);
    const principal = principalOf(ctx);
    await access.requireConversation(principal, "viewer", threadId, ctx.mcpReq.signal);
    const messages = (await agent.getConversation(threadId, { signal: ctx.mcpReq.signal })) ?? [];
    return { threadId, text: messages.map((m) => `${m.role}: ${m.content}`).join("\n") };
  };

  server.registerResource(
    "conversation",
    new ResourceTemplate("conversation://{thread_id}", {
      list: async (ctx) => {
        const threadIds = await access.viewableConversations(principalOf(ctx), ctx.mcpReq.signal);
        return {
          resources: threadIds.map((threadId) => ({
            uri: `conversation://${threadId}`,
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
