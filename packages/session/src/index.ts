export { isSessionError, SessionError, type SessionErrorCode } from "./errors.js";
export { createSessionStore } from "./factory.js";
export { MemorySessionStore, type MemorySessionStoreOptions } from "./memory-store.js";
export { DEFAULT_KEY_PREFIX } from "./redis-keys.js";
export {
  DEFAULT_LOCK_TTL_MS,
  DEFAULT_LOCK_WAIT_TIMEOUT_MS,
  type Lease,
  type RedisLockClient,
  RedisLocks,
  type RedisLocksOptions,
} from "./redis-locks.js";
export type {
  CallOptions,
  CreateSessionInput,
  MemorySessionStoreConfig,
  RedisSessionStoreConfig,
  SessionData,
  SessionScript,
  SessionScriptCall,
  SessionScriptResult,
  SessionStore,
  SessionStoreConfig,
  SessionStoreOptions,
} from "./types.js";
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_SESSIONS,
  DEFAULT_TTL_SECONDS,
} from "./validation.js";
