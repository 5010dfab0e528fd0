import { randomUUID } from "node:crypto";
import {
  type AIMessage,
  type BaseMessage,
  isAIMessage,
  isHumanMessage,
  isToolMessage,
  ToolMessage,
} from "@langchain/core/messages";

export interface ConversationMessage {
  readonly role: "user" | "assistant" | "tool";
  readonly content: string;
  /** For `tool` messages: the tool that produced the content. */
  readonly toolName?: string;
  /** For `assistant` messages that asked for tools. */
  readonly toolCalls?: readonly { readonly name: string; readonly args: Readonly<Record<string, unknown>> }[];
  /** ISO-8601 time the agent stored the message. */
  readonly createdAt?: string;
}

/** A thread's messages as reads hand them out: deeply frozen, so a cache can share them between callers. */
export type Conversation = readonly ConversationMessage[];

// response_metadata is never sent to a provider, so the timestamp travels with the message at no cost.
const CREATED_AT_KEY = "mcp_langgraph_created_at";

export function stampCreatedAt<T extends BaseMessage>(message: T, now = new Date()): T {
  message.response_metadata = { ...message.response_metadata, [CREATED_AT_KEY]: now.toISOString() };
  return message;
}

export function toConversationMessages(messages: readonly BaseMessage[]): ConversationMessage[] {
  const conversation: ConversationMessage[] = [];
  for (const message of messages) {
    const converted = toConversationMessage(message);
    if (converted) conversation.push(converted);
  }
  return conversation;
}

/**
 * Freezes `messages` and everything in them, in place. Only for freshly decoded messages: tool-call
 * arguments are frozen too, and they are the decoded checkpoint's own objects.
 */
export function freezeConversation(messages: ConversationMessage[]): Conversation {
  for (const message of messages) {
    for (const call of message.toolCalls ?? []) deepFreeze(call);
    Object.freeze(message.toolCalls);
    Object.freeze(message);
  }
  return Object.freeze(messages);
}

/** Tool-call arguments are parsed JSON: plain objects and arrays, no cycles. */
function deepFreeze(value: unknown) {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

function toConversationMessage(message: BaseMessage): ConversationMessage | undefined {
  const createdAt = (message.response_metadata as Record<string, unknown> | undefined)?.[CREATED_AT_KEY];
  const base = { content: message.text, ...(typeof createdAt === "string" ? { createdAt } : {}) };
  if (isHumanMessage(message)) return { role: "user", ...base };
  if (isToolMessage(message)) {
    return { role: "tool", ...base, ...(message.name ? { toolName: message.name } : {}) };
  }
  if (isAIMessage(message)) {
    const toolCalls = (message.tool_calls ?? []).map((call) => ({ name: call.name, args: call.args }));
    return { role: "assistant", ...base, ...(toolCalls.length > 0 ? { toolCalls } : {}) };
  }
  return undefined;
}

/**
 * Tool calls of the thread's last assistant message that never got a result:
 * left behind when a turn was cancelled or hit the step limit. Providers reject
 * a history with unanswered calls, so the next turn answers them first.
 */
export function closeUnansweredToolCalls(messages: readonly BaseMessage[]): ToolMessage[] {
  const lastAssistantIndex = messages.findLastIndex((message) => isAIMessage(message));
  const lastAssistant = messages[lastAssistantIndex];
  if (!lastAssistant || !isAIMessage(lastAssistant)) return [];
  const answered = new Set(
    messages
      .slice(lastAssistantIndex + 1)
      .filter((message) => isToolMessage(message))
      .map((message) => message.tool_call_id),
  );
  return (lastAssistant.tool_calls ?? [])
    .filter((call) => call.id !== undefined && !answered.has(call.id))
    .map((call) =>
      stampCreatedAt(
        new ToolMessage({
          content: "Not run: the previous turn ended before this tool call completed.",
          tool_call_id: call.id!,
          name: call.name,
          status: "error",
        }),
      ),
    );
}

/**
 * Gives a fresh id to each tool call of `response` whose id already has a result in the thread.
 * LangGraph's ToolNode skips a call it finds answered, so a reused id would loop the turn to its
 * step limit. Models that number calls per request reuse ids (the offline model does; some
 * OpenAI-compatible servers send `call_0` each time), and with compaction a request no longer
 * shows the earlier calls that would have made the numbers unique.
 */
export function freshenReusedToolCallIds(response: AIMessage, messages: readonly BaseMessage[]): void {
  const calls = response.tool_calls ?? [];
  if (calls.length === 0) return;
  const answered = new Set(
    messages.filter((message) => isToolMessage(message)).map((message) => message.tool_call_id),
  );
  for (const call of calls) {
    if (call.id === undefined || !answered.has(call.id)) continue;
    const fresh = `call_${randomUUID()}`;
    // The provider-format copy, which some integrations send back instead of tool_calls.
    for (const raw of (response.additional_kwargs?.tool_calls ?? []) as { id?: string }[]) {
      if (raw.id === call.id) raw.id = fresh;
    }
    call.id = fresh;
  }
}
