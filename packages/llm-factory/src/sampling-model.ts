import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BindToolsInput,
} from "@langchain/core/language_models/chat_models";
import {
  AIMessage,
  type AIMessageChunk,
  type BaseMessage,
  isAIMessage,
  isSystemMessage,
  isToolMessage,
  type ToolCall,
} from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import type { Runnable } from "@langchain/core/runnables";
import { convertToOpenAITool } from "@langchain/core/utils/function_calling";
import { LlmError } from "./errors.js";
import { estimateTokens } from "./usage.js";

// Plain mirrors of MCP's sampling/createMessage types (spec 2025-11-25, with SEP-1577
// tool use), so this package stays transport-agnostic and free of the MCP SDK.
export interface SamplingTextContent {
  type: "text";
  text: string;
}
export interface SamplingToolUseContent {
  type: "tool_use";
  id: string;
  name: string;
  input: Record<string, unknown>;
}
export interface SamplingToolResultContent {
  type: "tool_result";
  toolUseId: string;
  content: SamplingTextContent[];
  isError?: boolean;
}
/** Image and audio blocks pass through untouched; this model neither sends nor reads them. */
export interface SamplingOtherContent {
  type: "image" | "audio";
  data: string;
  mimeType: string;
}
export type SamplingContent =
  | SamplingTextContent
  | SamplingToolUseContent
  | SamplingToolResultContent
  | SamplingOtherContent;

export interface SamplingMessage {
  role: "user" | "assistant";
  content: SamplingContent | SamplingContent[];
}

export interface SamplingTool {
  name: string;
  description?: string;
  inputSchema: { type: "object"; [key: string]: unknown };
}

export interface SamplingModelPreferences {
  hints?: { name?: string }[];
  costPriority?: number;
  speedPriority?: number;
  intelligencePriority?: number;
}

export interface SamplingRequest {
  messages: SamplingMessage[];
  systemPrompt?: string;
  maxTokens: number;
  temperature?: number;
  stopSequences?: string[];
  modelPreferences?: SamplingModelPreferences;
  includeContext?: "none";
  tools?: SamplingTool[];
  toolChoice?: { mode?: "auto" | "required" | "none" };
}

export interface SamplingResponse {
  /** MCP types it as a Role; clients answer as the assistant. */
  role: "user" | "assistant";
  content: SamplingContent | SamplingContent[];
  model: string;
  stopReason?: string;
}

/** The MCP side: forwards the request as sampling/createMessage to the connected client. */
export type SampleFunction = (
  request: SamplingRequest,
  options: { signal: AbortSignal },
) => Promise<SamplingResponse>;

export interface SamplingChatModelFields {
  sample: SampleFunction;
  /** MCP requires a token budget on every request (default 4 096). */
  maxTokens?: number;
  temperature?: number;
  modelPreferences?: SamplingModelPreferences;
}

export interface SamplingChatModelCallOptions extends BaseChatModelCallOptions {
  samplingTools?: SamplingTool[];
}

/**
 * A chat model answered by the MCP client's own model through sampling: no API key
 * on this server. Messages and tools are translated to MCP's createMessage shape;
 * MCP reports no token counts, so usage is estimated from text length.
 */
export class SamplingChatModel extends BaseChatModel<SamplingChatModelCallOptions> {
  readonly #fields: SamplingChatModelFields;

  constructor(fields: SamplingChatModelFields) {
    super({});
    this.#fields = fields;
  }

  static override lc_name() {
    return "SamplingChatModel";
  }

  _llmType() {
    return "mcp-sampling";
  }

  override bindTools(
    tools: BindToolsInput[],
    kwargs?: Partial<SamplingChatModelCallOptions>,
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, SamplingChatModelCallOptions> {
    return this.withConfig({ ...kwargs, samplingTools: tools.map(toSamplingTool) });
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    const signal = options.signal ?? new AbortController().signal;
    signal.throwIfAborted();
    const request = this.#request(messages, options);
    const response = await this.#fields.sample(request, { signal });
    const message = toAIMessage(response, request);
    return { generations: [{ text: message.text, message }] };
  }

  #request(messages: BaseMessage[], options: this["ParsedCallOptions"]): SamplingRequest {
    const system = messages.filter((message) => isSystemMessage(message)).map((message) => message.text);
    const request: SamplingRequest = {
      messages: toSamplingMessages(messages.filter((message) => !isSystemMessage(message))),
      maxTokens: this.#fields.maxTokens ?? 4096,
      includeContext: "none",
    };
    if (system.length > 0) request.systemPrompt = system.join("\n\n");
    if (this.#fields.temperature !== undefined) request.temperature = this.#fields.temperature;
    if (this.#fields.modelPreferences) request.modelPreferences = this.#fields.modelPreferences;
    if (options.stop?.length) request.stopSequences = options.stop;
    if (options.samplingTools?.length) {
      request.tools = options.samplingTools;
      const mode = toolChoiceMode(options.tool_choice);
      if (mode) request.toolChoice = { mode };
    }
    return request;
  }
}

function toSamplingTool(tool: BindToolsInput): SamplingTool {
  const { function: definition } = convertToOpenAITool(tool);
  const tool_: SamplingTool = {
    name: definition.name,
    inputSchema: { type: "object", ...(definition.parameters as Record<string, unknown>) },
  };
  if (definition.description) tool_.description = definition.description;
  return tool_;
}

function toolChoiceMode(choice: unknown): "auto" | "required" | "none" | undefined {
  if (choice === "auto" || choice === "none") return choice;
  if (choice === "any" || choice === "required") return "required";
  return undefined;
}

function toSamplingMessages(messages: BaseMessage[]): SamplingMessage[] {
  const result: SamplingMessage[] = [];
  for (const message of messages) {
    if (isToolMessage(message)) {
      const block: SamplingToolResultContent = {
        type: "tool_result",
        toolUseId: message.tool_call_id,
        content: [{ type: "text", text: message.text }],
      };
      if (message.status === "error") block.isError = true;
      // MCP wants all results of one assistant turn in a single user message.
      const previous = result.at(-1);
      if (
        previous?.role === "user" &&
        Array.isArray(previous.content) &&
        previous.content[0]?.type === "tool_result"
      ) {
        previous.content.push(block);
      } else {
        result.push({ role: "user", content: [block] });
      }
      continue;
    }
    if (isAIMessage(message)) {
      const blocks: SamplingContent[] = [];
      if (message.text) blocks.push({ type: "text", text: message.text });
      for (const call of message.tool_calls ?? []) {
        blocks.push({ type: "tool_use", id: call.id ?? call.name, name: call.name, input: call.args });
      }
      result.push({ role: "assistant", content: blocks.length === 1 ? blocks[0]! : blocks });
      continue;
    }
    result.push({ role: "user", content: { type: "text", text: message.text } });
  }
  return result;
}

function toAIMessage(response: SamplingResponse, request: SamplingRequest): AIMessage {
  if (!response || typeof response !== "object" || response.content === undefined) {
    throw new LlmError("LLM_BAD_RESPONSE", "the MCP client returned a sampling result without content", {
      details: { provider: "sampling" },
    });
  }
  const blocks = Array.isArray(response.content) ? response.content : [response.content];
  const text = blocks
    .filter((block): block is SamplingTextContent => block.type === "text")
    .map((block) => block.text)
    .join("");
  const toolCalls: ToolCall[] = blocks
    .filter((block): block is SamplingToolUseContent => block.type === "tool_use")
    .map((block) => ({ id: block.id, name: block.name, args: block.input, type: "tool_call" }));
  const input_tokens = estimateTokens(JSON.stringify(request.messages) + (request.systemPrompt ?? ""));
  const output_tokens = estimateTokens(text + (toolCalls.length ? JSON.stringify(toolCalls) : ""));
  return new AIMessage({
    content: text,
    tool_calls: toolCalls,
    usage_metadata: { input_tokens, output_tokens, total_tokens: input_tokens + output_tokens },
    response_metadata: {
      model_name: response.model,
      model_provider: "mcp-sampling",
      stop_reason: response.stopReason,
      usage_estimated: true,
    },
  });
}
