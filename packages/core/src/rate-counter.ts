import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { raceDeadline } from "./deadline.js";
import { CoreError } from "./errors.js";

/**
 * Where rate counters keep their counts: this process's memory, or Redis so that every instance
 * behind a balancer shares them. `client` is a connected node-redis (`redis` / `@redis/client`
 * v4+) client; it should be created with `disableOfflineQueue: true` so a command fails at once
 * while Redis is down instead of waiting in the client's queue.
 */
export type RateCounterStore =
  | { backend: "memory" }
  | { backend: "redis"; client: unknown; keyPrefix?: string; timeoutMs?: number };

export interface RateCounterOptions {
  /** Names the counter in keys (`<keyPrefix>rl:<name>:<key>`); letters, digits and `:_.-`. */
  name: string;
  /** Points a key may consume per window. */
  points: number;
  /** Window length; a key's window starts at its first point (fixed window). */
  durationSeconds: number;
}

export interface RateState {
  /** Points consumed in the current window (0 when the key has none). */
  consumed: number;
  /** When the current window ends, i.e. when a refused caller may try again. */
  msBeforeReset: number;
}

export interface RateDecision extends RateState {
  allowed: boolean;
}

/** A counter per key over a fixed window; every call has a deadline and takes the caller's signal. */
export interface RateCounter {
  readonly points: number;
  /** Counts `points` (default 1) and says whether the key is still within its limit. */
  consume(key: string, signal: AbortSignal, points?: number): Promise<RateDecision>;
  /** The key's count, without counting. */
  peek(key: string, signal: AbortSignal): Promise<RateState>;
  /** Adds points without deciding anything (usage reported after the fact). */
  add(key: string, points: number, signal: AbortSignal): Promise<void>;
  /** Gives points back (an attempt that turned out not to count). */
  refund(key: string, points: number, signal: AbortSignal): Promise<void>;
  reset(key: string, signal: AbortSignal): Promise<void>;
}

export const DEFAULT_RATE_STORE_TIMEOUT_MS = 2_000;
const NAME_PATTERN = /^[A-Za-z0-9:_.-]{1,64}$/;

export function createRateCounter(store: RateCounterStore, options: RateCounterOptions): RateCounter {
  const { name, points, durationSeconds } = options;
  if (!NAME_PATTERN.test(name)) throw new TypeError(`rate counter name "${name}" is not a plain key word`);
  if (!Number.isInteger(points) || points < 1)
    throw new TypeError("rate counter points must be a positive integer");
  if (!Number.isInteger(durationSeconds) || durationSeconds < 1)
    throw new TypeError("rate counter durationSeconds must be a positive integer");
  const keyPrefix = `${store.backend === "redis" ? (store.keyPrefix ?? "") : ""}rl:${name}`;
  const limiter =
    store.backend === "redis"
      ? new RateLimiterRedis({
          storeClient: store.client,
          useRedisPackage: true,
          // Never queue behind a reconnecting client: a limit nobody can read fails closed at once.
          rejectIfRedisNotReady: true,
          keyPrefix,
          points,
          duration: durationSeconds,
        })
      : new RateLimiterMemory({ keyPrefix, points, duration: durationSeconds });
  const timeoutMs = store.backend === "redis" ? (store.timeoutMs ?? DEFAULT_RATE_STORE_TIMEOUT_MS) : 1_000;

  /** Runs one store call under the deadline; a store failure (not a refusal) becomes RATE_STORE_UNAVAILABLE. */
  const call = async <T>(operation: () => Promise<T>, signal: AbortSignal): Promise<T> => {
    try {
      return await raceDeadline(operation(), { timeoutMs, signal });
    } catch (error) {
      if (error instanceof RateLimiterRes) throw error;
      if (signal.aborted) throw signal.reason;
      throw new CoreError("RATE_STORE_UNAVAILABLE", `rate counter ${name}: the store did not answer`, {
        cause: error,
      });
    }
  };
  const stateOf = (res: RateLimiterRes | null): RateState => ({
    consumed: res?.consumedPoints ?? 0,
    msBeforeReset: Math.max(0, res?.msBeforeNext ?? 0),
  });

  return {
    points,
    async consume(key, signal, count = 1) {
      try {
        const res = await call(() => limiter.consume(key, count), signal);
        return { allowed: true, ...stateOf(res) };
      } catch (error) {
        if (error instanceof RateLimiterRes) return { allowed: false, ...stateOf(error) };
        throw error;
      }
    },
    async peek(key, signal) {
      return stateOf(await call(() => limiter.get(key), signal));
    },
    async add(key, count, signal) {
      await call(() => limiter.penalty(key, count), signal);
    },
    async refund(key, count, signal) {
      await call(() => limiter.reward(key, count), signal);
    },
    async reset(key, signal) {
      await call(() => limiter.delete(key), signal);
    },
  };
}
