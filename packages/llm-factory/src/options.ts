import type { Logger, Tracer } from "@mcp-langgraph/core";
import type { ProviderGuards } from "./guards.js";
import type { PricingTable, UsageReport } from "./pricing.js";
import type { ModelFallback, ModelRetry } from "./tracing.js";

export type ProviderName =
  | "offline"
  | "openai"
  | "anthropic"
  | "google"
  | "ollama"
  | "azure"
  | "bedrock"
  | "openai-compatible";

export const PROVIDER_NAMES: readonly ProviderName[] = [
  "offline",
  "openai",
  "anthropic",
  "google",
  "ollama",
  "azure",
  "bedrock",
  "openai-compatible",
];

/** Azure OpenAI specifics; only ever passed to the azure provider. */
export interface AzureOptions {
  /** `https://<instance>.openai.azure.com` (or any base URL, e.g. a gateway). */
  endpoint?: string;
  instanceName?: string;
  /** Defaults to the model name. */
  deploymentName?: string;
  apiVersion?: string;
}

/** AWS Bedrock specifics; only ever passed to the bedrock provider. */
export interface BedrockOptions {
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

export interface CircuitBreakerSettings {
  failureThreshold?: number;
  resetTimeoutMs?: number;
}

export interface ChatModelOptions {
  /** Omitted: inferred from `model`; no model either: the offline model. */
  provider?: ProviderName;
  model?: string;
  apiKey?: string;
  baseUrl?: string;
  temperature?: number;
  maxTokens?: number;
  /** Deadline for one attempt against one model (default 60 000). A timed-out attempt is not retried. */
  timeoutMs?: number;
  /** Retries after the first attempt for fast retryable failures (default 2); never after a timeout. */
  maxRetries?: number;
  /** First backoff ceiling in ms; doubles per retry with full jitter (default 500). */
  retryBaseDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the call fails over instead (default 30 000). */
  maxRetryAfterMs?: number;
  /** Calls in flight per provider (default 2 000). */
  maxConcurrency?: number;
  /** Calls allowed to wait for a slot per provider before failing fast (default 2 000). */
  maxQueue?: number;
  circuitBreaker?: CircuitBreakerSettings;
  /**
   * How long an idle connection to the provider stays open for the next call (default 60 000); a
   * shorter timeout the server announces wins. Models on one endpoint with the same value share a pool.
   */
  keepAliveMs?: number;
  /** Tried in order when this model fails; each entry names its own provider, key and URL. */
  fallbacks?: ChatModelOptions[];
  azure?: AzureOptions;
  bedrock?: BedrockOptions;
  /** Per-model prices (USD per million tokens) merged over the built-in table. */
  pricing?: PricingTable;
  /** Called once per successful call with token counts, estimated cost and latency (metrics hook). */
  onUsage?: (report: UsageReport) => void;
  /** Called before each retry of a model (metrics hook); must not throw (a throw is logged and ignored). */
  onRetry?: (retry: ModelRetry) => void;
  /** Called when a model failed and the call moves to the next one in the fallback chain (metrics hook). */
  onFallback?: (fallback: ModelFallback) => void;
  /**
   * Traces each call as a `chat <model>` client span (gen_ai semantic conventions: system, request
   * and response model, token usage; retries and fallbacks as events). None when unset.
   */
  tracer?: Tracer;
  /** Share bulkheads and circuit breakers between models; default: one set per created model. */
  guards?: ProviderGuards;
  logger?: Logger;
}
