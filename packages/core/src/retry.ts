import { sleep } from "./deadline.js";

export interface RetryDecision {
  retry: boolean;
  /** Server-mandated wait (e.g. from Retry-After); replaces the computed backoff when longer. */
  retryAfterMs?: number;
}

export interface RetryOptions {
  /** Retries after the first attempt (so `retries: 2` means at most 3 attempts). */
  retries: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Decides per failure whether another attempt is worth it. */
  classify: (error: unknown, attempt: number) => RetryDecision;
  signal?: AbortSignal;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Exponential backoff with full jitter: a uniform wait in [0, min(max, base * 2^attempt)]. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random = Math.random) {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { retries, baseDelayMs = 250, maxDelayMs = 10_000, classify, signal, random, onRetry } = options;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= retries || signal?.aborted) throw error;
      const decision = classify(error, attempt);
      if (!decision.retry) throw error;
      const delayMs = Math.max(
        backoffDelay(attempt, baseDelayMs, maxDelayMs, random),
        decision.retryAfterMs ?? 0,
      );
      onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, signal);
    }
  }
}
