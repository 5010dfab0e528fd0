import { randomUUID } from "node:crypto";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { Agent, AgentReply, ChatInput } from "@mcp-langgraph/agent-graph";
import type { Principal } from "@mcp-langgraph/auth-provider";
import type { Tracer } from "@mcp-langgraph/core";
import type { McpServer, RequestStateCodec, ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ConversationAccess, ToolAccess } from "./access.js";
import { runWithCallSampling } from "./call-sampling.js";
import type { ConversationChangeBus } from "./change-bus.js";
import { askForInput, pausedTurnOf, resumeOf } from "./input-required.js";
import { type McpObserver, observe } from "./observer.js";
import { type ToolFailureReporter, toolText } from "./results.js";
import type { SessionLog } from "./session-log.js";
import { clientThreadId, conversationKey, ownThreadId, threadIdSchema } from "./thread-keys.js";
import { defineTool, registerToolTable, type ToolCall, type ToolDefinition } from "./tool-table.js";
import { turnProgress } from "./turn-progress.js";
import { turnUsage, turnUsageSchema } from "./turn-usage.js";
import type { UsageLimits } from "./usage-limits.js";

export interface AgentToolsOptions {
  agent: Agent;
  /** A model for this call instead of the agent's own (e.g. the client's, via sampling). */
  modelForCall: () => Promise<BaseChatModel | undefined>;
  access: ToolAccess;
  principalOf: (ctx: ServerContext) => Principal;
  reportFailure: ToolFailureReporter;
  /** Told of every finished turn, so sessions subscribed to the conversation hear of it. */
  changes: ConversationChangeBus;
  sessionLog: SessionLog;
  maxMessageChars: number;
  maxSearchResults: number;
  /** Per-user tool-call and model-token limits; none when unset. */
  limits: UsageLimits | undefined;
  /** Told of every tool call and agent turn, with its outcome (metrics); none when unset. */
  observer?: McpObserver | undefined;
  /** More for each turn of this caller: upstream tools and the approval asker (none when unset). */
  turnExtras?: ((call: ToolCall) => Pick<ChatInput, "tools" | "approval">) | undefined;
  /** Least time between two progress notifications carrying answer text, per call (turn-progress.ts). */
  progressIntervalMs: number;
  /** Traces every tool call as a `tools/call <tool>` span; none when unset. */
  tracer?: Tracer | undefined;
  /**
   * 2026-07-28 requests only: a turn that pauses for the client's input (approval, sampling) ends
   * with an input_required result whose requestState `codec` seals, and the retry resumes it (ADR 0185).
   */
  inputRequired?: { codec: RequestStateCodec<unknown>; clientSamplesTools: () => boolean } | undefined;
}

export function registerAgentTools(server: McpServer, options: AgentToolsOptions): void {
  registerToolTable(server, agentToolTable(options), options);
}

/** The agent's MCP tools, each declared once; `registerToolTable` wraps them (ADR 0140). */
export function agentToolTable(options: AgentToolsOptions): ToolDefinition[] {
  const { agent, access, modelForCall, reportFailure, changes, sessionLog } = options;
  const { maxMessageChars, maxSearchResults, limits, observer, turnExtras, progressIntervalMs } = options;
  const { inputRequired } = options;

  /**
   * One turn. When the request carries a progress token, or the client asked for info-level log
   * messages, it runs as a stream (the model streams too) so the answer's text and each tool's start
   * and end can be reported as they happen: by name only, since arguments may hold what the user typed.
   */
  const runTurn = async (input: ChatInput, ctx: ServerContext): Promise<AgentReply> => {
    const progress = turnProgress(ctx, progressIntervalMs);
    const logTools = sessionLog.enabled(ctx, "info");
    if (!progress && !logTools) return agent.chat(input);
    try {
      for await (const event of agent.streamChat(input)) {
        if (event.type === "token") progress?.text(event.text);
        if (event.type === "tool_call") {
          progress?.tool(event.name, "start");
          if (logTools) await sessionLog.send(ctx, "info", { event: "tool_call", tool: event.name });
        }
        if (event.type === "tool_result") progress?.tool(event.name, "end");
        if (event.type === "reply") {
          // Every notification goes out before the answer: none may follow it.
          await progress?.flush();
          return event.reply;
        }
      }
    } finally {
      progress?.stop();
    }
    throw new Error("the agent's stream ended without a reply");
  };

  const agentChat = defineTool({
    name: "agent_chat",
    title: "Chat with the agent",
    description:
      "Send a message to the LangGraph agent and get its reply. Pass thread_id to continue one of your conversations; omit it to start a new one (its id is returned).",
    inputSchema: z.object({
      message: z.string().min(1).max(maxMessageChars).describe("Your message to the agent"),
      thread_id: threadIdSchema.optional().describe("Conversation to continue; omit to start a new one"),
    }),
    outputSchema: z.object({
      thread_id: z.string(),
      reply: z.string(),
      created: z.boolean(),
      // With AGENT_VERIFY=on: the judge's scores this turn and how often the answer was rewritten.
      verification: z.object({ scores: z.array(z.number()), refinements: z.number() }).optional(),
      usage: turnUsageSchema.optional(),
    }),
    annotations: { readOnlyHint: false, openWorldHint: true },
    relation: "executor",
    async handler({ message, thread_id }, call) {
      const { principal, signal, ctx } = call;
      // A retry of a paused turn names its conversation in the sealed state (the first call may have had none).
      const paused = inputRequired ? pausedTurnOf(ctx, thread_id) : undefined;
      const threadId = thread_id ?? paused?.thread ?? randomUUID();
      // Read before anything runs: a retry without a usable answer changes nothing.
      const resume = paused && resumeOf(paused, ctx);
      let endTurn: ((outcome: string) => void) | undefined;
      call.onFailure(async (code) => {
        endTurn?.(code);
        // Limits and cancellations are the caller's to retry; anything else is an error.
        const level = [
          "AGENT_BUSY",
          "CANCELLED",
          "LLM_TIMEOUT",
          "AGENT_TIMEOUT",
          "RATE_LIMITED",
          "RATE_LIMIT_UNAVAILABLE",
        ].includes(code)
          ? "warning"
          : "error";
        await sessionLog.send(ctx, level, { event: "turn_failed", thread_id: threadId, code });
      });
      const key = conversationKey(principal.userId, threadId);
      const model = await modelForCall();
      // The client's own model (sampling) costs the server nothing: only the server's model is metered.
      if (!model) await limits?.admitModelTurn(principal, signal);
      let opened: ConversationAccess | undefined;
      await sessionLog.send(ctx, "debug", { event: "turn_started", thread_id: threadId });
      const result = await runWithCallSampling(ctx, () =>
        runTurn(
          {
            threadId: key,
            message,
            signal,
            userId: principal.userId,
            // Claimed only once the turn is admitted: a refused or invalid call takes no thread id.
            onAdmitted: async (turnSignal) => {
              // A turn counts (in flight, duration) from admission: a queued or refused call is no turn.
              endTurn = observe(observer?.agentTurn);
              if (ownThreadId(principal.userId, key) !== undefined) {
                opened = await access.openConversation(principal, key, turnSignal);
              } else {
                // Someone else's conversation (shared as its full key): continued with editor, never created.
                await access.requireConversation(principal, "editor", key, turnSignal, threadId);
                opened = "editable";
              }
            },
            ...(model ? { model } : {}),
            ...(resume ? { resume } : {}),
            ...turnExtras?.(call),
          },
          ctx,
        ),
      );
      endTurn?.(result.pause ? "input_required" : "ok");
      // Not awaited: this process's sessions are told at once; the answer does not wait for a
      // shared bus to hand the change to the other instances (ADR 0182).
      void changes.publish(key).catch((error: unknown) => reportFailure("agent_chat", error));
      if (result.pause) {
        // Only a modern request's turn can pause (deferred approval, the client's model).
        if (!inputRequired) throw new Error("the turn paused on a request that cannot ask for input");
        await sessionLog.send(ctx, "info", { event: "turn_paused", thread_id: threadId });
        return askForInput(
          result.pause,
          threadId,
          inputRequired.codec,
          ctx,
          inputRequired.clientSamplesTools(),
        );
      }
      if (!model && result.usage) {
        // The reply is already paid for: a store that cannot count it is logged, not the caller's error.
        await limits
          ?.recordModelTokens(principal, result.usage.inputTokens + result.usage.outputTokens, signal)
          .catch((error: unknown) => reportFailure("agent_chat", error));
      }
      await sessionLog.send(ctx, "info", {
        event: "turn_finished",
        thread_id: threadId,
        ...(result.usage ? { usage: result.usage } : {}),
      });
      const structured = {
        thread_id: threadId,
        reply: result.reply,
        created: opened === "created",
        ...(result.verification ? { verification: result.verification } : {}),
        ...turnUsage(result.usage),
      };
      return { content: [toolText(result.reply)], structuredContent: structured };
    },
  });

  const conversationGet = defineTool({
    name: "conversation_get",
    title: "Read a conversation",
    description: "Return the messages of one of your conversations.",
    inputSchema: z.object({ thread_id: threadIdSchema.describe("Conversation id returned by agent_chat") }),
    annotations: { readOnlyHint: true, openWorldHint: false },
    relation: "executor",
    async handler({ thread_id }, { principal, signal }) {
      const key = conversationKey(principal.userId, thread_id);
      await access.requireConversation(principal, "viewer", key, signal, thread_id);
      const messages = (await agent.getConversation(key, { signal })) ?? [];
      const transcript = messages.map((m) => `${m.role}: ${m.content}`).join("\n");
      return {
        content: [toolText(transcript || "(no messages yet)")],
        structuredContent: {
          thread_id,
          messages: messages.map(({ role, content }) => ({ role, content })),
        },
      };
    },
  });

  const conversationSearch = defineTool({
    name: "conversation_search",
    title: "Search your conversations",
    description: "Case-insensitive search over the messages of the conversations you may read.",
    inputSchema: z.object({
      query: z.string().min(1).max(500).describe("Text to look for"),
      limit: z.number().int().min(1).max(maxSearchResults).optional().describe("Most results to return"),
    }),
    annotations: { readOnlyHint: true, openWorldHint: false },
    relation: "executor",
    async handler({ query, limit }, { principal, signal }) {
      // Searched by key, shown by the caller's thread id; objects that are no conversation key are skipped.
      const threadIdOf = new Map<string, string>();
      for (const key of await access.viewableConversations(principal, signal)) {
        const threadId = clientThreadId(principal.userId, key);
        if (threadId !== undefined) threadIdOf.set(key, threadId);
      }
      const found = await agent.searchConversations([...threadIdOf.keys()], query, {
        limit: limit ?? maxSearchResults,
        signal,
      });
      const hits = found.map((hit) => ({ ...hit, threadId: threadIdOf.get(hit.threadId) ?? hit.threadId }));
      const text = hits.length
        ? hits.map((hit) => `[${hit.threadId}#${hit.index}] ${hit.role}: ${hit.content}`).join("\n")
        : `No messages matching "${query}".`;
      return { content: [toolText(text)], structuredContent: { query, hits } };
    },
  });

  return [agentChat, conversationGet, conversationSearch] as ToolDefinition[];
}

export const AGENT_TOOL_NAMES = ["agent_chat", "conversation_get", "conversation_search"] as const;
