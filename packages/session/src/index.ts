export { isSessionError, SessionError, type SessionErrorCode } from "./errors.js";
export { createSessionStore } from "./factory.js";
export { MemorySessionStore, type MemorySessionStoreOptions } from "./memory-store.js";
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
export { DEFAULT_MAX_CONCURRENT_SESSIONS, DEFAULT_TTL_SECONDS } from "./validation.js";
