import type { Logger } from "@mcp-langgraph/core";

export interface SessionData {
  sessionId: string;
  userId: string;
  username: string;
  roles: string[];
  metadata: Record<string, unknown>;
  createdAt: Date;
  lastAccessedAt: Date;
  expiresAt: Date;
}

export interface CreateSessionInput {
  userId: string;
  username: string;
  roles: string[];
  metadata?: Record<string, unknown>;
  /** Lifetime of this session; defaults to the store's `ttlSeconds`. */
  ttlSeconds?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * User sessions. Every method is async and takes an optional abort signal.
 * Unknown, expired or malformed session ids behave as "not found" (null / false),
 * so a forged id can never reach another user's data.
 */
export interface SessionStore {
  /** Creates a session and returns its id; evicts the user's oldest sessions beyond the per-user limit. */
  create(input: CreateSessionInput, opts?: CallOptions): Promise<string>;
  /** Returns the session, or null when unknown or expired; with a sliding window it extends the session. */
  get(sessionId: string, opts?: CallOptions): Promise<SessionData | null>;
  /** Shallow-merges `metadata` into the session's metadata; false when the session does not exist. */
  update(sessionId: string, metadata: Record<string, unknown>, opts?: CallOptions): Promise<boolean>;
  /** Sets a new lifetime (default: the store's TTL) starting now; false when the session does not exist. */
  refresh(sessionId: string, ttlSeconds?: number, opts?: CallOptions): Promise<boolean>;
  delete(sessionId: string, opts?: CallOptions): Promise<boolean>;
  /** The user's live sessions, oldest first. */
  listUserSessions(userId: string, opts?: CallOptions): Promise<SessionData[]>;
  /** Removes every session of the user (logout everywhere, erasure); returns how many were live. */
  deleteUserSessions(userId: string, opts?: CallOptions): Promise<number>;
  /** Removes every session last accessed before `idleSince`; returns how many. */
  deleteInactiveSessions(idleSince: Date, opts?: CallOptions): Promise<number>;
  /**
   * Redis store only: `get`, and in the same script (one round trip, atomic) a caller's Lua on keys
   * of the session's Redis slot, run only when the session is live and belongs to `call.userId`.
   * Lets an app check a login session and act on its own keys of the same user in one step.
   */
  getAndRun?(sessionId: string, call: SessionScriptCall, opts?: CallOptions): Promise<SessionScriptResult>;
  /** True when the backend answers (for readiness probes); never throws. */
  ping(opts?: CallOptions): Promise<boolean>;
  /** Releases timers and connections; later calls fail with SESSION_CLOSED. Idempotent. */
  close(): Promise<void>;
}

/** Lua run by `getAndRun`: the body of a function of its own `KEYS` and `ARGV`; what it returns is `result`. */
export interface SessionScript {
  readonly lua: string;
}

export interface SessionScriptCall {
  /** Created once and reused: the store loads each script object into Redis once. */
  script: SessionScript;
  /** The script runs only when the session's identity names this user. */
  userId: string;
  /**
   * The script's KEYS. Each must carry the user's hash tag `{<first 22 chars of base64url(SHA-256(userId))>}`,
   * the slot of the user's sessions (Redis Cluster runs a script in one slot only).
   */
  keys: string[];
  args: string[];
}

export interface SessionScriptResult {
  /** What `get` would have answered (with the same slide). */
  session: SessionData | null;
  /** Whether the script ran (the session is live and `userId`'s). */
  ran: boolean;
  /** The script's return value when it ran. */
  result: unknown;
}

export interface SessionStoreOptions {
  /** Default session lifetime in seconds (default 86400). */
  ttlSeconds?: number;
  /** When true (default), every `get` and `update` moves the expiry to now + the session's TTL. */
  slidingWindow?: boolean;
  /** Sessions one user may hold at once; creating one more evicts the oldest (default 5). */
  maxConcurrentSessions?: number;
  logger?: Logger;
}

export interface MemorySessionStoreConfig {
  backend: "memory";
  /** How often expired sessions are swept from memory (default 60000 ms). */
  sweepIntervalMs?: number;
}

export interface RedisSessionStoreConfig {
  backend: "redis";
  /** redis:// or rediss:// URL (credentials in the URL are never logged). */
  url: string;
  /** Prepended to every key (default "mcp-langgraph:session:"); letters, digits and `:_.-` only. */
  keyPrefix?: string;
  /** Upper bound for one store call, and for connecting at start-up (default 2000 ms). */
  commandTimeoutMs?: number;
  /** Treat `url` as a seed node of a Redis Cluster (default false: a single server). */
  cluster?: boolean;
}

export type SessionStoreConfig = MemorySessionStoreConfig | RedisSessionStoreConfig;
