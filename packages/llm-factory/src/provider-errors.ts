import { isCodedError } from "@mcp-langgraph/core";
import { LlmError, type LlmErrorCode } from "./errors.js";

export interface ProviderContext {
  provider: string;
  model: string;
}

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
const NETWORK_MESSAGE =
  /fetch failed|terminated|socket hang up|other side closed|connection error|network error|premature close|ECONNRESET|ECONNREFUSED/i;
// "did not receive done": ollama-js skips unparsable lines and then finds its stream never finished.
const MALFORMED_MESSAGE =
  /JSON|unexpected token|unexpected end of|could not parse|error parsing|did not receive done/i;
const RETRYABLE_CODES = new Set<LlmErrorCode>([
  "LLM_TIMEOUT",
  "LLM_RATE_LIMITED",
  "LLM_OVERLOADED",
  "LLM_BAD_RESPONSE",
]);

/** Whether another attempt at the same provider could succeed. */
export function isRetryable(error: LlmError): boolean {
  if (error.code === "LLM_UNAVAILABLE") return error.details?.transient === true;
  return RETRYABLE_CODES.has(error.code);
}

/**
 * Translates whatever an SDK threw (OpenAI/Anthropic APIError, Gemini fetch errors,
 * Ollama ResponseError, AWS service exceptions, undici network errors, JSON syntax
 * errors) into an LlmError. The message names provider, model and status only:
 * provider error bodies can echo request content, so they stay in `cause`.
 */
export function toLlmError(error: unknown, context: ProviderContext): LlmError {
  if (isCodedError(error, "llm")) return error as LlmError;
  const details: Record<string, unknown> = { provider: context.provider, model: context.model };
  const status = statusOf(error);
  if (status !== undefined) details.status = status;
  const where = `${context.provider} model "${context.model}"`;
  const make = (code: LlmErrorCode, message: string) =>
    new LlmError(code, `${where}: ${message}`, { cause: error, details });

  if (status !== undefined) {
    const retryAfterMs = retryAfterOf(error);
    if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
    if (status === 429 || awsName(error) === "ThrottlingException")
      return make("LLM_RATE_LIMITED", "rate limited");
    if (status === 529 || status === 503 || isOverloadedBody(error))
      return make("LLM_OVERLOADED", "overloaded");
    if (status === 401 || status === 403) return make("LLM_AUTH", `authentication failed (HTTP ${status})`);
    if (status === 404) return make("LLM_MODEL_NOT_FOUND", "model or endpoint not found (HTTP 404)");
    if (status === 408 || status >= 500) {
      details.transient = true;
      return make("LLM_UNAVAILABLE", `server error (HTTP ${status})`);
    }
    if (status >= 400) return make("LLM_BAD_REQUEST", `request rejected (HTTP ${status})`);
  }
  if (isTimeout(error)) return make("LLM_TIMEOUT", "the provider client timed out");
  if (isNetworkFailure(error)) {
    details.transient = true;
    return make("LLM_UNAVAILABLE", "network failure talking to the provider");
  }
  if (isMalformed(error)) return make("LLM_BAD_RESPONSE", "malformed response from the provider");
  return make("LLM_UNAVAILABLE", `call failed (${errorName(error)})`);
}

function statusOf(error: unknown): number | undefined {
  for (const candidate of causeChain(error)) {
    const record = candidate as {
      status?: unknown;
      status_code?: unknown;
      $metadata?: { httpStatusCode?: unknown };
    };
    for (const value of [record.status, record.status_code, record.$metadata?.httpStatusCode]) {
      if (typeof value === "number" && value >= 100 && value < 600) return value;
    }
  }
  return undefined;
}

/** Retry-After as milliseconds: `retry-after-ms`, `retry-after` (seconds or HTTP date), or Gemini's RetryInfo. */
export function retryAfterOf(error: unknown, now = Date.now()): number | undefined {
  for (const candidate of causeChain(error)) {
    const { headers: ownHeaders, $response } = candidate as {
      headers?: unknown;
      $response?: { headers?: unknown };
    };
    const headers = ownHeaders ?? $response?.headers;
    const milliseconds = Number(headerValue(headers, "retry-after-ms"));
    if (headerValue(headers, "retry-after-ms") !== undefined && Number.isFinite(milliseconds)) {
      return Math.max(0, milliseconds);
    }
    const retryAfter = headerValue(headers, "retry-after");
    if (retryAfter !== undefined) {
      const seconds = Number(retryAfter);
      if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
      const date = Date.parse(retryAfter);
      if (Number.isFinite(date)) return Math.max(0, date - now);
    }
    const details = (candidate as { errorDetails?: unknown }).errorDetails;
    if (Array.isArray(details)) {
      for (const detail of details) {
        const delay = (detail as { retryDelay?: unknown }).retryDelay;
        const match = typeof delay === "string" ? /^(\d+(?:\.\d+)?)s$/.exec(delay) : null;
        if (match) return Number(match[1]) * 1000;
      }
    }
  }
  return undefined;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== "object") return undefined;
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === "string" ? value : undefined;
}

function isOverloadedBody(error: unknown): boolean {
  return causeChain(error).some((candidate) => {
    const body = (candidate as { error?: { error?: { type?: unknown }; type?: unknown } }).error;
    return body?.type === "overloaded_error" || body?.error?.type === "overloaded_error";
  });
}

function awsName(error: unknown): string | undefined {
  const record = error as { name?: unknown; $metadata?: unknown };
  return record?.$metadata && typeof record.name === "string" ? record.name : undefined;
}

function isTimeout(error: unknown): boolean {
  return causeChain(error).some((candidate) => (candidate as { name?: unknown }).name === "TimeoutError");
}

function isNetworkFailure(error: unknown): boolean {
  return causeChain(error).some((candidate) => {
    const { code, message } = candidate as { code?: unknown; message?: unknown };
    return (
      (typeof code === "string" && NETWORK_CODES.has(code)) ||
      (typeof message === "string" && NETWORK_MESSAGE.test(message))
    );
  });
}

function isMalformed(error: unknown): boolean {
  return causeChain(error).some(
    (candidate) =>
      candidate instanceof SyntaxError ||
      (typeof (candidate as { message?: unknown }).message === "string" &&
        MALFORMED_MESSAGE.test((candidate as { message: string }).message)),
  );
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function causeChain(error: unknown): object[] {
  const chain: object[] = [];
  let current: unknown = error;
  while (current && typeof current === "object" && chain.length < 8 && !chain.includes(current)) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}
