import { CodedError, type CodedErrorOptions, isCodedError } from "@mcp-langgraph/core";

export type LlmErrorCode =
  | "LLM_TIMEOUT"
  | "LLM_RATE_LIMITED"
  | "LLM_OVERLOADED"
  | "LLM_AUTH"
  | "LLM_MODEL_NOT_FOUND"
  | "LLM_BAD_REQUEST"
  | "LLM_BAD_RESPONSE"
  | "LLM_UNAVAILABLE"
  | "LLM_CONFIG";

export const LLM_ERROR_FAMILY = "llm";

/**
 * The one error class of llm-factory. `details` carries safe facts only:
 * `provider` and `model` (one model involved), `status`, `retryAfterMs`
 * (LLM_RATE_LIMITED) and, when a call times out or fails after a fallback chain,
 * `attempts` (how many were made in all), `models` (one entry per model tried:
 * provider, model, code, attempts, and timeoutMs if it timed out) and `timeoutMs`
 * (the per-attempt deadline that expired, when the models share one).
 */
export class LlmError extends CodedError<LlmErrorCode> {
  constructor(code: LlmErrorCode, message: string, options?: CodedErrorOptions) {
    super(LLM_ERROR_FAMILY, code, message, options);
    this.name = "LlmError";
  }

  /** Server-mandated wait before the next attempt, when the provider sent one. */
  get retryAfterMs(): number | undefined {
    const value = this.details?.retryAfterMs;
    return typeof value === "number" ? value : undefined;
  }
}

export function isLlmError(value: unknown): value is LlmError {
  return isCodedError(value, LLM_ERROR_FAMILY);
}
