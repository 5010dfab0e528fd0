import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { acquireConnectionPool, DEFAULT_KEEP_ALIVE_MS, type PooledFetch } from "./connection-pools.js";
import { isLlmError, LlmError } from "./errors.js";
import { createProviderGuards, type ProviderGuards } from "./guards.js";
import { resolveProviderAndModel } from "./infer.js";
import { createOfflineChatModel } from "./offline-model.js";
import type { ChatModelOptions, ProviderName } from "./options.js";
import { DEFAULT_PRICING } from "./pricing.js";
import { buildProviderModel, providerEndpoint } from "./providers.js";
import { type ModelRoute, type ResilienceHooks, ResilientChatModel } from "./resilient-model.js";
import { SamplingChatModel, type SamplingChatModelFields } from "./sampling-model.js";

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = 2;
const DEFAULT_RETRY_BASE_DELAY_MS = 500;
const DEFAULT_MAX_RETRY_AFTER_MS = 30_000;

/**
 * Settings a fallback inherits from the model it backs up. Keys, URLs and the
 * `azure`/`bedrock` blocks are deliberately absent: each model in a chain names
 * its own, so one provider's credentials never reach another provider.
 */
const INHERITED_SETTINGS = [
  "temperature",
  "maxTokens",
  "timeoutMs",
  "maxRetries",
  "retryBaseDelayMs",
  "maxRetryAfterMs",
  "maxConcurrency",
  "maxQueue",
  "circuitBreaker",
  "keepAliveMs",
] as const satisfies readonly (keyof ChatModelOptions)[];

/** The connection-pool shares each created model holds, until closeChatModel hands them back. */
const heldPools = new WeakMap<BaseChatModel, PooledFetch[]>();

/**
 * Builds the chat model the options describe. No provider and no model means the
 * offline deterministic model, so a fresh install works without keys. Every other
 * configuration returns a resilient model (retry, deadline, bulkhead, circuit
 * breaker, fallbacks) over the maintained @langchain integrations, whose HTTP
 * connections are kept alive per endpoint until `closeChatModel`.
 */
export async function createChatModel(options: ChatModelOptions = {}): Promise<BaseChatModel> {
  const chain = [options, ...(options.fallbacks ?? []).map((fallback) => inheritSettings(options, fallback))];
  const resolved = chain.map((entry) => ({ entry, ...resolveProviderAndModel(entry.provider, entry.model) }));
  if (resolved.length === 1 && resolved[0]?.provider === "offline") return createOfflineChatModel();
  const guards = options.guards ?? createProviderGuards();
  const pricing = { ...DEFAULT_PRICING, ...options.pricing };
  const held: PooledFetch[] = [];
  const routes = await buildRoutes(resolved, guards, pricing, held);
  return resilientModel(routes, options, held);
}

/**
 * Hands back the keep-alive connection pools the model uses; a pool closes (idle connections at
 * once, calls still in flight aborted) when the last model on its endpoint is closed. Call it on
 * shutdown, once the model is no longer used. Harmless for models without pools and when repeated.
 */
export async function closeChatModel(model: BaseChatModel): Promise<void> {
  const held = heldPools.get(model) ?? [];
  heldPools.delete(model);
  await Promise.all(held.map((share) => share.release()));
}

export interface SamplingChatModelOptions
  extends SamplingChatModelFields,
    Pick<
      ChatModelOptions,
      | (typeof INHERITED_SETTINGS)[number]
      | "fallbacks"
      | "guards"
      | "pricing"
      | "onUsage"
      | "onRetry"
      | "onFallback"
      | "tracer"
      | "logger"
    > {}

/**
 * A chat model answered by the MCP client's model via sampling, behind the same
 * deadline, retry, bulkhead and breaker as any provider, with optional fallbacks
 * (e.g. the offline model when the client declines to sample).
 */
export async function createSamplingChatModel(options: SamplingChatModelOptions): Promise<BaseChatModel> {
  if (typeof options.sample !== "function") {
    throw new LlmError("LLM_CONFIG", "createSamplingChatModel needs a sample function");
  }
  const guards = options.guards ?? createProviderGuards();
  const pricing = { ...DEFAULT_PRICING, ...options.pricing };
  const sampling = new SamplingChatModel({
    sample: options.sample,
    maxTokens: options.maxTokens,
    temperature: options.temperature,
    modelPreferences: options.modelPreferences,
  });
  // A person may be approving each sampling request: asking again after a refusal or an error would
  // re-prompt them, so sampling is not retried unless the caller asks for it (a timeout never is).
  const samplingSettings = { ...options, maxRetries: options.maxRetries ?? 0 };
  const fallbacks = (options.fallbacks ?? []).map((fallback) => {
    const entry = inheritSettings(options, fallback);
    return { entry, ...resolveProviderAndModel(entry.provider, entry.model) };
  });
  const held: PooledFetch[] = [];
  const routes = [
    makeRoute("sampling", "mcp-client", sampling, samplingSettings, guards, pricing),
    ...(await buildRoutes(fallbacks, guards, pricing, held)),
  ];
  return resilientModel(routes, options, held);
}

interface ResolvedEntry {
  entry: ChatModelOptions;
  provider: ProviderName;
  model: string;
}

/** Builds every route; if one fails, the pool shares the others took are handed back. */
async function buildRoutes(
  resolved: ResolvedEntry[],
  guards: ProviderGuards,
  pricing: ModelRoute["pricing"],
  held: PooledFetch[],
): Promise<ModelRoute[]> {
  const settled = await Promise.allSettled(
    resolved.map(async ({ entry, provider, model }) => {
      const integration = await buildIntegration(provider, model, entry, held);
      return makeRoute(provider, model, integration, entry, guards, pricing);
    }),
  );
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) {
    await Promise.all(held.map((share) => share.release()));
    throw failed.reason;
  }
  return settled.map((result) => (result as PromiseFulfilledResult<ModelRoute>).value);
}

/** The model over `routes`, holding the pool shares its routes took until closeChatModel. */
function resilientModel(
  routes: ModelRoute[],
  { onUsage, onRetry, onFallback, tracer, logger }: ResilienceHooks,
  held: PooledFetch[],
): BaseChatModel {
  const model = new ResilientChatModel(routes, { onUsage, onRetry, onFallback, tracer, logger });
  if (held.length > 0) heldPools.set(model, held);
  return model;
}

/** An integration's own constructor checks (e.g. temperature range) become LLM_CONFIG too. */
async function buildIntegration(
  provider: ProviderName,
  model: string,
  options: ChatModelOptions,
  held: PooledFetch[],
) {
  const keepAliveMs = positiveWhole("keepAliveMs", options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS);
  const pooledFetch = async () => {
    const share = await acquireConnectionPool(providerEndpoint(provider, options), keepAliveMs);
    held.push(share);
    return share.fetch;
  };
  try {
    return await buildProviderModel(provider, model, options, pooledFetch);
  } catch (error) {
    if (isLlmError(error)) throw error;
    throw new LlmError("LLM_CONFIG", `${provider} model "${model}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function inheritSettings(primary: ChatModelOptions, fallback: ChatModelOptions): ChatModelOptions {
  const inherited: ChatModelOptions = {};
  for (const key of INHERITED_SETTINGS) {
    if (primary[key] !== undefined) Object.assign(inherited, { [key]: primary[key] });
  }
  return { ...inherited, ...fallback, fallbacks: undefined };
}

function makeRoute(
  provider: string,
  model: string,
  chatModel: BaseChatModel,
  options: ChatModelOptions,
  guards: ProviderGuards,
  pricing: ModelRoute["pricing"],
): ModelRoute {
  const optional = <T>(value: T | undefined, check: (value: T) => T) =>
    value === undefined ? undefined : check(value);
  const guard = guards.for(providerEndpoint(provider, options), {
    maxConcurrency: optional(options.maxConcurrency, (value) => positiveWhole("maxConcurrency", value)),
    maxQueue: optional(options.maxQueue, (value) => nonNegative("maxQueue", value)),
    failureThreshold: optional(options.circuitBreaker?.failureThreshold, (value) =>
      positiveWhole("circuitBreaker.failureThreshold", value),
    ),
    resetTimeoutMs: optional(options.circuitBreaker?.resetTimeoutMs, (value) =>
      positive("circuitBreaker.resetTimeoutMs", value),
    ),
  });
  return {
    provider,
    model,
    chatModel,
    runnable: chatModel,
    guard,
    timeoutMs: positive("timeoutMs", options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    maxRetries: nonNegative("maxRetries", options.maxRetries ?? DEFAULT_MAX_RETRIES),
    retryBaseDelayMs: nonNegative(
      "retryBaseDelayMs",
      options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS,
    ),
    maxRetryAfterMs: nonNegative("maxRetryAfterMs", options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS),
    pricing,
    scopesFetchToCall: provider === "ollama",
    streamEndMarker: provider === "bedrock" ? "messageStop" : undefined,
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new LlmError("LLM_CONFIG", `${name} must be a positive number`);
  return value;
}

function positiveWhole(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new LlmError("LLM_CONFIG", `${name} must be a whole number ≥ 1`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0)
    throw new LlmError("LLM_CONFIG", `${name} must be a whole number ≥ 0`);
  return value;
}
