import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BindToolsInput,
} from "@langchain/core/language_models/chat_models";
import {
  AIMessage,
  AIMessageChunk,
  type BaseMessage,
  isAIMessage,
  isHumanMessage,
  isToolMessage,
  type UsageMetadata,
} from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import type { Runnable } from "@langchain/core/runnables";
import { findArithmeticExpression } from "./arithmetic.js";
import { estimateTokens } from "./usage.js";

export const OFFLINE_NOTICE = "[offline mode: no LLM provider configured]";
const CALCULATOR_TOOL = "calculator";
const ECHO_LIMIT = 160;

export interface OfflineChatModelCallOptions extends BaseChatModelCallOptions {
  /** Names of the tools bound with `bindTools`; the offline model only ever calls `calculator`. */
  toolNames?: string[];
}

type OfflineReply =
  | { kind: "text"; text: string }
  | { kind: "tool_call"; id: string; name: string; args: { expression: string } };

/**
 * The embedded default chat model: deterministic, no network, no key. It exists so
 * the whole agent loop (tool call → tool result → answer) runs on a fresh machine:
 * an arithmetic question with a bound `calculator` tool yields a tool call, a tool
 * result yields a sentence quoting it, anything else a short echo. Every reply says
 * it is offline so nobody mistakes it for a real model.
 */
export class OfflineChatModel extends BaseChatModel<OfflineChatModelCallOptions> {
  static override lc_name() {
    return "OfflineChatModel";
  }

  _llmType() {
    return "offline";
  }

  override bindTools(
    tools: BindToolsInput[],
    kwargs?: Partial<OfflineChatModelCallOptions>,
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, OfflineChatModelCallOptions> {
    return this.withConfig({ ...kwargs, toolNames: tools.map(toolName) });
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    options.signal?.throwIfAborted();
    const reply = decideReply(messages, options.toolNames ?? []);
    const usage = usageFor(messages, reply);
    const message =
      reply.kind === "text"
        ? new AIMessage({
            content: reply.text,
            usage_metadata: usage,
            response_metadata: responseMetadata(reply),
          })
        : new AIMessage({
            content: "",
            tool_calls: [{ id: reply.id, name: reply.name, args: reply.args, type: "tool_call" }],
            usage_metadata: usage,
            response_metadata: responseMetadata(reply),
          });
    const text = reply.kind === "text" ? reply.text : "";
    return { generations: [{ text, message }], llmOutput: { tokenUsage: usage } };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const reply = decideReply(messages, options.toolNames ?? []);
    if (reply.kind === "tool_call") {
      options.signal?.throwIfAborted();
      yield new ChatGenerationChunk({
        text: "",
        message: new AIMessageChunk({
          content: "",
          tool_call_chunks: [
            {
              id: reply.id,
              name: reply.name,
              args: JSON.stringify(reply.args),
              index: 0,
              type: "tool_call_chunk",
            },
          ],
        }),
      });
    } else {
      for (const token of reply.text.match(/\S+\s*/g) ?? []) {
        options.signal?.throwIfAborted();
        // Yield to the event loop between tokens, as a network stream would.
        await Promise.resolve();
        yield new ChatGenerationChunk({ text: token, message: new AIMessageChunk({ content: token }) });
        await runManager?.handleLLMNewToken(token);
      }
    }
    yield new ChatGenerationChunk({
      text: "",
      message: new AIMessageChunk({
        content: "",
        usage_metadata: usageFor(messages, reply),
        response_metadata: responseMetadata(reply),
      }),
    });
  }
}

export function createOfflineChatModel(): OfflineChatModel {
  return new OfflineChatModel({});
}

function toolName(tool: BindToolsInput): string {
  const candidate = tool as { name?: unknown; function?: { name?: unknown } };
  if (typeof candidate.name === "string") return candidate.name;
  if (typeof candidate.function?.name === "string") return candidate.function.name;
  return "";
}

function decideReply(messages: BaseMessage[], toolNames: string[]): OfflineReply {
  const last = messages.at(-1);
  if (last && isToolMessage(last)) {
    const expression = findCallExpression(messages, last.tool_call_id);
    const result = textOf(last).trim();
    const subject = expression
      ? `${expression} is ${result}`
      : `the ${last.name ?? "tool"} result is ${result}`;
    return { kind: "text", text: `The answer: ${subject}. ${OFFLINE_NOTICE}` };
  }
  const question = [...messages].reverse().find((message) => isHumanMessage(message));
  const text = question ? textOf(question).replace(/\s+/g, " ").trim() : "";
  const expression = findArithmeticExpression(text);
  if (expression && toolNames.includes(CALCULATOR_TOOL)) {
    const callNumber = messages.filter((message) => isAIMessage(message)).length + 1;
    return {
      kind: "tool_call",
      id: `offline_call_${callNumber}`,
      name: CALCULATOR_TOOL,
      args: { expression },
    };
  }
  if (!text) return { kind: "text", text: `Nothing to answer. ${OFFLINE_NOTICE}` };
  const echo = text.length > ECHO_LIMIT ? `${text.slice(0, ECHO_LIMIT)}…` : text;
  return {
    kind: "text",
    text: `${OFFLINE_NOTICE} I cannot reason about your message without a model; you said: "${echo}"`,
  };
}

function findCallExpression(messages: BaseMessage[], toolCallId: string): string | undefined {
  for (const message of messages) {
    if (!isAIMessage(message)) continue;
    const call = message.tool_calls?.find((candidate) => candidate.id === toolCallId);
    const expression = call?.args?.expression;
    if (typeof expression === "string") return expression;
  }
  return undefined;
}

function textOf(message: BaseMessage): string {
  if (typeof message.content === "string") return message.content;
  return message.content
    .map((block) => (block.type === "text" && typeof block.text === "string" ? block.text : ""))
    .join("");
}

function usageFor(messages: BaseMessage[], reply: OfflineReply): UsageMetadata {
  const input_tokens = messages.reduce((sum, message) => sum + estimateTokens(textOf(message)), 0);
  const output_tokens = estimateTokens(reply.kind === "text" ? reply.text : JSON.stringify(reply.args));
  return { input_tokens, output_tokens, total_tokens: input_tokens + output_tokens };
}

function responseMetadata(reply: OfflineReply) {
  const finish_reason = reply.kind === "tool_call" ? "tool_calls" : "stop";
  return { model_name: "offline", model_provider: "offline", finish_reason };
}
