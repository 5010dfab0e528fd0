import { type BaseMessage, isAIMessage } from "@langchain/core/messages";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { convertToOpenAITool } from "@langchain/core/utils/function_calling";

/**
 * A cheap, tokenizer-free token estimate (ADR 0130): about four characters a token, as for
 * English text with the GPT, Claude and Gemini tokenizers, plus a few tokens of framing per
 * message. Only string lengths are read, so it costs microseconds on a long thread. It
 * underestimates scripts that take a token per character (Chinese, Japanese): set the context
 * budget lower for those.
 */
export const CHARS_PER_TOKEN = 4;
const MESSAGE_OVERHEAD_TOKENS = 4;

export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** The text, plus for an assistant message the names and JSON arguments of its tool calls. */
export function estimateMessageTokens(message: BaseMessage): number {
  let chars = message.text.length;
  if (isAIMessage(message)) {
    for (const call of message.tool_calls ?? []) chars += call.name.length + JSON.stringify(call.args).length;
  }
  return MESSAGE_OVERHEAD_TOKENS + Math.ceil(chars / CHARS_PER_TOKEN);
}

/** Tool definitions travel with every model call: their JSON schemas count against the context. */
export function estimateToolTokens(tools: readonly StructuredToolInterface[]): number {
  return tools.reduce((sum, tool) => sum + estimateTextTokens(JSON.stringify(convertToOpenAITool(tool))), 0);
}
