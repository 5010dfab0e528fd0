import {
  type Bulkhead,
  CircuitBreaker,
  createBulkhead,
  isAbortError,
  isCoreError,
  type Logger,
  noopLogger,
  raceAbort,
  withDeadline,
} from "@mcp-langgraph/core";
import { DecisionCache } from "./decision-cache.ts";
import { AuthzError, isAuthzError } from "./errors.ts";
import type { Authorizer, CallOptions, CheckQuery, ListObjectsQuery, Tuple } from "./types.ts";

export interface DecisionCacheOptions {
  /** Most decisions kept (LRU beyond that). Default 10,000. */
  maxEntries?: number;
  /** How long a decision is served, bounding staleness after other processes' writes. Default 3,000 ms. */
  ttlMs?: number;
}

export interface ResilienceOptions {
  /**
   * `true` (default) for a backend across the network: calls get the deadline,
   * bulkhead and circuit breaker. An in-process engine answers synchronously,
   * where a timer cannot preempt it and there is no remote to protect, so it
   * gets only the fail-closed error mapping and the cache.
   */
  remote?: boolean;
  /** Deadline per call, queueing included. Default 2,000 ms. */
  timeoutMs?: number;
  /** Calls in flight toward the backend at once. Default 32. */
  concurrency?: number;
  /** Calls allowed to wait for a slot; beyond this a call fails fast (AUTHZ_UNAVAILABLE). Default 1,000. */
  maxQueue?: number;
  circuitBreaker?: { failureThreshold?: number; resetTimeoutMs?: number };
  /** Decision cache for checks; `false` turns it off. */
  cache?: DecisionCacheOptions | false;
  logger?: Logger;
}

const NO_OPTIONS: CallOptions = Object.freeze({});
const ALLOWED = Promise.resolve(true);
const DENIED = Promise.resolve(false);

const isEmpty = (value: object | undefined) => value === undefined || Object.keys(value).length === 0;

/**
 * Only queries whose answer depends on stored tuples alone are cached: a
 * contextual tuple or a context value can change the answer per request.
 */
const cacheable = (query: CheckQuery) =>
  typeof query?.object === "string" &&
  typeof query.relation === "string" &&
  typeof query.user === "string" &&
  isEmpty(query.contextualTuples) &&
  isEmpty(query.context);

/** A backend failure, as opposed to a caller's mistake or a caller's own abort. */
const countsAgainstBackend = (error: unknown) =>
  isAuthzError(error) ? error.code === "AUTHZ_UNAVAILABLE" : !isAbortError(error);

/**
 * Wraps any Authorizer so that it fails closed: every call has a deadline,
 * bounded concurrency and a circuit breaker, and any failure that is not the
 * caller's own becomes AUTHZ_UNAVAILABLE (callers must deny), never "allowed".
 * Checks are served from a bounded LRU+TTL decision cache, emptied whenever
 * this process writes or deletes tuples.
 */
export class ResilientAuthorizer implements Authorizer {
  readonly #inner: Authorizer;
  readonly #timeoutMs: number;
  readonly #bulkhead: Bulkhead;
  readonly #breaker: CircuitBreaker;
  readonly #cache: DecisionCache | undefined;
  readonly #logger: Logger;
  readonly #remote: boolean;
  /** Bumped around every local write, so a check that overlapped a write never fills the cache. */
  #generation = 0;

  constructor(inner: Authorizer, options: ResilienceOptions = {}) {
    this.#inner = inner;
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    this.#bulkhead = createBulkhead({
      concurrency: options.concurrency ?? 32,
      maxQueue: options.maxQueue ?? 1_000,
    });
    this.#breaker = new CircuitBreaker({
      failureThreshold: options.circuitBreaker?.failureThreshold ?? 5,
      resetTimeoutMs: options.circuitBreaker?.resetTimeoutMs ?? 10_000,
      isFailure: countsAgainstBackend,
    });
    this.#cache =
      options.cache === false
        ? undefined
        : new DecisionCache({
            maxEntries: options.cache?.maxEntries ?? 10_000,
            ttlMs: options.cache?.ttlMs ?? 3_000,
          });
    this.#logger = options.logger ?? noopLogger;
    this.#remote = options.remote ?? true;
  }

  #guard<T>(operation: string, options: CallOptions | undefined, call: (options: CallOptions) => Promise<T>) {
    const failClosed = (error: unknown) => {
      throw this.#failClosed(operation, error, options?.signal);
    };
    if (!this.#remote) {
      // In-process: no timers or queues on the hot path, only the fail-closed mapping.
      try {
        return call(options ?? NO_OPTIONS).catch(failClosed);
      } catch (error) {
        return Promise.reject(error).catch(failClosed);
      }
    }
    return withDeadline(
      (signal) =>
        this.#bulkhead.run(() => this.#breaker.execute(() => raceAbort(call({ signal }), signal)), signal),
      {
        timeoutMs: this.#timeoutMs,
        ...(options?.signal ? { signal: options.signal } : {}),
        onTimeout: (ms) =>
          new AuthzError("AUTHZ_UNAVAILABLE", `authz backend did not answer within ${ms} ms`),
      },
    ).catch(failClosed);
  }

  #failClosed(operation: string, error: unknown, callerSignal: AbortSignal | undefined): unknown {
    if (callerSignal?.aborted && error === callerSignal.reason) return error;
    if (isAuthzError(error) && error.code !== "AUTHZ_UNAVAILABLE") return error;
    const unavailable = isAuthzError(error)
      ? error
      : new AuthzError(
          "AUTHZ_UNAVAILABLE",
          isCoreError(error) && error.code === "CIRCUIT_OPEN"
            ? "authz backend circuit is open after repeated failures"
            : isCoreError(error) && error.code === "BULKHEAD_FULL"
              ? "too many authz calls waiting"
              : "authz backend failed",
          { cause: error },
        );
    this.#logger.warn(
      { operation, code: unavailable.code, reason: unavailable.message },
      "authz unavailable: denying",
    );
    return unavailable;
  }

  check(query: CheckQuery, options?: CallOptions): Promise<boolean> {
    const cache = this.#cache && cacheable(query) ? this.#cache : undefined;
    const cached = cache?.get(query.object, query.relation, query.user);
    // A hit returns a shared settled promise: no allocation on the hot path.
    if (cached !== undefined) return cached ? ALLOWED : DENIED;
    const generation = this.#generation;
    return this.#guard("check", options, (callOptions) => this.#inner.check(query, callOptions)).then(
      (answer) => {
        const allowed = answer === true;
        if (generation === this.#generation) cache?.set(query.object, query.relation, query.user, allowed);
        return allowed;
      },
    );
  }

  batchCheck(queries: CheckQuery[], options?: CallOptions): Promise<boolean[]> {
    if (!Array.isArray(queries)) {
      return Promise.reject(new AuthzError("AUTHZ_VALIDATION", "batchCheck takes an array of queries"));
    }
    return this.#decide(queries, options);
  }

  /** Answers from the cache where it can, and asks the backend for the rest in one call. */
  async #decide(queries: CheckQuery[], options: CallOptions | undefined): Promise<boolean[]> {
    const generation = this.#generation;
    const answers: Array<boolean | undefined> = queries.map((query) =>
      this.#cache && cacheable(query) ? this.#cache.get(query.object, query.relation, query.user) : undefined,
    );
    const missing = answers.flatMap((answer, index) => (answer === undefined ? [index] : []));
    if (missing.length > 0) {
      const pending = missing.map((index) => queries[index]!);
      const fetched = await this.#guard("batchCheck", options, (callOptions) =>
        this.#inner.batchCheck(pending, callOptions),
      );
      missing.forEach((index, position) => {
        const allowed = fetched[position] === true;
        answers[index] = allowed;
        const query = queries[index]!;
        if (this.#cache && cacheable(query) && generation === this.#generation) {
          this.#cache.set(query.object, query.relation, query.user, allowed);
        }
      });
    }
    return answers.map((answer) => answer === true);
  }

  listObjects(query: ListObjectsQuery, options?: CallOptions): Promise<string[]> {
    return this.#guard("listObjects", options, (callOptions) => this.#inner.listObjects(query, callOptions));
  }

  async #changeTuples(
    operation: string,
    options: CallOptions | undefined,
    change: (options: CallOptions) => Promise<void>,
  ) {
    this.#invalidate();
    try {
      await this.#guard(operation, options, change);
    } finally {
      // Also after a failure: a write that timed out may still have landed.
      this.#invalidate();
    }
  }

  /**
   * A tuple on one object can change answers on many others (usersets,
   * tuple-to-userset), so a local write empties the whole cache rather than guessing.
   */
  #invalidate() {
    this.#generation++;
    this.#cache?.clear();
  }

  writeTuples(tuples: Tuple[], options?: CallOptions): Promise<void> {
    return this.#changeTuples("writeTuples", options, (callOptions) =>
      this.#inner.writeTuples(tuples, callOptions),
    );
  }

  deleteTuples(tuples: Tuple[], options?: CallOptions): Promise<void> {
    return this.#changeTuples("deleteTuples", options, (callOptions) =>
      this.#inner.deleteTuples(tuples, callOptions),
    );
  }

  readTuples(filter: Partial<Tuple>, options?: CallOptions): Promise<Tuple[]> {
    return this.#guard("readTuples", options, (callOptions) => this.#inner.readTuples(filter, callOptions));
  }

  async close(): Promise<void> {
    this.#cache?.clear();
    await this.#inner.close();
  }
}
