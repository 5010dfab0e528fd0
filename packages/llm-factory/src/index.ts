export { findArithmeticExpression } from "./arithmetic.js";
export { isLlmError, LLM_ERROR_FAMILY, LlmError, type LlmErrorCode } from "./errors.js";
export { createChatModel } from "./factory.js";
export {
  countsAgainstProvider,
  createProviderGuards,
  type ProviderGuard,
  type ProviderGuardSettings,
  type ProviderGuards,
} from "./guards.js";
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
