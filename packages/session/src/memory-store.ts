import type { Logger } from "@mcp-langgraph/core";
import { invalidInput, SessionError } from "./errors.js";
import { randomSessionToken, SESSION_TOKEN_LENGTH } from "./session-id.js";
import type {
  CallOptions,
  CreateSessionInput,
  SessionData,
  SessionStore,
  SessionStoreOptions,
} from "./types.js";
import {
  decodeMetadata,
  encodeMetadata,
  type ResolvedStoreOptions,
  resolveStoreOptions,
  ttlToMs,
  validateCreateInput,
  validateIdleSince,
  validateUserId,
} from "./validation.js";

const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

interface StoredSession {
  readonly sessionId: string;
  readonly userId: string;
  readonly username: string;
  readonly roles: readonly string[];
  /**
   * Private metadata, already JSON round-tripped (values read back exactly as through Redis).
   * Reads hand out copies so callers never share mutable state with the store.
   */
  metadata: StoredMetadata;
  readonly createdAt: number;
  lastAccessedAt: number;
  expiresAt: number;
  ttlMs: number;
}

export interface MemorySessionStoreOptions extends SessionStoreOptions {
  /** How often expired sessions are swept from memory (default 60000 ms). */
  sweepIntervalMs?: number;
}

/**
 * Sessions in this process's memory: the embedded default. All state changes run
 * synchronously inside one call, which is what makes the per-user limit and
 * metadata merges atomic here. Not shared between processes.
 */
export class MemorySessionStore implements SessionStore {
  readonly #options: ResolvedStoreOptions;
  readonly #logger: Logger;
  readonly #sessions = new Map<string, StoredSession>();
  /** Per user, session ids in creation order (a Set keeps insertion order), so the first is the oldest. */
  readonly #sessionsByUser = new Map<string, Set<string>>();
  readonly #sweepTimer: NodeJS.Timeout;
  #closed = false;

  constructor(options: MemorySessionStoreOptions = {}) {
    this.#options = resolveStoreOptions(options);
    this.#logger = this.#options.logger;
    const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    if (!Number.isFinite(sweepIntervalMs) || sweepIntervalMs <= 0) {
      throw invalidInput("sweepIntervalMs must be a positive number");
    }
    // Unref'd: an idle store must never keep the process alive.
    this.#sweepTimer = setInterval(() => this.sweepExpired(), sweepIntervalMs).unref();
  }

  /** Live and not-yet-swept sessions held in memory (for monitoring and tests). */
  get size(): number {
    return this.#sessions.size;
  }

  async create(input: CreateSessionInput, opts?: CallOptions): Promise<string> {
    this.#assertUsable(opts);
    const valid = validateCreateInput(input, this.#options.ttlMs);
    const now = Date.now();
    const sessionId = randomSessionToken();
    this.#sessions.set(sessionId, {
      sessionId,
      userId: valid.userId,
      username: valid.username,
      roles: valid.roles,
      metadata: storeMetadata(decodeMetadata(valid.metadata)),
      createdAt: now,
      lastAccessedAt: now,
      expiresAt: now + valid.ttlMs,
      ttlMs: valid.ttlMs,
    });
    let userSessions = this.#sessionsByUser.get(valid.userId);
    if (!userSessions) {
      userSessions = new Set();
      this.#sessionsByUser.set(valid.userId, userSessions);
    }
    userSessions.add(sessionId);
    this.#enforceUserLimit(valid.userId, userSessions, now);
    return sessionId;
  }

  async get(sessionId: string, opts?: CallOptions): Promise<SessionData | null> {
    this.#assertUsable(opts);
    const now = Date.now();
    const session = this.#live(sessionId, now);
    if (!session) return null;
    if (this.#options.slidingWindow) this.#touch(session, now);
    return toSessionData(session);
  }

  async update(sessionId: string, metadata: Record<string, unknown>, opts?: CallOptions): Promise<boolean> {
    this.#assertUsable(opts);
    const encoded = encodeMetadata(metadata);
    const now = Date.now();
    const session = this.#live(sessionId, now);
    if (!session) return false;
    if (encoded.length > 0) {
      // Spread and fromEntries define own properties, so a "__proto__" key stays plain data.
      session.metadata = storeMetadata({ ...session.metadata.value, ...decodeMetadata(encoded) });
    }
    if (this.#options.slidingWindow) this.#touch(session, now);
    return true;
  }

  async refresh(sessionId: string, ttlSeconds?: number, opts?: CallOptions): Promise<boolean> {
    this.#assertUsable(opts);
    const ttlMs = ttlSeconds === undefined ? this.#options.ttlMs : ttlToMs(ttlSeconds);
    const now = Date.now();
    const session = this.#live(sessionId, now);
    if (!session) return false;
    session.ttlMs = ttlMs;
    this.#touch(session, now);
    return true;
  }

  async delete(sessionId: string, opts?: CallOptions): Promise<boolean> {
    this.#assertUsable(opts);
    const session = this.#live(sessionId, Date.now());
    if (!session) return false;
    this.#remove(session);
    return true;
  }

  async listUserSessions(userId: string, opts?: CallOptions): Promise<SessionData[]> {
    this.#assertUsable(opts);
    validateUserId(userId);
    const now = Date.now();
    const result: SessionData[] = [];
    for (const sessionId of this.#sessionsByUser.get(userId) ?? []) {
      const session = this.#live(sessionId, now);
      if (session) result.push(toSessionData(session));
    }
    return result;
  }

  async deleteUserSessions(userId: string, opts?: CallOptions): Promise<number> {
    this.#assertUsable(opts);
    validateUserId(userId);
    const now = Date.now();
    let deleted = 0;
    for (const sessionId of this.#sessionsByUser.get(userId) ?? []) {
      const session = this.#live(sessionId, now);
      if (session) {
        this.#remove(session);
        deleted++;
      }
    }
    return deleted;
  }

  async deleteInactiveSessions(idleSince: Date, opts?: CallOptions): Promise<number> {
    this.#assertUsable(opts);
    const cutoff = validateIdleSince(idleSince);
    const now = Date.now();
    let deleted = 0;
    for (const session of this.#sessions.values()) {
      if (session.expiresAt <= now) this.#remove(session);
      else if (session.lastAccessedAt < cutoff) {
        this.#remove(session);
        deleted++;
      }
    }
    return deleted;
  }

  async ping(opts?: CallOptions): Promise<boolean> {
    return !this.#closed && !opts?.signal?.aborted;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    this.#sessions.clear();
    this.#sessionsByUser.clear();
  }

  /** Drops expired sessions; runs on the sweep timer, callable directly. Returns how many it dropped. */
  sweepExpired(now = Date.now()): number {
    let swept = 0;
    for (const session of this.#sessions.values()) {
      if (session.expiresAt <= now) {
        this.#remove(session);
        swept++;
      }
    }
    if (swept > 0) this.#logger.debug({ swept, remaining: this.#sessions.size }, "swept expired sessions");
    return swept;
  }

  #assertUsable(opts: CallOptions | undefined): void {
    opts?.signal?.throwIfAborted();
    if (this.#closed) throw new SessionError("SESSION_CLOSED", "session store is closed");
  }

  /** The session when it exists and has not expired; an expired one is removed on sight. */
  #live(sessionId: unknown, now: number): StoredSession | undefined {
    // Every stored id is a 43-character token, so nothing else can match: skip hashing oversized input.
    if (typeof sessionId !== "string" || sessionId.length !== SESSION_TOKEN_LENGTH) return undefined;
    const session = this.#sessions.get(sessionId);
    if (!session) return undefined;
    if (session.expiresAt <= now) {
      this.#remove(session);
      return undefined;
    }
    return session;
  }

  #touch(session: StoredSession, now: number): void {
    session.lastAccessedAt = now;
    session.expiresAt = now + session.ttlMs;
  }

  /** Drops the user's expired sessions, then evicts the oldest live ones beyond the limit. */
  #enforceUserLimit(userId: string, userSessions: Set<string>, now: number): void {
    const limit = this.#options.maxConcurrentSessions;
    if (userSessions.size <= limit) return;
    for (const sessionId of userSessions) this.#live(sessionId, now);
    let evicted = 0;
    for (const sessionId of userSessions) {
      if (userSessions.size <= limit) break;
      const session = this.#sessions.get(sessionId);
      if (session) {
        this.#remove(session);
        evicted++;
      }
    }
    if (evicted > 0)
      this.#logger.debug({ userId, evicted }, "evicted the oldest sessions: per-user limit reached");
  }

  #remove(session: StoredSession): void {
    this.#sessions.delete(session.sessionId);
    const userSessions = this.#sessionsByUser.get(session.userId);
    if (!userSessions) return;
    userSessions.delete(session.sessionId);
    if (userSessions.size === 0) this.#sessionsByUser.delete(session.userId);
  }
}

function toSessionData(session: StoredSession): SessionData {
  return {
    sessionId: session.sessionId,
    userId: session.userId,
    username: session.username,
    roles: session.roles.slice(),
    metadata: copyMetadata(session.metadata),
    createdAt: new Date(session.createdAt),
    lastAccessedAt: new Date(session.lastAccessedAt),
    expiresAt: new Date(session.expiresAt),
  };
}

interface StoredMetadata {
  readonly value: Record<string, unknown>;
  /** Set when some value is an object or array: then a copy must be deep (via this JSON). */
  readonly nestedJson: string | undefined;
}

function storeMetadata(value: Record<string, unknown>): StoredMetadata {
  const nested = Object.values(value).some((item) => typeof item === "object" && item !== null);
  return { value, nestedJson: nested ? JSON.stringify(value) : undefined };
}

/** Primitive-only metadata (the common case) copies with a cheap shallow spread. */
function copyMetadata(metadata: StoredMetadata): Record<string, unknown> {
  return metadata.nestedJson === undefined
    ? { ...metadata.value }
    : (JSON.parse(metadata.nestedJson) as Record<string, unknown>);
}
