export { findArithmeticExpression } from "./arithmetic.js";
export { chatModelOptionsFromConfig, type LlmConfigRecord } from "./config.js";
export { DEFAULT_KEEP_ALIVE_MS } from "./connection-pools.js";
export { isLlmError, LLM_ERROR_FAMILY, LlmError, type LlmErrorCode } from "./errors.js";
export {
  closeChatModel,
  createChatModel,
  createSamplingChatModel,
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT_MS,
  type SamplingChatModelOptions,
} from "./factory.js";
export {
  countsAgainstProvider,
  createProviderGuards,
  type ProviderGuard,
  type ProviderGuardSettings,
  type ProviderGuards,
} from "./guards.js";
export { DEFAULT_MODELS, inferProvider } from "./infer.js";
export {
  createOfflineChatModel,
  OFFLINE_NOTICE,
  OfflineChatModel,
  type OfflineChatModelCallOptions,
} from "./offline-model.js";
export {
  type AzureOptions,
  type BedrockOptions,
  type ChatModelOptions,
  type CircuitBreakerSettings,
  PROVIDER_NAMES,
  type ProviderName,
} from "./options.js";
export {
  DEFAULT_PRICING,
  estimateCostUsd,
  findPrice,
  type ModelPrice,
  type PricingTable,
  type UsageReport,
} from "./pricing.js";
export { type ResilienceHooks, ResilientChatModel } from "./resilient-model.js";
export {
  type SampleFunction,
  SamplingChatModel,
  type SamplingChatModelCallOptions,
  type SamplingChatModelFields,
  type SamplingContent,
  type SamplingMessage,
  type SamplingModelPreferences,
  type SamplingOtherContent,
  type SamplingRequest,
  type SamplingResponse,
  type SamplingTextContent,
  type SamplingTool,
  type SamplingToolResultContent,
  type SamplingToolUseContent,
} from "./sampling-model.js";
export { streamText } from "./stream-text.js";
export type { ModelFailure, ModelFallback, ModelRetry } from "./tracing.js";
