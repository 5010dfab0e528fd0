import { invalidInput, SessionError } from "./errors.js";
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
    case "redis":
      // Milestone 1 ships the memory store; the Redis store lands in the next commit.
      throw new SessionError("SESSION_UNAVAILABLE", "the redis backend is not implemented yet");
    default:
      throw invalidInput('backend must be "memory" or "redis"');
  }
}
