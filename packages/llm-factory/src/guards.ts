import { type Bulkhead, CircuitBreaker, createBulkhead } from "@mcp-langgraph/core";
import { isLlmError } from "./errors.js";

export interface ProviderGuard {
  bulkhead: Bulkhead;
  breaker: CircuitBreaker;
}

export interface ProviderGuardSettings {
  maxConcurrency?: number;
  maxQueue?: number;
  failureThreshold?: number;
  resetTimeoutMs?: number;
}

/**
 * One bulkhead and one circuit breaker per provider endpoint, shared by every model built with it.
 * The settings of the first model to use an endpoint size its guards.
 */
export interface ProviderGuards {
  for(key: string, settings: ProviderGuardSettings): ProviderGuard;
}

const BREAKER_FAILURE_CODES = new Set([
  "LLM_TIMEOUT",
  "LLM_OVERLOADED",
  "LLM_UNAVAILABLE",
  "LLM_BAD_RESPONSE",
]);

/** Only failures that say "the backend is unwell" open a circuit; a bad key or request does not. */
export function countsAgainstProvider(error: unknown): boolean {
  return isLlmError(error) && BREAKER_FAILURE_CODES.has(error.code);
}

/**
 * A call waiting on a provider costs a socket and some memory, not CPU, so the defaults admit as
 * many calls as the agent admits turns; the provider's own rate limits (429, retried) are the
 * real bound. Operators with a smaller quota set LLM_MAX_CONCURRENCY / LLM_MAX_QUEUE.
 */
export const DEFAULT_PROVIDER_CONCURRENCY = 2_000;
export const DEFAULT_PROVIDER_QUEUE = 2_000;

export function createProviderGuards(): ProviderGuards {
  const guards = new Map<string, ProviderGuard>();
  return {
    for(key, settings) {
      let guard = guards.get(key);
      if (!guard) {
        guard = {
          bulkhead: createBulkhead({
            concurrency: settings.maxConcurrency ?? DEFAULT_PROVIDER_CONCURRENCY,
            maxQueue: settings.maxQueue ?? DEFAULT_PROVIDER_QUEUE,
          }),
          breaker: new CircuitBreaker({
            failureThreshold: settings.failureThreshold ?? 5,
            resetTimeoutMs: settings.resetTimeoutMs ?? 30_000,
            isFailure: countsAgainstProvider,
          }),
        };
        guards.set(key, guard);
      }
      return guard;
    },
  };
}
