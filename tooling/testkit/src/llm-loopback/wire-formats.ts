import type { ServerResponse } from "node:http";
import { type RecordedRequest, sendJson, startEventStream } from "./loopback-server.ts";

/**
 * The providers a loopback server can play; a subset of llm-factory's `ProviderName`, spelled out
 * here because the testkit must not depend on the packages whose tests use it (no workspace cycle).
 */
export type LoopbackProvider =
  | "openai"
  | "anthropic"
  | "google"
  | "ollama"
  | "azure"
  | "bedrock"
  | "openai-compatible";

/** The part of llm-factory's `LoopbackModelOptions` a wire format fills in; assignable to it. */
export interface LoopbackModelOptions {
  provider: LoopbackProvider;
  model: string;
  apiKey?: string;
  baseUrl?: string;
  azure?: { endpoint?: string; deploymentName?: string; apiVersion?: string };
  bedrock?: { region?: string; accessKeyId?: string; secretAccessKey?: string };
}

export interface Reply {
  /** The answer, as the pieces a stream sends. */
  parts: string[];
  toolCall?: { id: string; name: string; args: Record<string, unknown> };
  inputTokens: number;
  outputTokens: number;
}

/** How one vendor's HTTP API looks on the wire, enough for the real @langchain client. */
export interface WireFormat {
  provider: LoopbackProvider;
  /** The vendor's SDK speaks HTTP/2 (AWS). */
  http2?: boolean;
  /** Whether the vendor can stream through this loopback server. */
  streams: boolean;
  /** Whether the SDK surfaces the server's requested wait (header or RetryInfo) to us. */
  carriesRetryAfter: boolean;
  /** Whether the SDK sends through the factory's keep-alive pool (Gemini and Bedrock keep their own transport). */
  pooled: boolean;
  model: string;
  /** Options pointing the factory at a loopback server. */
  options(baseUrl: string): LoopbackModelOptions;
  /** The header that carries the key, to check keys are not leaked across providers. */
  keyOf(request: RecordedRequest): string | undefined;
  isStreaming(request: RecordedRequest): boolean;
  /** Writes a complete success response, streaming or not as the request asked. */
  reply(request: RecordedRequest, response: ServerResponse, reply: Reply): void;
  /**
   * Starts a stream, sends `parts` and leaves it open (the caller then hangs or drops it); the
   * stream's usage reports `inputTokens` where the wire carries it there.
   */
  partialStream(response: ServerResponse, parts: string[], inputTokens?: number): void;
  error(response: ServerResponse, status: number, headers?: Record<string, string>): void;
}

// Every response gets its own id, as with real vendors (LangGraph merges messages by id).
let responseNumber = 0;
export const nextResponse = () => {
  responseNumber++;
};

const sse = (response: ServerResponse, data: unknown, event?: string) =>
  response.write(`${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`);

const openAIChunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: `chatcmpl-${responseNumber}`,
  object: "chat.completion.chunk",
  created: 1_700_000_000,
  model: "gpt-4o-mini",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

function openAIFormat(
  provider: LoopbackProvider,
  model: string,
  options: (url: string) => LoopbackModelOptions,
): WireFormat {
  return {
    provider,
    model,
    streams: true,
    carriesRetryAfter: true,
    pooled: true,
    options,
    keyOf: (request) => String(request.headers.authorization ?? request.headers["api-key"] ?? ""),
    isStreaming: (request) => (request.body as { stream?: boolean }).stream === true,
    reply(request, response, reply) {
      nextResponse();
      const toolCalls = reply.toolCall
        ? [
            {
              id: reply.toolCall.id,
              type: "function",
              function: { name: reply.toolCall.name, arguments: JSON.stringify(reply.toolCall.args) },
            },
          ]
        : undefined;
      const usage = {
        prompt_tokens: reply.inputTokens,
        completion_tokens: reply.outputTokens,
        total_tokens: reply.inputTokens + reply.outputTokens,
      };
      if (!this.isStreaming(request)) {
        sendJson(response, 200, {
          id: `chatcmpl-${responseNumber}`,
          object: "chat.completion",
          created: 1_700_000_000,
          model,
          choices: [
            {
              index: 0,
              message: { role: "assistant", content: reply.parts.join("") || null, tool_calls: toolCalls },
              finish_reason: toolCalls ? "tool_calls" : "stop",
            },
          ],
          usage,
        });
        return;
      }
      startEventStream(response);
      sse(response, openAIChunk({ role: "assistant", content: "" }));
      for (const part of reply.parts) sse(response, openAIChunk({ content: part }));
      if (toolCalls?.[0]) {
        const [call] = toolCalls;
        sse(
          response,
          openAIChunk({
            tool_calls: [
              {
                index: 0,
                id: call.id,
                type: "function",
                function: { name: call.function.name, arguments: "" },
              },
            ],
          }),
        );
        sse(
          response,
          openAIChunk({ tool_calls: [{ index: 0, function: { arguments: call.function.arguments } }] }),
        );
      }
      sse(response, openAIChunk({}, toolCalls ? "tool_calls" : "stop"));
      sse(response, { ...openAIChunk({}), choices: [], usage });
      response.end("data: [DONE]\n\n");
    },
    partialStream(response, parts) {
      nextResponse();
      startEventStream(response);
      sse(response, openAIChunk({ role: "assistant", content: "" }));
      for (const part of parts) sse(response, openAIChunk({ content: part }));
    },
    error(response, status, headers) {
      sendJson(
        response,
        status,
        { error: { message: `loopback status ${status}`, type: "loopback_error", code: null } },
        headers,
      );
    },
  };
}

export const openAIWire = openAIFormat("openai", "gpt-4o-mini", (baseUrl) => ({
  provider: "openai",
  model: "gpt-4o-mini",
  apiKey: "sk-openai-test",
  baseUrl: `${baseUrl}/v1`,
}));

export const openAICompatibleWire = openAIFormat("openai-compatible", "qwen2.5-7b-instruct", (baseUrl) => ({
  provider: "openai-compatible",
  model: "qwen2.5-7b-instruct",
  baseUrl: `${baseUrl}/v1`,
}));

export const azureWire = openAIFormat("azure", "gpt-4o-mini", (baseUrl) => ({
  provider: "azure",
  model: "gpt-4o-mini",
  apiKey: "azure-test-key",
  azure: { endpoint: baseUrl, deploymentName: "chat-deployment", apiVersion: "2024-10-21" },
}));

export const anthropicWire: WireFormat = {
  provider: "anthropic",
  streams: true,
  carriesRetryAfter: true,
  pooled: true,
  model: "claude-3-5-haiku-latest",
  options: (baseUrl) => ({
    provider: "anthropic",
    model: "claude-3-5-haiku-latest",
    apiKey: "sk-ant-test",
    baseUrl,
  }),
  keyOf: (request) => String(request.headers["x-api-key"] ?? ""),
  isStreaming: (request) => (request.body as { stream?: boolean }).stream === true,
  reply(request, response, reply) {
    nextResponse();
    const content: unknown[] = [];
    const text = reply.parts.join("");
    if (text) content.push({ type: "text", text });
    if (reply.toolCall) {
      content.push({
        type: "tool_use",
        id: reply.toolCall.id,
        name: reply.toolCall.name,
        input: reply.toolCall.args,
      });
    }
    const stopReason = reply.toolCall ? "tool_use" : "end_turn";
    if (!this.isStreaming(request)) {
      sendJson(response, 200, {
        id: `msg_${responseNumber}`,
        type: "message",
        role: "assistant",
        model: this.model,
        content,
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { input_tokens: reply.inputTokens, output_tokens: reply.outputTokens },
      });
      return;
    }
    this.partialStream(response, reply.parts, reply.inputTokens);
    if (reply.parts.length > 0) sse(response, { type: "content_block_stop", index: 0 }, "content_block_stop");
    if (reply.toolCall) {
      const index = reply.parts.length > 0 ? 1 : 0;
      sse(
        response,
        {
          type: "content_block_start",
          index,
          content_block: { type: "tool_use", id: reply.toolCall.id, name: reply.toolCall.name, input: {} },
        },
        "content_block_start",
      );
      sse(
        response,
        {
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json: JSON.stringify(reply.toolCall.args) },
        },
        "content_block_delta",
      );
      sse(response, { type: "content_block_stop", index }, "content_block_stop");
    }
    sse(
      response,
      {
        type: "message_delta",
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: { output_tokens: reply.outputTokens },
      },
      "message_delta",
    );
    sse(response, { type: "message_stop" }, "message_stop");
    response.end();
  },
  // Streamed usage matches the JSON reply's: input tokens in message_start, output in message_delta.
  partialStream(response, parts, inputTokens = 12) {
    nextResponse();
    startEventStream(response);
    sse(
      response,
      {
        type: "message_start",
        message: {
          id: `msg_${responseNumber}`,
          type: "message",
          role: "assistant",
          model: "claude-3-5-haiku-latest",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: inputTokens, output_tokens: 0 },
        },
      },
      "message_start",
    );
    if (parts.length === 0) return;
    sse(
      response,
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      "content_block_start",
    );
    for (const part of parts) {
      sse(
        response,
        { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: part } },
        "content_block_delta",
      );
    }
  },
  error(response, status, headers) {
    const type = status === 529 ? "overloaded_error" : status === 429 ? "rate_limit_error" : "api_error";
    sendJson(
      response,
      status,
      { type: "error", error: { type, message: `loopback status ${status}` } },
      headers,
    );
  },
};

export const ollamaWire: WireFormat = {
  provider: "ollama",
  streams: true,
  // ollama-js keeps only status and message of an error response.
  carriesRetryAfter: false,
  pooled: true,
  model: "llama3.2",
  options: (baseUrl) => ({ provider: "ollama", model: "llama3.2", baseUrl }),
  keyOf: () => undefined,
  isStreaming: (request) => (request.body as { stream?: boolean }).stream !== false,
  reply(request, response, reply) {
    nextResponse();
    this.partialStream(response, reply.parts);
    const toolCalls = reply.toolCall
      ? [{ function: { name: reply.toolCall.name, arguments: reply.toolCall.args } }]
      : undefined;
    response.end(
      `${JSON.stringify({
        model: this.model,
        created_at: "2026-01-01T00:00:00Z",
        message: { role: "assistant", content: "", tool_calls: toolCalls },
        done: true,
        done_reason: "stop",
        prompt_eval_count: reply.inputTokens,
        eval_count: reply.outputTokens,
      })}\n`,
    );
    void request;
  },
  partialStream(response, parts) {
    nextResponse();
    startEventStream(response, "application/x-ndjson");
    for (const part of parts) {
      response.write(
        `${JSON.stringify({ model: "llama3.2", created_at: "2026-01-01T00:00:00Z", message: { role: "assistant", content: part }, done: false })}\n`,
      );
    }
  },
  error(response, status, headers) {
    sendJson(response, status, { error: `loopback status ${status}` }, headers);
  },
};

export const geminiWire: WireFormat = {
  provider: "google",
  streams: true,
  carriesRetryAfter: true,
  pooled: false,
  model: "gemini-2.0-flash",
  options: (baseUrl) => ({
    provider: "google",
    model: "gemini-2.0-flash",
    apiKey: "google-test-key",
    baseUrl,
  }),
  keyOf: (request) => String(request.headers["x-goog-api-key"] ?? ""),
  isStreaming: (request) => request.url.includes(":streamGenerateContent"),
  reply(request, response, reply) {
    nextResponse();
    const usageMetadata = {
      promptTokenCount: reply.inputTokens,
      candidatesTokenCount: reply.outputTokens,
      totalTokenCount: reply.inputTokens + reply.outputTokens,
    };
    const toolPart = reply.toolCall
      ? [{ functionCall: { name: reply.toolCall.name, args: reply.toolCall.args } }]
      : [];
    if (!this.isStreaming(request)) {
      const text = reply.parts.join("");
      sendJson(response, 200, {
        candidates: [
          {
            content: { role: "model", parts: [...(text ? [{ text }] : []), ...toolPart] },
            finishReason: "STOP",
            index: 0,
          },
        ],
        usageMetadata,
      });
      return;
    }
    this.partialStream(response, reply.parts);
    response.end(
      `data: ${JSON.stringify({
        candidates: [
          {
            content: { role: "model", parts: toolPart.length ? toolPart : [{ text: "" }] },
            finishReason: "STOP",
            index: 0,
          },
        ],
        usageMetadata,
      })}\r\n\r\n`,
    );
  },
  partialStream(response, parts) {
    nextResponse();
    startEventStream(response);
    for (const part of parts) {
      response.write(
        `data: ${JSON.stringify({ candidates: [{ content: { role: "model", parts: [{ text: part }] }, index: 0 }] })}\r\n\r\n`,
      );
    }
  },
  error(response, status, headers) {
    const state = status === 429 ? "RESOURCE_EXHAUSTED" : status === 503 ? "UNAVAILABLE" : "INTERNAL";
    // Gemini states the wait in a RetryInfo detail rather than a header.
    const retryAfter = headers?.["retry-after"];
    const details = retryAfter
      ? [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${retryAfter}s` }]
      : undefined;
    const error = { code: status, message: `loopback status ${status}`, status: state, details };
    sendJson(response, status, { error });
  },
};
