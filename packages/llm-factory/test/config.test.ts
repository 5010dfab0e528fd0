import { describe, expect, it } from "vitest";
import {
  type ChatModelOptions,
  chatModelOptionsFromConfig,
  createChatModel,
  inferProvider,
  isLlmError,
  type LlmConfigRecord,
  type LlmError,
  ResilientChatModel,
} from "../src/index.ts";

function configError(config: LlmConfigRecord): LlmError {
  try {
    chatModelOptionsFromConfig(config);
  } catch (error) {
    expect(isLlmError(error)).toBe(true);
    return error as LlmError;
  }
  throw new Error("expected LLM_CONFIG");
}

describe("inferProvider", () => {
  it.each([
    ["claude-3-5-haiku-latest", "anthropic", "claude-3-5-haiku-latest"],
    ["gpt-4o-mini", "openai", "gpt-4o-mini"],
    ["o3-mini", "openai", "o3-mini"],
    ["o1", "openai", "o1"],
    ["gemini-2.0-flash", "google", "gemini-2.0-flash"],
    ["ollama/llama3.2:8b", "ollama", "llama3.2:8b"],
    ["azure/my-deployment", "azure", "my-deployment"],
    ["bedrock/anthropic.claude-3-haiku-20240307-v1:0", "bedrock", "anthropic.claude-3-haiku-20240307-v1:0"],
    ["openai-compatible/meta-llama/Llama-3-8B", "openai-compatible", "meta-llama/Llama-3-8B"],
  ])("infers %s → %s", (name, provider, model) => {
    expect(inferProvider(name)).toEqual({ provider, model });
  });

  it.each(["llama3", "mistral-large", "meta-llama/Llama-3-8B", "omni"])("refuses to guess for %s", (name) => {
    expect(inferProvider(name)).toBeUndefined();
  });
});

describe("chatModelOptionsFromConfig", () => {
  it("gives the offline model for an empty configuration", async () => {
    const options = chatModelOptionsFromConfig({});
    expect(options).toEqual({ provider: "offline", model: "offline" });
    expect((await createChatModel(options))._llmType()).toBe("offline");
  });

  it("builds a primary with fallbacks, each with its own provider's key", () => {
    const options = chatModelOptionsFromConfig({
      MODEL_NAME: "gpt-4o-mini",
      FALLBACK_MODELS: " claude-3-5-haiku-latest , ollama/llama3.2 ,offline",
      MODEL_TEMPERATURE: "0.2",
      MODEL_MAX_TOKENS: "512",
      MODEL_TIMEOUT_MS: "30000",
      LLM_MAX_CONCURRENCY: "16",
      LLM_MAX_QUEUE: "0",
      LLM_MAX_RETRIES: "1",
      LLM_KEEP_ALIVE_MS: "30000",
      OPENAI_API_KEY: "sk-openai",
      ANTHROPIC_API_KEY: "sk-ant",
      OLLAMA_BASE_URL: "http://127.0.0.1:11434",
    });
    expect(options).toEqual<ChatModelOptions>({
      provider: "openai",
      model: "gpt-4o-mini",
      apiKey: "sk-openai",
      temperature: 0.2,
      maxTokens: 512,
      timeoutMs: 30_000,
      maxConcurrency: 16,
      maxQueue: 0,
      maxRetries: 1,
      keepAliveMs: 30_000,
      fallbacks: [
        { provider: "anthropic", model: "claude-3-5-haiku-latest", apiKey: "sk-ant" },
        { provider: "ollama", model: "llama3.2", baseUrl: "http://127.0.0.1:11434" },
        { provider: "offline", model: "offline" },
      ],
    });
  });

  it("lets LLM_PROVIDER override inference and supplies a default model", () => {
    expect(chatModelOptionsFromConfig({ LLM_PROVIDER: "anthropic", ANTHROPIC_API_KEY: "k" })).toMatchObject({
      provider: "anthropic",
      model: "claude-3-5-haiku-latest",
    });
    expect(
      chatModelOptionsFromConfig({
        LLM_PROVIDER: "openai-compatible",
        MODEL_NAME: "meta-llama/Llama-3-8B",
        OPENAI_BASE_URL: "http://127.0.0.1:8000/v1",
      }),
    ).toEqual({
      provider: "openai-compatible",
      model: "meta-llama/Llama-3-8B",
      baseUrl: "http://127.0.0.1:8000/v1",
    });
  });

  it("maps Azure and Bedrock variables to their own blocks", () => {
    expect(
      chatModelOptionsFromConfig({
        MODEL_NAME: "azure/chat",
        AZURE_OPENAI_API_KEY: "az",
        AZURE_OPENAI_ENDPOINT: "https://example.openai.azure.com",
        AZURE_OPENAI_API_VERSION: "2024-10-21",
      }),
    ).toEqual({
      provider: "azure",
      model: "chat",
      apiKey: "az",
      azure: { endpoint: "https://example.openai.azure.com", apiVersion: "2024-10-21" },
    });
    expect(
      chatModelOptionsFromConfig({ MODEL_NAME: "bedrock/amazon.nova-lite-v1:0", AWS_REGION: "eu-west-1" }),
    ).toEqual({
      provider: "bedrock",
      model: "amazon.nova-lite-v1:0",
      bedrock: { region: "eu-west-1" },
    });
  });

  it.each<[string, LlmConfigRecord, string]>([
    ["missing OpenAI key", { MODEL_NAME: "gpt-4o" }, "OPENAI_API_KEY"],
    [
      "missing Anthropic key for a fallback",
      { FALLBACK_MODELS: "claude-3-5-haiku-latest" },
      "ANTHROPIC_API_KEY",
    ],
    ["missing Google key", { LLM_PROVIDER: "google" }, "GOOGLE_API_KEY"],
    [
      "missing Azure key",
      { MODEL_NAME: "azure/chat", AZURE_OPENAI_ENDPOINT: "https://x" },
      "AZURE_OPENAI_API_KEY",
    ],
    [
      "missing Azure endpoint",
      { MODEL_NAME: "azure/chat", AZURE_OPENAI_API_KEY: "k" },
      "AZURE_OPENAI_ENDPOINT",
    ],
    ["missing AWS region", { MODEL_NAME: "bedrock/amazon.nova-lite-v1:0" }, "AWS_REGION"],
    [
      "half an AWS key pair",
      { MODEL_NAME: "bedrock/m", AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "AKID" },
      "AWS_SECRET_ACCESS_KEY",
    ],
    [
      "openai-compatible without a URL",
      { LLM_PROVIDER: "openai-compatible", MODEL_NAME: "m" },
      "OPENAI_BASE_URL",
    ],
    ["unknown provider", { LLM_PROVIDER: "watsonx" }, "LLM_PROVIDER"],
    ["unguessable model", { MODEL_NAME: "mystery-model" }, "LLM_PROVIDER"],
    ["provider without a default model", { LLM_PROVIDER: "bedrock", AWS_REGION: "us-east-1" }, "MODEL_NAME"],
    ["temperature out of range", { MODEL_TEMPERATURE: "3" }, "MODEL_TEMPERATURE"],
    ["non-numeric timeout", { MODEL_TIMEOUT_MS: "soon" }, "MODEL_TIMEOUT_MS"],
    ["fractional concurrency", { LLM_MAX_CONCURRENCY: "2.5" }, "LLM_MAX_CONCURRENCY"],
    ["negative queue", { LLM_MAX_QUEUE: "-1" }, "LLM_MAX_QUEUE"],
    ["negative retries", { LLM_MAX_RETRIES: "-1" }, "LLM_MAX_RETRIES"],
    ["zero keep-alive", { LLM_KEEP_ALIVE_MS: "0" }, "LLM_KEEP_ALIVE_MS"],
  ])("stops start-up with LLM_CONFIG on %s", (_case, config, variable) => {
    const error = configError(config);
    expect(error.code).toBe("LLM_CONFIG");
    expect(error.message).toContain(variable);
  });

  it("never puts a secret into an error message", () => {
    const error = configError({
      MODEL_NAME: "gpt-4o",
      FALLBACK_MODELS: "claude-3-5-haiku",
      OPENAI_API_KEY: "sk-secret-1",
    });
    expect(error.message).not.toContain("sk-secret-1");
  });
});

describe("createChatModel options", () => {
  it("builds a resilient model for every provider without touching the network", async () => {
    const model = await createChatModel({
      ...chatModelOptionsFromConfig({
        MODEL_NAME: "gpt-4o-mini",
        FALLBACK_MODELS:
          "claude-3-5-haiku-latest,gemini-2.0-flash,ollama/llama3.2,azure/chat,bedrock/amazon.nova-lite-v1:0",
        OPENAI_API_KEY: "a",
        ANTHROPIC_API_KEY: "b",
        GOOGLE_API_KEY: "c",
        AZURE_OPENAI_API_KEY: "d",
        AZURE_OPENAI_ENDPOINT: "https://example.openai.azure.com",
        AWS_REGION: "us-east-1",
      }),
    });
    expect(model).toBeInstanceOf(ResilientChatModel);
    expect((model as ResilientChatModel).routes.map((route) => route.provider)).toEqual([
      "openai",
      "anthropic",
      "google",
      "ollama",
      "azure",
      "bedrock",
    ]);
  });

  it.each<[string, ChatModelOptions]>([
    ["a keyless OpenAI model", { provider: "openai", model: "gpt-4o" }],
    ["a zero timeout", { provider: "offline", fallbacks: [{ provider: "offline" }], timeoutMs: 0 }],
    ["fractional retries", { provider: "offline", fallbacks: [{ provider: "offline" }], maxRetries: 1.5 }],
    ["zero concurrency", { provider: "offline", fallbacks: [{ provider: "offline" }], maxConcurrency: 0 }],
    ["a negative queue", { provider: "offline", fallbacks: [{ provider: "offline" }], maxQueue: -1 }],
    [
      "a zero breaker threshold",
      { provider: "offline", fallbacks: [{ provider: "offline" }], circuitBreaker: { failureThreshold: 0 } },
    ],
    ["an unknown provider", { provider: "nope" as never, model: "x" }],
    [
      "a temperature the Gemini integration refuses",
      { provider: "google", model: "gemini-2.0-flash", apiKey: "k", temperature: 5 },
    ],
  ])("rejects %s with LLM_CONFIG", async (_case, options) => {
    await expect(createChatModel(options)).rejects.toMatchObject({ code: "LLM_CONFIG" });
  });
});
