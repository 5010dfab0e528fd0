import pLimit, { type LimitFunction } from "p-limit";
import { CoreError } from "./errors.js";

export interface BulkheadOptions {
  /** Calls allowed to run at once. */
  concurrency: number;
  /** Calls allowed to wait for a slot; beyond this a call fails fast with BULKHEAD_FULL. */
  maxQueue?: number;
}

export interface Bulkhead {
  run<T>(operation: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly active: number;
  readonly queued: number;
}

/** Bounded concurrency toward one backend, with a bounded wait queue and abortable waits. */
export function createBulkhead({
  concurrency,
  maxQueue = Number.POSITIVE_INFINITY,
}: BulkheadOptions): Bulkhead {
  const limit: LimitFunction = pLimit(concurrency);
  return {
    run(operation, signal) {
      // Full only when every slot is busy and the wait queue is at its bound (maxQueue 0 = no waiting).
      if (limit.activeCount + limit.pendingCount >= concurrency + maxQueue) {
        return Promise.reject(
          new CoreError("BULKHEAD_FULL", `too many waiting calls (${limit.pendingCount} queued)`),
        );
      }
      return limit(() => {
        signal?.throwIfAborted();
        return operation();
      });
    },
    get active() {
      return limit.activeCount;
    },
    get queued() {
      return limit.pendingCount;
    },
  };
}
