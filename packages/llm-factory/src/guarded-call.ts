import { type Bulkhead, type CircuitBreaker, isCoreError } from "@mcp-langgraph/core";
import { LlmError } from "./errors.js";
import { type ProviderContext, toLlmError } from "./provider-errors.js";

/**
 * Admission to a circuit for an operation whose end we report later (a stream
 * outlives the call that opened it). Rejects with core's CIRCUIT_OPEN when the
 * breaker refuses; otherwise the caller must call exactly one of succeed/fail.
 */
export async function enterCircuit(
  breaker: CircuitBreaker,
): Promise<{ succeed(): void; fail(error: unknown): void }> {
  let admit!: () => void;
  let settle!: (outcome: { failed: boolean; error?: unknown }) => void;
  const admitted = new Promise<void>((resolve) => {
    admit = resolve;
  });
  const outcome = breaker.execute(() => {
    admit();
    return new Promise<void>((resolve, reject) => {
      settle = ({ failed, error }) => (failed ? reject(error) : resolve());
    });
  });
  // The outcome is the error we report ourselves; nobody else awaits it.
  outcome.catch(() => {});
  await Promise.race([admitted, outcome]);
  return { succeed: () => settle({ failed: false }), fail: (error) => settle({ failed: true, error }) };
}

/**
 * Holds a bulkhead slot until the returned release function is called. A caller
 * that gives up while queued leaves at once; a slot granted after that is freed.
 */
export function acquireSlot(bulkhead: Bulkhead, signal: AbortSignal): Promise<() => void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    let abandoned = false;
    const onAbort = () => {
      abandoned = true;
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    bulkhead
      .run(
        () =>
          new Promise<void>((release) => {
            signal.removeEventListener("abort", onAbort);
            if (abandoned) release();
            else resolve(() => release());
          }),
        signal,
      )
      .catch((error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      });
  });
}

/** Errors from the shared resilience helpers, in this package's vocabulary. */
export function guardErrorToLlmError(error: unknown, context: ProviderContext): unknown {
  if (!isCoreError(error)) return error;
  const details = { provider: context.provider, model: context.model, ...error.details };
  const where = `${context.provider} model "${context.model}"`;
  if (error.code === "CIRCUIT_OPEN") {
    return new LlmError("LLM_UNAVAILABLE", `${where}: circuit open after repeated failures`, {
      cause: error,
      details: { ...details, circuit: "open" },
    });
  }
  if (error.code === "BULKHEAD_FULL") {
    return new LlmError("LLM_OVERLOADED", `${where}: too many calls waiting for this provider`, {
      cause: error,
      details: { ...details, local: true },
    });
  }
  return toLlmError(error, context);
}
