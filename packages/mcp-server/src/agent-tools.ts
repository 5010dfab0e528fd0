import { randomUUID } from "node:crypto";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { Agent } from "@mcp-langgraph/agent-graph";
import type { Principal } from "@mcp-langgraph/auth-provider";
import type { McpServer, ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ConversationAccess, ToolAccess } from "./access.js";
import { type ToolFailureReporter, toolError, toolText } from "./results.js";

/** Thread ids travel in authz object names and checkpoint keys: keep them to a safe alphabet. */
export const threadIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, "thread_id must be 1-128 characters of A-Z, a-z, 0-9, '_' or '-'");

export interface AgentToolsOptions {
  agent: Agent;
  /** A model for this call instead of the agent's own (e.g. the client's, via sampling). */
  modelForCall: () => Promise<BaseChatModel | undefined>;
  access: ToolAccess;
  principalOf: (ctx: ServerContext) => Principal;
  reportFailure: ToolFailureReporter;
  maxMessageChars: number;
  maxSearchResults: number;
}

export function registerAgentTools(server: McpServer, options: AgentToolsOptions): void {
  const { agent, access, modelForCall, principalOf, reportFailure, maxMessageChars, maxSearchResults } =
    options;

  server.registerTool(
    "agent_chat",
    {
      title: "Chat with the agent",
      description:
        "Send a message to the LangGraph agent and get its reply. Pass thread_id to continue one of your conversations; omit it to start a new one (its id is returned).",
      inputSchema: z.object({
        message: z.string().min(1).max(maxMessageChars).describe("Your message to the agent"),
        thread_id: threadIdSchema.optional().describe("Conversation to continue; omit to start a new one"),
      }),
      outputSchema: z.object({ thread_id: z.string(), reply: z.string(), created: z.boolean() }),
      annotations: { readOnlyHint: false, openWorldHint: true },
    },
    async ({ message, thread_id }, ctx) => {
      const signal = ctx.mcpReq.signal;
      try {
        const principal = principalOf(ctx);
        await access.requireTool(principal, "agent_chat", signal);
        const threadId = thread_id ?? randomUUID();
        const model = await modelForCall();
        let opened: ConversationAccess | undefined;
        const result = await agent.chat({
          threadId,
          message,
          signal,
          userId: principal.userId,
          // Claimed only once the turn is admitted: a refused or invalid call takes no thread id.
          onAdmitted: async (turnSignal) => {
            opened = await access.openConversation(principal, threadId, turnSignal);
          },
          ...(model ? { model } : {}),
        });
        const structured = { thread_id: threadId, reply: result.reply, created: opened === "created" };
        return { content: [toolText(result.reply)], structuredContent: structured };
      } catch (error) {
        return toolError(error, "agent_chat", reportFailure);
      }
    },
  );

  server.registerTool(
    "conversation_get",
    {
      title: "Read a conversation",
      description: "Return the messages of one of your conversations.",
      inputSchema: z.object({ thread_id: threadIdSchema.describe("Conversation id returned by agent_chat") }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ thread_id }, ctx) => {
      const signal = ctx.mcpReq.signal;
      try {
        const principal = principalOf(ctx);
        await access.requireTool(principal, "conversation_get", signal);
        await access.requireConversation(principal, "viewer", thread_id, signal);
        const messages = (await agent.getConversation(thread_id, { signal })) ?? [];
        const transcript = messages.map((m) => `${m.role}: ${m.content}`).join("\n");
        return {
          content: [toolText(transcript || "(no messages yet)")],
          structuredContent: {
            thread_id,
            messages: messages.map(({ role, content }) => ({ role, content })),
          },
        };
      } catch (error) {
        return toolError(error, "conversation_get", reportFailure);
      }
    },
  );

  server.registerTool(
    "conversation_search",
    {
      title: "Search your conversations",
      description: "Case-insensitive search over the messages of the conversations you may read.",
      inputSchema: z.object({
        query: z.string().min(1).max(500).describe("Text to look for"),
        limit: z.number().int().min(1).max(maxSearchResults).optional().describe("Most results to return"),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ query, limit }, ctx) => {
      const signal = ctx.mcpReq.signal;
      try {
        const principal = principalOf(ctx);
        await access.requireTool(principal, "conversation_search", signal);
        const threadIds = await access.viewableConversations(principal, signal);
        const hits = await agent.searchConversations(threadIds, query, {
          limit: limit ?? maxSearchResults,
          signal,
        });
        const text = hits.length
          ? hits.map((hit) => `[${hit.threadId}#${hit.index}] ${hit.role}: ${hit.content}`).join("\n")
          : `No messages matching "${query}".`;
        return { content: [toolText(text)], structuredContent: { query, hits } };
      } catch (error) {
        return toolError(error, "conversation_search", reportFailure);
      }
    },
  );
}

export const AGENT_TOOL_NAMES = ["agent_chat", "conversation_get", "conversation_search"] as const;
