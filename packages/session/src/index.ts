export { isSessionError, SessionError, type SessionErrorCode } from "./errors.js";
export { createSessionStore } from "./factory.js";
export { MemorySessionStore, type MemorySessionStoreOptions } from "./memory-store.js";
export { DEFAULT_KEY_PREFIX } from "./redis-keys.js";
export type {
  CallOptions,
  CreateSessionInput,
  MemorySessionStoreConfig,
  RedisSessionStoreConfig,
  SessionData,
  SessionStore,
  SessionStoreConfig,
  SessionStoreOptions,
} from "./types.js";
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_SESSIONS,
  DEFAULT_TTL_SECONDS,
} from "./validation.js";
