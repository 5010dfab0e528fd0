import type { Attributes } from "@opentelemetry/api";

/** One failed attempt at a model: what the retry and fallback hooks and span events are told. */
export interface ModelFailure {
  provider: string;
  model: string;
  /** The LlmError code of the failure (e.g. LLM_RATE_LIMITED); never the provider's own text. */
  code: string;
}

/** A retry of the same model after a failure, waiting `delayMs` of backoff first. */
export interface ModelRetry extends ModelFailure {
  /** 1 for the first retry of this model in this call. */
  retry: number;
  delayMs: number;
}

/** The call moves from the failed model to `next` in the fallback chain. */
export interface ModelFallback extends ModelFailure {
  next: { provider: string; model: string };
}

/** OpenTelemetry's `gen_ai.system` values for this package's providers (the provider name otherwise). */
const GEN_AI_SYSTEMS: Record<string, string> = {
  openai: "openai",
  "openai-compatible": "openai",
  azure: "azure.ai.openai",
  anthropic: "anthropic",
  google: "gcp.gemini",
  bedrock: "aws.bedrock",
};

const systemOf = (provider: string) => GEN_AI_SYSTEMS[provider] ?? provider;

/**
 * A model call's span attributes, after OpenTelemetry's gen_ai semantic conventions: which
 * model was asked. Never the prompt, the answer or a key.
 */
export function chatRequestAttributes(route: { provider: string; model: string }): Attributes {
  const system = systemOf(route.provider);
  return {
    "gen_ai.operation.name": "chat",
    "gen_ai.system": system,
    "gen_ai.provider.name": system,
    "gen_ai.request.model": route.model,
  };
}

/** The model that answered (a fallback may have) and the tokens it reported. */
export function chatResponseAttributes(
  route: { provider: string; model: string },
  usage: { input_tokens: number; output_tokens: number } | undefined,
): Attributes {
  return {
    "gen_ai.response.model": route.model,
    "gen_ai.response.provider": systemOf(route.provider),
    ...(usage
      ? { "gen_ai.usage.input_tokens": usage.input_tokens, "gen_ai.usage.output_tokens": usage.output_tokens }
      : {}),
  };
}

/** A failure as a span event's attributes. */
export function failureAttributes(failure: ModelFailure): Attributes {
  return {
    "gen_ai.provider.name": systemOf(failure.provider),
    "gen_ai.request.model": failure.model,
    "error.type": failure.code,
  };
}
