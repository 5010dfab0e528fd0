import { randomBytes } from "node:crypto";
import { raceDeadline, sleep } from "@mcp-langgraph/core";
import { SessionError } from "./errors.js";

/** The one command the locks need; a node-redis v5+ client (`createClient()`) fits as is. */
export interface RedisLockClient {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

export interface RedisLocksOptions {
  client: RedisLockClient;
  /** Prepended to every lock key. Default `mcp-langgraph:lock:`. */
  keyPrefix?: string;
  /** How long a lock outlives its holder's last renewal (it is renewed every third of this). Default 10000 ms. */
  ttlMs?: number;
  /** How long `run` waits for a held lock before SESSION_LOCK_TIMEOUT. Default 30000 ms. */
  waitTimeoutMs?: number;
  /** Pause between two attempts on a held lock (jittered up to twice as long). Default 50 ms. */
  retryMs?: number;
  /** Deadline of each Redis call. Default 2000 ms. */
  commandTimeoutMs?: number;
}

/** A lock this process holds: `signal` aborts (reason SESSION_LOCK_LOST) when it can no longer be sure it holds it. */
export interface Lease {
  readonly signal: AbortSignal;
  /** Deletes the lock if it is still this holder's (compare-and-delete); never throws. */
  release(): Promise<void>;
  /** Stops renewing but keeps the lock until it expires, so nobody takes it again before then. */
  stopRenewing(): void;
}

export const DEFAULT_LOCK_TTL_MS = 10_000;
export const DEFAULT_LOCK_WAIT_TIMEOUT_MS = 30_000;

// Each script touches one key, so locks work on a Redis Cluster as on one server.
const ACQUIRE = "return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0";
const RENEW =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/**
 * Mutual exclusion across processes on one Redis: SET NX PX with a random token, renewed while
 * held, released by compare-and-delete (ADR 0165). A holder that cannot renew (Redis down, lock
 * expired or taken) learns it through its lease's signal before the lock's time is up: the
 * validity is measured from when each renewal was sent, less a margin for clock drift.
 */
export class RedisLocks {
  readonly #client: RedisLockClient;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #waitTimeoutMs: number;
  readonly #retryMs: number;
  readonly #commandTimeoutMs: number;

  constructor(options: RedisLocksOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix ?? "mcp-langgraph:lock:";
    this.#ttlMs = positive(options.ttlMs ?? DEFAULT_LOCK_TTL_MS, "ttlMs", 100);
    this.#waitTimeoutMs = positive(options.waitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS, "waitTimeoutMs", 1);
    this.#retryMs = positive(options.retryMs ?? 50, "retryMs", 1);
    this.#commandTimeoutMs = positive(options.commandTimeoutMs ?? 2_000, "commandTimeoutMs", 1);
  }

  /** Takes the lock if it is free; undefined when another holder has it. */
  async tryLease(
    name: string,
    options: { ttlMs?: number; signal?: AbortSignal } = {},
  ): Promise<Lease | undefined> {
    const ttlMs = positive(options.ttlMs ?? this.#ttlMs, "ttlMs", 100);
    const key = this.#key(name);
    const token = randomBytes(16).toString("base64url");
    const sentAt = performance.now();
    const taken = await this.#eval(ACQUIRE, key, [token, String(ttlMs)], options.signal);
    return taken === 1 ? this.#lease(key, token, ttlMs, sentAt) : undefined;
  }

  /** Waits (at most `waitTimeoutMs`, or until `signal` aborts) for the lock, then holds it. */
  async lease(name: string, signal?: AbortSignal): Promise<Lease> {
    const giveUpAt = performance.now() + this.#waitTimeoutMs;
    for (;;) {
      const lease = await this.tryLease(name, signal ? { signal } : {});
      if (lease) return lease;
      const left = giveUpAt - performance.now();
      if (left <= 0) {
        throw new SessionError(
          "SESSION_LOCK_TIMEOUT",
          `the lock was still held by another holder after ${this.#waitTimeoutMs} ms`,
          { details: { retryable: true, waitTimeoutMs: this.#waitTimeoutMs } },
        );
      }
      await sleep(Math.min(left, this.#retryMs * (1 + Math.random())), signal);
    }
  }

  /**
   * Runs `operation` holding the lock `name`; it gets the lease's signal, which aborts if the lock
   * is lost mid-way. When that happened, the run fails with SESSION_LOCK_LOST whatever the operation did.
   */
  async run<T>(name: string, operation: (held: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const lease = await this.lease(name, signal);
    try {
      const result = await operation(lease.signal);
      if (lease.signal.aborted) throw lease.signal.reason;
      return result;
    } catch (error) {
      throw lease.signal.aborted ? lease.signal.reason : error;
    } finally {
      await lease.release();
    }
  }

  #lease(key: string, token: string, ttlMs: number, acquiredAt: number): Lease {
    const lost = new AbortController();
    // Margin for clock drift and the renewal's own round trip: 1% of the TTL plus 2 ms (as Redlock).
    const validity = ttlMs - Math.ceil(ttlMs / 100) - 2;
    const loseIt = (why: string) =>
      lost.abort(new SessionError("SESSION_LOCK_LOST", `the lock ${why} before its holder finished`));
    let expiry = setTimeout(
      () => loseIt("expired"),
      Math.max(0, validity - (performance.now() - acquiredAt)),
    );
    let renewing = true;
    const renew = async () => {
      const sentAt = performance.now();
      try {
        const renewed = await this.#eval(RENEW, key, [token, String(ttlMs)]);
        if (!renewing || lost.signal.aborted) return;
        if (renewed !== 1) return loseIt("was taken by another holder or expired");
        clearTimeout(expiry);
        expiry = setTimeout(() => loseIt("expired"), Math.max(0, validity - (performance.now() - sentAt)));
      } catch {
        // Redis unreachable: the next renewal may succeed; the expiry timer decides otherwise.
      }
    };
    const renewal = setInterval(() => void renew(), Math.max(1, Math.floor(ttlMs / 3)));
    // Neither timer keeps a process alive that has nothing else to do.
    renewal.unref();
    expiry.unref();
    const stopRenewing = () => {
      renewing = false;
      clearInterval(renewal);
    };
    lost.signal.addEventListener("abort", stopRenewing, { once: true });
    return {
      signal: lost.signal,
      stopRenewing: () => {
        stopRenewing();
        clearTimeout(expiry);
      },
      release: async () => {
        stopRenewing();
        clearTimeout(expiry);
        await this.#eval(RELEASE, key, [token]).catch(() => {
          // The lock then expires on its own after at most its TTL.
        });
      },
    };
  }

  #key(name: string): string {
    if (typeof name !== "string" || name.length === 0 || name.length > 1_024) {
      throw new SessionError("SESSION_INVALID_INPUT", "a lock name must be 1 to 1024 characters");
    }
    return `${this.#prefix}${name}`;
  }

  async #eval(script: string, key: string, args: string[], signal?: AbortSignal): Promise<unknown> {
    try {
      return await raceDeadline(this.#client.eval(script, { keys: [key], arguments: args }), {
        timeoutMs: this.#commandTimeoutMs,
        ...(signal ? { signal } : {}),
        onTimeout: (ms) =>
          new SessionError("SESSION_UNAVAILABLE", `Redis did not answer a lock call within ${ms} ms`, {
            details: { retryable: true },
          }),
      });
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      if (error instanceof SessionError) throw error;
      throw new SessionError("SESSION_UNAVAILABLE", "Redis refused or failed a lock call", {
        cause: error,
        details: { retryable: true },
      });
    }
  }
}

function positive(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new SessionError("SESSION_INVALID_INPUT", `${name} must be an integer of at least ${min}`);
  }
  return value;
}
