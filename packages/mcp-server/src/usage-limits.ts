import type { Principal } from "@mcp-langgraph/auth-provider";
import { createRateCounter, isCoreError, type RateCounter, type RateCounterStore } from "@mcp-langgraph/core";
import { McpServerError } from "./errors.js";
import type { RateTier } from "./rate-tiers.js";

export interface UsageLimitsOptions {
  /** Redis (shared by every instance) or memory; the app owns the client. */
  store: RateCounterStore;
  /** Tool calls per user per minute, across all their sessions, for users with no tier role (default 120). */
  toolCallsPerMinute?: number;
  /** Model tokens per user per 24 hours for users with no tier role; unset means no token limit. */
  modelTokensPerDay?: number;
  /** Per-role tiers; a user holding any of these roles gets the most generous of them instead of the default. */
  tiers?: Record<string, RateTier>;
}

/** The limit names a refused call reports (`structuredContent.error.limit`). */
export type UsageLimitName = "tool_calls_per_minute" | "model_tokens_per_day";

/** Per-user limits on tool calls and model tokens, checked before the work and counted after it. */
export interface UsageLimits {
  /** Counts one tool call; throws RATE_LIMITED when the user's calls this minute are spent. */
  admitToolCall(principal: Principal, signal: AbortSignal): Promise<void>;
  /** Throws RATE_LIMITED when the user's model tokens for the day are spent (a turn would spend more). */
  admitModelTurn(principal: Principal, signal: AbortSignal): Promise<void>;
  /** Adds tokens the model reported for one of the user's turns. */
  recordModelTokens(principal: Principal, tokens: number, signal: AbortSignal): Promise<void>;
}

export const DEFAULT_TOOL_CALLS_PER_MINUTE = 120;
const DAY_SECONDS = 86_400;
const DEFAULT_TIER = "default";

export function createUsageLimits(options: UsageLimitsOptions): UsageLimits {
  const tiers: Record<string, RateTier> = {
    ...options.tiers,
    // Namespaced apart from role names by the `*` a role name cannot contain.
    [`*${DEFAULT_TIER}`]: {
      toolCallsPerMinute: options.toolCallsPerMinute ?? DEFAULT_TOOL_CALLS_PER_MINUTE,
      ...(options.modelTokensPerDay !== undefined ? { modelTokensPerDay: options.modelTokensPerDay } : {}),
    },
  };
  const counterName = (kind: string, tier: string) =>
    `${kind}:${tier.startsWith("*") ? `-${tier.slice(1)}` : `role.${tier}`}`;
  const calls = new Map<string, RateCounter>();
  const tokens = new Map<string, RateCounter>();
  for (const [name, tier] of Object.entries(tiers)) {
    calls.set(
      name,
      createRateCounter(options.store, {
        name: counterName("calls", name),
        points: tier.toolCallsPerMinute,
        durationSeconds: 60,
      }),
    );
    if (tier.modelTokensPerDay !== undefined)
      tokens.set(
        name,
        createRateCounter(options.store, {
          name: counterName("tokens", name),
          points: tier.modelTokensPerDay,
          durationSeconds: DAY_SECONDS,
        }),
      );
  }

  /** The user's tier roles, or the default tier when they hold none. */
  const tiersOf = (principal: Principal): string[] => {
    const held = principal.roles.filter((role) => Object.hasOwn(options.tiers ?? {}, role));
    return held.length > 0 ? held : [`*${DEFAULT_TIER}`];
  };
  /** Most calls per minute wins. */
  const callTier = (principal: Principal) =>
    tiersOf(principal).reduce((best, name) =>
      (tiers[name]?.toolCallsPerMinute ?? 0) > (tiers[best]?.toolCallsPerMinute ?? 0) ? name : best,
    );
  /** No token limit beats any limit; otherwise the most tokens wins. */
  const tokenCounter = (principal: Principal): RateCounter | undefined => {
    let best: RateCounter | undefined;
    for (const name of tiersOf(principal)) {
      const counter = tokens.get(name);
      if (!counter) return undefined;
      if (!best || counter.points > best.points) best = counter;
    }
    return best;
  };

  const limited = (limit: UsageLimitName, points: number, retryAfterMs: number, what: string) =>
    new McpServerError(
      "RATE_LIMITED",
      `Rate limit reached: ${what} (${limit} = ${points}); retry in ${Math.ceil(retryAfterMs / 1000)} s.`,
      { details: { limit, retryAfterMs } },
    );
  const guarded = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      if (isCoreError(error) && error.code === "RATE_STORE_UNAVAILABLE")
        throw new McpServerError(
          "RATE_LIMIT_UNAVAILABLE",
          "Usage limits cannot be checked right now; please retry later.",
          { cause: error },
        );
      throw error;
    }
  };

  return {
    admitToolCall: (principal, signal) =>
      guarded(async () => {
        const counter = calls.get(callTier(principal)) as RateCounter;
        const decision = await counter.consume(principal.userId, signal);
        if (!decision.allowed)
          throw limited(
            "tool_calls_per_minute",
            counter.points,
            decision.msBeforeReset,
            "too many tool calls this minute",
          );
      }),
    admitModelTurn: (principal, signal) =>
      guarded(async () => {
        const counter = tokenCounter(principal);
        if (!counter) return;
        const state = await counter.peek(principal.userId, signal);
        if (state.consumed >= counter.points)
          throw limited(
            "model_tokens_per_day",
            counter.points,
            state.msBeforeReset,
            "the model tokens for today are spent",
          );
      }),
    recordModelTokens: (principal, count, signal) =>
      guarded(async () => {
        const counter = tokenCounter(principal);
        if (counter && count > 0) await counter.add(principal.userId, Math.ceil(count), signal);
      }),
  };
}
