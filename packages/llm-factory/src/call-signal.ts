import { AsyncLocalStorage } from "node:async_hooks";

const callSignal = new AsyncLocalStorage<AbortSignal>();

/** Runs `operation` so that fetches made by `fetchBoundToCallSignal` inside it obey `signal`. */
export function runWithCallSignal<T>(signal: AbortSignal, operation: () => T): T {
  return callSignal.run(signal, operation);
}

/**
 * A fetch that also aborts with the current call's signal. Some integrations (Ollama)
 * never hand the call's AbortSignal to their HTTP client, so a hung request would
 * outlive its deadline; this closes the socket the moment the call is abandoned.
 */
export function fetchBoundToCallSignal(baseFetch: typeof fetch = fetch): typeof fetch {
  return (input, init) => {
    const signal = callSignal.getStore();
    if (!signal) return baseFetch(input, init);
    const combined = init?.signal ? AbortSignal.any([init.signal, signal]) : signal;
    return baseFetch(input, { ...init, signal: combined });
  };
}
