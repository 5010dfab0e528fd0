import { type BaseMessage, isAIMessage, isHumanMessage, isToolMessage } from "@langchain/core/messages";
import { CHARS_PER_TOKEN } from "./token-estimate.js";

/** A message as one line of plain text, for a summariser or judge that reads, not continues, the conversation. */
function renderMessage(message: BaseMessage): string | undefined {
  if (isHumanMessage(message)) return `user: ${message.text}`;
  if (isToolMessage(message)) return `tool ${message.name ?? ""}: ${message.text}`;
  if (isAIMessage(message)) {
    const calls = (message.tool_calls ?? []).map((call) => `${call.name}(${JSON.stringify(call.args)})`);
    const text = message.text ? ` ${message.text}` : "";
    return `assistant:${text}${calls.length > 0 ? ` [called ${calls.join(", ")}]` : ""}`;
  }
  return undefined;
}

export function clip(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, Math.max(0, maxChars - 14))} …[truncated]`;
}

/**
 * The messages as plain-text chunks of at most `maxTokens` (estimated) each, split between
 * messages; a single message longer than a chunk is clipped to it. Rendering as text, not as chat
 * messages, means no provider rule about tool calls and their results applies to the chunks.
 */
export function transcriptChunks(messages: readonly BaseMessage[], maxTokens: number): string[] {
  const maxChars = Math.max(1, maxTokens) * CHARS_PER_TOKEN;
  const chunks: string[] = [];
  let current = "";
  for (const message of messages) {
    const line = renderMessage(message);
    if (line === undefined) continue;
    const clipped = clip(line, maxChars);
    if (current && current.length + 1 + clipped.length > maxChars) {
      chunks.push(current);
      current = "";
    }
    current = current ? `${current}\n${clipped}` : clipped;
  }
  if (current) chunks.push(current);
  return chunks;
}
