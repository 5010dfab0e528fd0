import { CoreError } from "./errors.js";

export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold?: number;
  /** How long the circuit stays open before one probe call is let through. */
  resetTimeoutMs?: number;
  /** Which failures count against the backend (e.g. not a 400 caused by the caller). */
  isFailure?: (error: unknown) => boolean;
  now?: () => number;
}

/**
 * Fails fast while a backend is down: after `failureThreshold` consecutive
 * failures the circuit opens; after `resetTimeoutMs` a single probe runs
 * (half-open) and its outcome closes or re-opens the circuit.
 */
export class CircuitBreaker {
  readonly #failureThreshold: number;
  readonly #resetTimeoutMs: number;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #now: () => number;
  #state: CircuitState = "closed";
  #consecutiveFailures = 0;
  #openedAt = 0;
  #probeInFlight = false;

  constructor(options: CircuitBreakerOptions = {}) {
    this.#failureThreshold = options.failureThreshold ?? 5;
    this.#resetTimeoutMs = options.resetTimeoutMs ?? 30_000;
    this.#isFailure = options.isFailure ?? (() => true);
    this.#now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    if (this.#state === "open" && this.#now() - this.#openedAt >= this.#resetTimeoutMs) return "half-open";
    return this.#state;
  }

  async execute<T>(operation: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === "open" || (state === "half-open" && this.#probeInFlight)) {
      const retryInMs = Math.max(0, this.#resetTimeoutMs - (this.#now() - this.#openedAt));
      throw new CoreError("CIRCUIT_OPEN", "circuit open: backend recently failing", {
        details: { retryInMs },
      });
    }
    const isProbe = state === "half-open";
    if (isProbe) this.#probeInFlight = true;
    try {
      const result = await operation();
      this.#state = "closed";
      this.#consecutiveFailures = 0;
      return result;
    } catch (error) {
      if (this.#isFailure(error)) this.#recordFailure(isProbe);
      else if (isProbe) this.#state = "closed";
      throw error;
    } finally {
      if (isProbe) this.#probeInFlight = false;
    }
  }

  #recordFailure(isProbe: boolean) {
    this.#consecutiveFailures++;
    if (isProbe || this.#consecutiveFailures >= this.#failureThreshold) {
      this.#state = "open";
      this.#openedAt = this.#now();
    }
  }
}
