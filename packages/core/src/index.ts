export { type Bulkhead, type BulkheadOptions, createBulkhead } from "./bulkhead.js";
export { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from "./circuit-breaker.js";
export {
  type DeadlineOptions,
  deadlineSignal,
  isAbortError,
  raceAbort,
  raceDeadline,
  sleep,
  withDeadline,
} from "./deadline.js";
export {
  CodedError,
  type CodedErrorOptions,
  CoreError,
  type CoreErrorCode,
  isCodedError,
  isCoreError,
} from "./errors.js";
export {
  createFairBulkhead,
  type FairBulkhead,
  type FairBulkheadLimit,
  type FairBulkheadOptions,
} from "./fair-bulkhead.js";
export { type Logger, noopLogger } from "./logger.js";
export {
  createLoopSlicer,
  type LoopSlicer,
  type LoopSlicerOptions,
  type SlicePriority,
} from "./loop-slicer.js";
export { handlePgPoolErrors, type PgClientEvents, type PgPoolEvents } from "./pg-pool-errors.js";
export {
  createRateCounter,
  DEFAULT_RATE_STORE_TIMEOUT_MS,
  type RateCounter,
  type RateCounterOptions,
  type RateCounterStore,
  type RateDecision,
  type RateState,
} from "./rate-counter.js";
export { backoffDelay, type RetryDecision, type RetryOptions, retry } from "./retry.js";
export { openSqliteFile, type SqliteFileOptions, type SqliteHandle } from "./sqlite-file.js";
export { errorType, markFailed, type Span, type SpanOptions, type Tracer, withSpan } from "./tracing.js";
