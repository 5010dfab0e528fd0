import {
  type Bulkhead,
  CircuitBreaker,
  type CircuitState,
  createBulkhead,
  isAbortError,
  isCoreError,
  type Logger,
  noopLogger,
  raceAbort,
  type Tracer,
  withDeadline,
  withSpan,
} from "@mcp-langgraph/core";
import type { Span } from "@opentelemetry/api";
import { DecisionCache } from "./decision-cache.ts";
import { AuthzError, isAuthzError } from "./errors.ts";
import type { Authorizer, CallOptions, CheckQuery, ClaimResult, ListObjectsQuery, Tuple } from "./types.ts";

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
  /**
   * Told of every decision a check or batch check returns, and whether the decision cache gave it
   * (metrics). Not told of failures (they throw). Must not throw; a throw is ignored.
   */
  onDecision?: (decision: AuthzDecision) => void;
  /** Traces each check as an `authz.check` span (relation, object type, answer, cached). None when unset. */
  tracer?: Tracer;
}

export interface AuthzDecision {
  allowed: boolean;
  /** Answered by the decision cache, without asking the backend. */
  cached: boolean;
}

const NO_OPTIONS: CallOptions = Object.freeze({});
const ALLOWED = Promise.resolve(true);
const DENIED = Promise.resolve(false);

const isEmpty = (value: object | undefined) => value === undefined || Object.keys(value).length === 0;

/** Length-prefixed, so no choice of names can make two different inputs produce one key. */
const keyPart = (value: string) => `${value.length}:${value}`;

const hasContextualTuples = (query: CheckQuery) =>
  Array.isArray(query.contextualTuples) && query.contextualTuples.length > 0;

/**
 * The user part of a query's cache key, or undefined when its answer may not
 * be cached. A query on stored tuples alone is keyed by its user as is (no
 * allocation on the hot path). Contextual tuples change the answer, so they
 * join the key: repeated checks with the same ones (the role tuples of one
 * token, say) share an entry and any other set is another entry; those entries
 * live in a cache of their own, so no key can collide with a plain user. A
 * condition context, or a contextual tuple with a condition, can change the
 * answer per request and is never cached. See ADR 0061 (amending 0023).
 */
function cacheUser(query: CheckQuery): string | undefined {
  if (
    typeof query?.object !== "string" ||
    typeof query.relation !== "string" ||
    typeof query.user !== "string" ||
    !isEmpty(query.context)
  ) {
    return undefined;
  }
  const tuples = query.contextualTuples;
  if (tuples === undefined || (Array.isArray(tuples) && tuples.length === 0)) return query.user;
  if (!Array.isArray(tuples)) return undefined;
  let user = keyPart(query.user);
  for (const tuple of tuples) {
    if (
      typeof tuple?.user !== "string" ||
      typeof tuple.relation !== "string" ||
      typeof tuple.object !== "string" ||
      tuple.condition !== undefined
    ) {
      return undefined;
    }
    user += `|${keyPart(tuple.user)}${keyPart(tuple.relation)}${keyPart(tuple.object)}`;
  }
  return user;
}

/**
 * What a check's span may say: the relation and the object's type. Never the object id or the
 * user, which name people and their conversations.
 */
function checkAttributes(query: CheckQuery) {
  const object = typeof query?.object === "string" ? query.object : "";
  const colon = object.indexOf(":");
  return {
    "authz.relation": typeof query?.relation === "string" ? query.relation : "",
    "authz.object.type": colon < 0 ? "" : object.slice(0, colon),
    "authz.contextual_tuples": Array.isArray(query?.contextualTuples) ? query.contextualTuples.length : 0,
  };
}

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
  /** Decisions that depended on contextual tuples; apart from #cache, so no key can collide with a plain one. */
  readonly #contextualCache: DecisionCache | undefined;
  readonly #logger: Logger;
  readonly #remote: boolean;
  readonly #onDecision: ((decision: AuthzDecision) => void) | undefined;
  readonly #tracer: Tracer | undefined;
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
    this.#contextualCache =
      options.cache === false
        ? undefined
        : new DecisionCache({
            maxEntries: options.cache?.maxEntries ?? 10_000,
            ttlMs: options.cache?.ttlMs ?? 3_000,
          });
    this.#logger = options.logger ?? noopLogger;
    this.#remote = options.remote ?? true;
    this.#onDecision = options.onDecision;
    this.#tracer = options.tracer;
  }

  /**
   * The backend circuit: `open` while calls fail fast after repeated failures, `half-open` while one
   * probe may try. Always `closed` for an in-process engine, which has no circuit (for metrics).
   */
  get circuitState(): CircuitState {
    return this.#breaker.state;
  }

  /** Reports one decision to the hook and the check's span (when there are any). */
  #decided(allowed: boolean, cached: boolean, span: Span | undefined) {
    span?.setAttributes({ "authz.allowed": allowed, "authz.cached": cached });
    if (!this.#onDecision) return;
    try {
      this.#onDecision({ allowed, cached });
    } catch {
      // see ResilienceOptions.onDecision: metrics never change a decision
    }
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
    if (!this.#tracer) return this.#check(query, options, undefined);
    return withSpan(this.#tracer, "authz.check", { attributes: checkAttributes(query) }, (span) =>
      this.#check(query, options, span),
    );
  }

  #check(query: CheckQuery, options: CallOptions | undefined, span: Span | undefined): Promise<boolean> {
    const user = this.#cache ? cacheUser(query) : undefined;
    const cache = user === undefined ? undefined : this.#cacheFor(query);
    const cached = user === undefined ? undefined : cache?.get(query.object, query.relation, user);
    // A hit returns a shared settled promise: no allocation on the hot path.
    if (cached !== undefined) {
      this.#decided(cached, true, span);
      return cached ? ALLOWED : DENIED;
    }
    const generation = this.#generation;
    return this.#guard("check", options, (callOptions) => this.#inner.check(query, callOptions)).then(
      (answer) => {
        const allowed = answer === true;
        if (user !== undefined && generation === this.#generation) {
          cache?.set(query.object, query.relation, user, allowed);
        }
        this.#decided(allowed, false, span);
        return allowed;
      },
    );
  }

  batchCheck(queries: CheckQuery[], options?: CallOptions): Promise<boolean[]> {
    if (!Array.isArray(queries)) {
      return Promise.reject(new AuthzError("AUTHZ_VALIDATION", "batchCheck takes an array of queries"));
    }
    if (!this.#tracer) return this.#decide(queries, options);
    return withSpan(
      this.#tracer,
      "authz.batch_check",
      { attributes: { "authz.checks": queries.length } },
      () => this.#decide(queries, options),
    );
  }

  /** Answers from the cache where it can, and asks the backend for the rest in one call. */
  async #decide(queries: CheckQuery[], options: CallOptions | undefined): Promise<boolean[]> {
    const generation = this.#generation;
    const users = queries.map((query) => (this.#cache ? cacheUser(query) : undefined));
    const answers: Array<boolean | undefined> = queries.map((query, index) => {
      const user = users[index];
      return user === undefined ? undefined : this.#cacheFor(query)?.get(query.object, query.relation, user);
    });
    const missing = answers.flatMap((answer, index) => (answer === undefined ? [index] : []));
    for (const answer of answers) if (answer !== undefined) this.#decided(answer, true, undefined);
    if (missing.length > 0) {
      const pending = missing.map((index) => queries[index]!);
      const fetched = await this.#guard("batchCheck", options, (callOptions) =>
        this.#inner.batchCheck(pending, callOptions),
      );
      missing.forEach((index, position) => {
        const allowed = fetched[position] === true;
        answers[index] = allowed;
        const query = queries[index]!;
        const user = users[index];
        if (user !== undefined && generation === this.#generation) {
          this.#cacheFor(query)?.set(query.object, query.relation, user, allowed);
        }
        this.#decided(allowed, false, undefined);
      });
    }
    return answers.map((answer) => answer === true);
  }

  listObjects(query: ListObjectsQuery, options?: CallOptions): Promise<string[]> {
    return this.#guard("listObjects", options, (callOptions) => this.#inner.listObjects(query, callOptions));
  }

  async #changeTuples<T>(
    operation: string,
    options: CallOptions | undefined,
    change: (options: CallOptions) => Promise<T>,
  ): Promise<T> {
    this.#invalidate();
    try {
      return await this.#guard(operation, options, change);
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
    this.#contextualCache?.clear();
  }

  #cacheFor(query: CheckQuery): DecisionCache | undefined {
    return hasContextualTuples(query) ? this.#contextualCache : this.#cache;
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

  claimTuple(tuple: Tuple, options?: CallOptions): Promise<ClaimResult> {
    return this.#changeTuples("claimTuple", options, (callOptions) =>
      this.#inner.claimTuple(tuple, callOptions),
    );
  }

  readTuples(filter: Partial<Tuple>, options?: CallOptions): Promise<Tuple[]> {
    return this.#guard("readTuples", options, (callOptions) => this.#inner.readTuples(filter, callOptions));
  }

  async close(): Promise<void> {
    this.#cache?.clear();
    this.#contextualCache?.clear();
    await this.#inner.close();
  }
}
