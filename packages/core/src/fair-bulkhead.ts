import { CoreError } from "./errors.js";

export interface FairBulkheadOptions {
  /** Operations running at once, over every key. */
  concurrency: number;
  /** Operations waiting for a slot, over every key; beyond this a call fails fast. 0 = no waiting. */
  maxQueue: number;
  /** Operations one key may have running or waiting at once, so one key cannot take every slot. */
  maxPerKey: number;
}

/** Which bound refused a call, in `details.limit` of the BULKHEAD_FULL error. */
export type FairBulkheadLimit = "perKey" | "queue";

export interface FairBulkhead {
  /** Runs `operation` for `key` once a slot is free; waiting keys take freed slots in turn. */
  run<T>(key: string, operation: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly active: number;
  readonly queued: number;
  /** Operations of `key` running or waiting. */
  heldBy(key: string): number;
}

interface Waiter {
  start(): void;
  cancelled: boolean;
}

/**
 * A bulkhead shared by many callers (users) that stays fair between them: each key may hold at
 * most `maxPerKey` running-or-waiting operations, and when a slot frees up the keys that are
 * waiting take turns (round robin), so a user with a thousand queued calls does not starve a
 * user with one. Every refusal is immediate and says which bound was reached.
 */
export function createFairBulkhead(options: FairBulkheadOptions): FairBulkhead {
  const { concurrency, maxQueue, maxPerKey } = options;
  assertBound("concurrency", concurrency, 1);
  assertBound("maxQueue", maxQueue, 0);
  assertBound("maxPerKey", maxPerKey, 1);

  let active = 0;
  let queued = 0;
  const held = new Map<string, number>();
  const waiting = new Map<string, Waiter[]>();
  /** Keys with someone waiting, in the order they get the next free slot. */
  const turnOrder: string[] = [];

  const release = (key: string) => {
    const count = (held.get(key) ?? 1) - 1;
    if (count === 0) held.delete(key);
    else held.set(key, count);
  };

  const startNext = () => {
    while (active < concurrency && turnOrder.length > 0) {
      const key = turnOrder.shift() as string;
      const queue = waiting.get(key) as Waiter[];
      const waiter = queue.shift() as Waiter;
      if (queue.length > 0) turnOrder.push(key);
      else waiting.delete(key);
      if (waiter.cancelled) continue;
      queued--;
      waiter.start();
    }
  };

  return {
    run<T>(key: string, operation: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (signal?.aborted) return Promise.reject(signal.reason);
      const heldByKey = held.get(key) ?? 0;
      if (heldByKey >= maxPerKey) {
        return Promise.reject(
          new CoreError("BULKHEAD_FULL", `this caller already has ${heldByKey} calls running or waiting`, {
            details: { limit: "perKey" satisfies FairBulkheadLimit, max: maxPerKey },
          }),
        );
      }
      const mustWait = active >= concurrency;
      if (mustWait && queued >= maxQueue) {
        return Promise.reject(
          new CoreError("BULKHEAD_FULL", `every slot is busy and ${queued} calls are waiting`, {
            details: { limit: "queue" satisfies FairBulkheadLimit, max: maxQueue, concurrency },
          }),
        );
      }
      held.set(key, heldByKey + 1);
      const execute = async (): Promise<T> => {
        active++;
        try {
          return await operation();
        } finally {
          active--;
          release(key);
          startNext();
        }
      };
      if (!mustWait) return execute();

      return new Promise<T>((resolve, reject) => {
        const onAbort = () => {
          // Left in its queue and skipped when reached: removal stays O(1).
          waiter.cancelled = true;
          queued--;
          release(key);
          reject(signal?.reason);
        };
        const waiter: Waiter = {
          cancelled: false,
          start() {
            signal?.removeEventListener("abort", onAbort);
            execute().then(resolve, reject);
          },
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        queued++;
        const queue = waiting.get(key);
        if (queue) queue.push(waiter);
        else {
          waiting.set(key, [waiter]);
          turnOrder.push(key);
        }
      });
    },
    get active() {
      return active;
    },
    get queued() {
      return queued;
    },
    heldBy(key) {
      return held.get(key) ?? 0;
    },
  };
}

function assertBound(name: string, value: number, min: number) {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be a whole number ≥ ${min} (got ${value})`);
  }
}
