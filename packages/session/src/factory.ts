import { invalidInput } from "./errors.js";
import { MemorySessionStore } from "./memory-store.js";
import type { SessionStore, SessionStoreConfig, SessionStoreOptions } from "./types.js";

/**
 * Builds the configured store. The Redis store connects before this resolves
 * and fails with SESSION_UNAVAILABLE when Redis cannot be reached in time.
 */
export async function createSessionStore(
  config: SessionStoreConfig,
  options: SessionStoreOptions = {},
): Promise<SessionStore> {
  switch (config?.backend) {
    case "memory":
      return new MemorySessionStore({ ...options, sweepIntervalMs: config.sweepIntervalMs });
    case "redis": {
      // Loaded on demand so memory-only users never load the Redis client.
      const { RedisSessionStore } = await import("./redis-store.js");
      return RedisSessionStore.connect(config, options);
    }
    default:
      throw invalidInput('backend must be "memory" or "redis"');
  }
}
