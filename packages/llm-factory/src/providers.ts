import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { fetchBoundToCallSignal } from "./call-signal.js";
import { LlmError } from "./errors.js";
import { createOfflineChatModel } from "./offline-model.js";
import type { ChatModelOptions, ProviderName } from "./options.js";

export const DEFAULT_OLLAMA_BASE_URL = "http://127.0.0.1:11434";
// The openai SDK refuses to start without a key; self-hosted OpenAI-compatible servers often need none.
const NO_KEY_PLACEHOLDER = "not-needed";

/**
 * The endpoint a model calls, as far as its options say (none: the SDK's default host). A model's
 * bulkhead, circuit breaker and connection pool are per endpoint.
 */
export function providerEndpoint(provider: string, options: ChatModelOptions): string {
  const url =
    provider === "azure"
      ? (options.azure?.endpoint ?? options.baseUrl ?? options.azure?.instanceName)
      : provider === "bedrock"
        ? (options.baseUrl ?? options.bedrock?.region)
        : options.baseUrl;
  return `${provider} ${url ?? ""}`;
}

/**
 * Builds the maintained @langchain integration for one provider with its own
 * retries switched off (the resilient wrapper owns retry, deadline and breaker),
 * and every value passed explicitly so the integrations never fall back to
 * reading process.env themselves. Each integration is imported on first use:
 * an offline-only app never loads five vendor SDKs (the AWS one alone is large).
 * `pooledFetch` gives the fetch over the endpoint's keep-alive pool, for the SDKs
 * that take one.
 */
export async function buildProviderModel(
  provider: ProviderName,
  model: string,
  options: ChatModelOptions,
  pooledFetch: () => Promise<typeof fetch>,
): Promise<BaseChatModel> {
  const common = { model, temperature: options.temperature, maxRetries: 0 };
  switch (provider) {
    case "offline":
      return createOfflineChatModel();
    case "openai": {
      const { ChatOpenAI } = await import("@langchain/openai");
      return new ChatOpenAI({
        ...common,
        apiKey: requireKey(provider, options.apiKey),
        maxTokens: options.maxTokens,
        streamUsage: true,
        configuration: { baseURL: options.baseUrl, fetch: await pooledFetch() },
      });
    }
    case "openai-compatible": {
      if (!options.baseUrl) {
        throw new LlmError("LLM_CONFIG", "provider openai-compatible needs a base URL (OPENAI_BASE_URL)");
      }
      const { ChatOpenAI } = await import("@langchain/openai");
      return new ChatOpenAI({
        ...common,
        apiKey: options.apiKey || NO_KEY_PLACEHOLDER,
        maxTokens: options.maxTokens,
        streamUsage: true,
        configuration: { baseURL: options.baseUrl, fetch: await pooledFetch() },
      });
    }
    case "azure": {
      const azure = options.azure ?? {};
      const endpoint = azure.endpoint ?? options.baseUrl;
      if (!endpoint && !azure.instanceName) {
        throw new LlmError(
          "LLM_CONFIG",
          "provider azure needs an endpoint (AZURE_OPENAI_ENDPOINT) or instance name",
        );
      }
      const { AzureChatOpenAI } = await import("@langchain/openai");
      return new AzureChatOpenAI({
        ...common,
        maxTokens: options.maxTokens,
        streamUsage: true,
        azureOpenAIApiKey: requireKey(provider, options.apiKey),
        azureOpenAIEndpoint: endpoint,
        azureOpenAIApiInstanceName: endpoint ? undefined : azure.instanceName,
        azureOpenAIApiDeploymentName: azure.deploymentName ?? model,
        azureOpenAIApiVersion: azure.apiVersion ?? "2024-10-21",
        configuration: { fetch: await pooledFetch() },
      });
    }
    case "anthropic": {
      const { ChatAnthropic } = await import("@langchain/anthropic");
      return new ChatAnthropic({
        ...common,
        apiKey: requireKey(provider, options.apiKey),
        anthropicApiUrl: options.baseUrl,
        maxTokens: options.maxTokens ?? 4096,
        streamUsage: true,
        clientOptions: { fetch: await pooledFetch() },
      });
    }
    case "google": {
      const { ChatGoogleGenerativeAI } = await import("@langchain/google-genai");
      const gemini = new ChatGoogleGenerativeAI({
        ...common,
        // @langchain/google-genai 2.3.2 does not hand the call's AbortSignal to non-streaming
        // requests, so a cancelled or timed-out call would leave its HTTP request running.
        // Its streaming path does pass the signal; invoke() then assembles the chunks.
        // No pooled fetch: @google/generative-ai 0.24 calls the global fetch and takes no other,
        // so Gemini keeps Node's fetch and its 4 s keep-alive (ADR 0045).
        streaming: true,
        apiKey: requireKey(provider, options.apiKey),
        baseUrl: options.baseUrl,
        maxOutputTokens: options.maxTokens,
        streamUsage: true,
      });
      observeGeminiStreamSummaries(gemini);
      return gemini;
    }
    case "ollama": {
      const { ChatOllama } = await import("@langchain/ollama");
      return new ChatOllama({
        ...common,
        baseUrl: options.baseUrl ?? DEFAULT_OLLAMA_BASE_URL,
        numPredict: options.maxTokens,
        fetch: fetchBoundToCallSignal(await pooledFetch()),
      });
    }
    case "bedrock":
      return buildBedrockModel(model, options);
  }
}

async function buildBedrockModel(model: string, options: ChatModelOptions): Promise<BaseChatModel> {
  const bedrock = options.bedrock ?? {};
  if (!bedrock.region) throw new LlmError("LLM_CONFIG", "provider bedrock needs a region (AWS_REGION)");
  if (Boolean(bedrock.accessKeyId) !== Boolean(bedrock.secretAccessKey)) {
    throw new LlmError(
      "LLM_CONFIG",
      "provider bedrock needs both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (default credential chain)",
    );
  }
  const credentials =
    bedrock.accessKeyId && bedrock.secretAccessKey
      ? {
          accessKeyId: bedrock.accessKeyId,
          secretAccessKey: bedrock.secretAccessKey,
          sessionToken: bedrock.sessionToken,
        }
      : undefined;
  const [{ BedrockRuntimeClient }, { ChatBedrockConverse }] = await Promise.all([
    import("@aws-sdk/client-bedrock-runtime"),
    import("@langchain/aws"),
  ]);
  // Our own client: the integration only takes an https host name (no gateway or test URL) and leaves
  // the SDK's own retries on, which would multiply ours. No credentials means the AWS default chain.
  // Its transport stays the SDK's: HTTP/2 with a session per call (the runtime client sets
  // disableConcurrentStreams, and event streams always get their own), so no pool here (ADR 0045).
  const client = new BedrockRuntimeClient({
    region: bedrock.region,
    endpoint: options.baseUrl,
    credentials,
    maxAttempts: 1,
  });
  return new ChatBedrockConverse({
    model,
    temperature: options.temperature,
    maxTokens: options.maxTokens,
    maxRetries: 0,
    region: bedrock.region,
    credentials,
    client,
    streamUsage: true,
  });
}

interface GeminiStreamingClient {
  generateContentStream(...args: unknown[]): Promise<{ response: Promise<unknown> }>;
}

/**
 * @google/generative-ai returns `{ stream, response }` for a streaming call, and
 * `response` rejects too when the stream fails (malformed data, dropped connection).
 * @langchain/google-genai reads only `stream`, so that rejection goes unhandled and
 * would take the whole process down. The error still reaches us through `stream`;
 * here its duplicate is observed.
 */
function observeGeminiStreamSummaries(model: BaseChatModel) {
  const client = (model as unknown as { client?: Partial<GeminiStreamingClient> }).client;
  const original = client?.generateContentStream;
  if (!client || typeof original !== "function") return;
  client.generateContentStream = async (...args: unknown[]) => {
    const result = await original.apply(client, args);
    result.response.catch(() => {});
    return result;
  };
}

function requireKey(provider: ProviderName, apiKey: string | undefined): string {
  if (!apiKey) throw new LlmError("LLM_CONFIG", `provider ${provider} needs an API key`);
  return apiKey;
}
