import { createRateCounter, isCoreError, type RateCounterStore } from "@mcp-langgraph/core";
import { AuthError, isAuthError } from "./errors.js";

export interface LoginThrottleOptions {
  /** Shared (Redis) so every instance counts the same failures, or this process's memory. */
  store: RateCounterStore;
  /** Failed logins allowed per username and client address within the window (default 5). */
  maxFailuresPerUser?: number;
  /** Failed logins allowed per client address, whatever the username, within the window (default 100). */
  maxFailuresPerAddress?: number;
  /** The window, counted from an address's or username's first failure (default 900 s). */
  windowSeconds?: number;
}

export interface LoginThrottle {
  /**
   * Runs `verify` (the password check and everything after it) unless the username at this
   * address, or the address, is throttled; then it throws LOGIN_THROTTLED without calling
   * `verify`, so a throttled guess costs no hash and learns nothing, right password or not.
   * An INVALID_CREDENTIALS failure counts against both limits; a success clears the
   * username+address count. A store that cannot answer throws AUTH_UNAVAILABLE (fail closed).
   */
  attempt<T>(username: string, address: string, signal: AbortSignal, verify: () => Promise<T>): Promise<T>;
}

export const DEFAULT_LOGIN_MAX_FAILURES = 5;
export const DEFAULT_LOGIN_MAX_FAILURES_PER_ADDRESS = 100;
export const DEFAULT_LOGIN_WINDOW_SECONDS = 900;

export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const durationSeconds = options.windowSeconds ?? DEFAULT_LOGIN_WINDOW_SECONDS;
  const perUser = createRateCounter(options.store, {
    name: "login-user",
    points: options.maxFailuresPerUser ?? DEFAULT_LOGIN_MAX_FAILURES,
    durationSeconds,
  });
  const perAddress = createRateCounter(options.store, {
    name: "login-address",
    points: options.maxFailuresPerAddress ?? DEFAULT_LOGIN_MAX_FAILURES_PER_ADDRESS,
    durationSeconds,
  });

  const storeDown = (error: unknown): never => {
    if (isCoreError(error) && error.code === "RATE_STORE_UNAVAILABLE")
      throw new AuthError("AUTH_UNAVAILABLE", "login throttle store unavailable", {
        details: { reason: "throttle_store" },
        cause: error,
      });
    throw error;
  };

  return {
    async attempt<T>(
      username: string,
      address: string,
      signal: AbortSignal,
      verify: () => Promise<T>,
    ): Promise<T> {
      // Usernames are free text: encoded, so no username can forge another's key.
      const userKey = `${encodeURIComponent(username)}@${address}`;
      // Every attempt takes its point before the check, so concurrent guesses cannot all slip in
      // under the limit; a success gives it back below.
      const [byAddress, byUser] = await Promise.all([
        perAddress.consume(address, signal),
        perUser.consume(userKey, signal),
      ]).catch(storeDown);
      const refused = [byAddress, byUser].filter((decision) => !decision.allowed);
      if (refused.length > 0) {
        const retryAfterMs = Math.max(...refused.map((decision) => decision.msBeforeReset));
        throw new AuthError("LOGIN_THROTTLED", "too many failed logins; retry later", {
          details: { retryAfterMs, limit: byAddress.allowed ? "per_user" : "per_address" },
        });
      }
      let result: T;
      try {
        result = await verify();
      } catch (error) {
        // Only a wrong password is a failure; an outage (503) must not lock a user out.
        if (!(isAuthError(error) && error.code === "INVALID_CREDENTIALS")) {
          await Promise.all([
            perAddress.refund(address, 1, signal),
            perUser.refund(userKey, 1, signal),
          ]).catch(() => {});
        }
        throw error;
      }
      // The user proved the password: their count starts again, and the address keeps only failures.
      await Promise.all([perUser.reset(userKey, signal), perAddress.refund(address, 1, signal)]).catch(
        () => {},
      );
      return result;
    },
  };
}
