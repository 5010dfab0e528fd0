import { setMaxListeners } from "node:events";

/**
 * Deadline signals shared by every caller that starts within the same
 * `granularityMs`: each caller's deadline falls between `timeoutMs` and
 * `timeoutMs + granularityMs` from its start. A fresh `AbortSignal.timeout`
 * (and an `AbortSignal.any` to join it to the request's own signal) on every
 * request was a measurable part of the per-request cost, for a bound that
 * almost never fires: authentication is a cache hit on the hot path.
 */
export function sharedDeadline(timeoutMs: number, granularityMs = 100): () => AbortSignal {
  let signal: AbortSignal | undefined;
  let renewAt = 0;
  return () => {
    const now = Date.now();
    if (signal === undefined || now >= renewAt) {
      signal = AbortSignal.timeout(timeoutMs + granularityMs);
      // Every request of the window may listen to it at once (e.g. a slow session store).
      setMaxListeners(0, signal);
      renewAt = now + granularityMs;
    }
    return signal;
  };
}
