import { createLoginThrottle, type LoginThrottle } from "@mcp-langgraph/auth-provider";
import type { RateCounterStore } from "@mcp-langgraph/core";
import { createUsageLimits, loadRateTiersFile, type UsageLimits } from "@mcp-langgraph/mcp-server";
import { createClient } from "redis";
import type { AppConfig } from "./config.js";

export interface AppRateLimits {
  loginThrottle: LoginThrottle;
  usageLimits: UsageLimits;
  close(): Promise<void>;
}

/**
 * Login throttling and per-user usage limits over one counter store: Redis next to the login
 * sessions (so every instance counts together), or memory for a single process. A bad tiers file
 * stops start-up with the file and the problem named.
 */
export async function createRateLimits(config: AppConfig): Promise<AppRateLimits> {
  const { rateLimits, sessions } = config;
  const tiers = rateLimits.tiersFile
    ? await loadRateTiersFile(rateLimits.tiersFile, { signal: AbortSignal.timeout(5_000) })
    : undefined;
  let store: RateCounterStore = { backend: "memory" };
  let close = async () => {};
  if (sessions.backend === "redis") {
    // Commands fail at once while Redis is down (no offline queue): limits that cannot be read fail closed.
    const client = createClient({
      url: sessions.url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 5_000 },
    });
    // Connection errors surface on the calls (typed, mapped to 503); the emitter must not crash the process.
    client.on("error", () => {});
    await client.connect();
    store = {
      backend: "redis",
      client,
      keyPrefix: `${sessions.keyPrefix ?? "mcp-langgraph:"}`,
      timeoutMs: rateLimits.storeTimeoutMs,
    };
    // A graceful close waits for a reply a Redis that is down never sends: drop the socket then.
    close = async () => (client.isReady ? client.close() : client.destroy());
  }
  return {
    loginThrottle: createLoginThrottle({ store, ...rateLimits.login }),
    usageLimits: createUsageLimits({
      store,
      toolCallsPerMinute: rateLimits.toolCallsPerMinute,
      ...(rateLimits.modelTokensPerDay !== undefined
        ? { modelTokensPerDay: rateLimits.modelTokensPerDay }
        : {}),
      ...(tiers ? { tiers } : {}),
    }),
    close,
  };
}
