import {
  type Bulkhead,
  backoffDelay,
  createBulkhead,
  isCoreError,
  type Logger,
  raceDeadline,
  withDeadline,
} from "@mcp-langgraph/core";
import { ErrorReply } from "@redis/client";
import { invalidInput, isSessionError, SessionError } from "./errors.js";
import { decodeSession, encodeIdentity, metadataFields } from "./redis-codec.js";
import { openConnection, type RedisConnection } from "./redis-connection.js";
import { RedisKeyspace, userTag } from "./redis-keys.js";
import {
  CREATE,
  DELETE,
  DELETE_IF_IDLE,
  DELETE_USER,
  GET,
  getAndRunScript,
  LIST_USER,
  type LuaScript,
  REFRESH,
  UPDATE,
} from "./redis-scripts.js";
import type {
  CallOptions,
  CreateSessionInput,
  RedisSessionStoreConfig,
  SessionData,
  SessionScript,
  SessionScriptCall,
  SessionScriptResult,
  SessionStore,
  SessionStoreOptions,
} from "./types.js";
import {
  encodeMetadata,
  type ResolvedStoreOptions,
  resolveStoreOptions,
  ttlToMs,
  validateCreateInput,
  validateIdleSince,
  validateRedisConfig,
  validateUserId,
} from "./validation.js";

/** Calls in flight toward Redis at once; auto-pipelining keeps them on one connection. */
const MAX_IN_FLIGHT = 512;
const MAX_QUEUED = 10_000;
const SCAN_PAGE_SIZE = 500;
const RECONNECT_BASE_DELAY_MS = 100;
const RECONNECT_MAX_DELAY_MS = 2000;

function unavailable(reason: string, cause?: unknown): SessionError {
  return new SessionError("SESSION_UNAVAILABLE", `session backend unavailable: ${reason}`, {
    details: { retryable: true },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A script call with the shape the store needs; anything else is SESSION_INVALID_INPUT before any I/O. */
function validateScriptCall(call: SessionScriptCall): SessionScriptCall {
  const { script, keys, args } = call ?? {};
  if (typeof script?.lua !== "string" || script.lua.length === 0) {
    throw invalidInput("script.lua must be a non-empty string");
  }
  const userId = validateUserId(call.userId);
  const isStrings = (list: unknown) => Array.isArray(list) && list.every((item) => typeof item === "string");
  if (!isStrings(keys) || !isStrings(args)) throw invalidInput("keys and args must be arrays of strings");
  return { script, userId, keys, args };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Sessions in Redis (node-redis, one auto-pipelined connection). Every state
 * change is one Lua script, so concurrent callers in any number of processes
 * see atomic creates (with the per-user limit), merges and slides. Every call
 * is bounded by `commandTimeoutMs`; while Redis is unreachable calls fail fast
 * with SESSION_UNAVAILABLE (no offline queue) and the client reconnects on its own.
 */
export class RedisSessionStore implements SessionStore {
  readonly #connection: RedisConnection;
  readonly #keys: RedisKeyspace;
  readonly #options: ResolvedStoreOptions;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #bulkhead: Bulkhead = createBulkhead({ concurrency: MAX_IN_FLIGHT, maxQueue: MAX_QUEUED });
  #connected = false;
  #closed = false;

  private constructor(config: RedisSessionStoreConfig, options: SessionStoreOptions) {
    this.#options = resolveStoreOptions(options);
    this.#logger = this.#options.logger;
    this.#keys = new RedisKeyspace(config.keyPrefix);
    const { url, timeoutMs } = validateRedisConfig(config);
    this.#timeoutMs = timeoutMs;
    this.#connection = openConnection({
      url,
      cluster: config.cluster ?? false,
      connectTimeoutMs: timeoutMs,
      reconnectDelayMs: (retries) =>
        RECONNECT_BASE_DELAY_MS + backoffDelay(retries, RECONNECT_BASE_DELAY_MS, RECONNECT_MAX_DELAY_MS),
      // node-redis emits "error" for every failed (re)connect; log the transition, not each retry.
      onError: (error) => {
        if (!this.#connected) return;
        this.#connected = false;
        this.#logger.warn({ error: errorMessage(error) }, "session redis connection lost; reconnecting");
      },
      onReady: () => {
        if (!this.#connected) this.#logger.info({}, "session redis connection ready");
        this.#connected = true;
      },
    });
  }

  /** Connects (bounded by `commandTimeoutMs`) and returns a ready store, or fails with SESSION_UNAVAILABLE. */
  static async connect(
    config: RedisSessionStoreConfig,
    options: SessionStoreOptions = {},
  ): Promise<RedisSessionStore> {
    const store = new RedisSessionStore(config, options);
    const connection = store.#connection;
    try {
      await withDeadline(() => connection.connect(), {
        timeoutMs: store.#timeoutMs,
        onTimeout: (ms) => unavailable(`no connection to redis within ${ms} ms`),
      });
    } catch (error) {
      connection.destroy();
      throw isSessionError(error) ? error : unavailable("cannot connect to redis", error);
    }
    return store;
  }

  async create(input: CreateSessionInput, opts?: CallOptions): Promise<string> {
    this.#assertUsable(opts);
    const valid = validateCreateInput(input, this.#options.ttlMs);
    const keys = this.#keys.newSession(valid.userId);
    const now = Date.now();
    const identity = encodeIdentity({
      userId: valid.userId,
      username: valid.username,
      roles: valid.roles,
      createdAt: now,
    });
    const evicted = await this.#run(
      CREATE,
      [keys.sessionKey, keys.userKey],
      [
        String(now),
        String(valid.ttlMs),
        String(this.#options.maxConcurrentSessions),
        keys.token,
        keys.sessionKeyPrefix,
        identity,
        ...metadataFields(valid.metadata),
      ],
      opts,
    );
    if (Number(evicted) > 0) {
      this.#logger.debug(
        { userId: valid.userId, evicted },
        "evicted the oldest sessions: per-user limit reached",
      );
    }
    return keys.sessionId;
  }

  async get(sessionId: string, opts?: CallOptions): Promise<SessionData | null> {
    this.#assertUsable(opts);
    const keys = this.#keys.forSessionId(sessionId);
    if (!keys) return null;
    const reply = await this.#run(
      GET,
      [keys.sessionKey, keys.userKey],
      [String(Date.now()), this.#options.slidingWindow ? "1" : "0"],
      opts,
    );
    if (reply === null) return null;
    return decodeSession(sessionId, reply, (userId) => userTag(userId) === keys.tag);
  }

  async getAndRun(
    sessionId: string,
    call: SessionScriptCall,
    opts?: CallOptions,
  ): Promise<SessionScriptResult> {
    this.#assertUsable(opts);
    const { script, userId, keys: scriptKeys, args } = validateScriptCall(call);
    const keys = this.#keys.forSessionId(sessionId);
    // Not an id this store issued, or one in another user's slot: that user's session it cannot be.
    if (!keys || keys.tag !== userTag(userId)) return { session: null, ran: false, result: undefined };
    const slot = `{${keys.tag}}`;
    if (!scriptKeys.every((key) => key.includes(slot))) {
      throw invalidInput("every key of a session script must carry the user's hash tag", { hashTag: slot });
    }
    const reply = await this.#run(
      this.#loaded(script),
      [keys.sessionKey, keys.userKey, ...scriptKeys],
      [
        String(Date.now()),
        this.#options.slidingWindow ? "1" : "0",
        userId,
        String(scriptKeys.length),
        ...args,
      ],
      opts,
    );
    if (reply === null) return { session: null, ran: false, result: undefined };
    const [fields, ran, result] = reply as [unknown, number, unknown];
    const session = decodeSession(sessionId, fields, (owner) => userTag(owner) === keys.tag);
    return { session, ran: ran === 1, result: ran === 1 ? (result ?? undefined) : undefined };
  }

  /** Each caller's script object is compiled into its Redis script once. */
  readonly #scripts = new WeakMap<SessionScript, LuaScript>();

  #loaded(script: SessionScript): LuaScript {
    let loaded = this.#scripts.get(script);
    if (!loaded) {
      loaded = getAndRunScript(script.lua);
      this.#scripts.set(script, loaded);
    }
    return loaded;
  }

  async update(sessionId: string, metadata: Record<string, unknown>, opts?: CallOptions): Promise<boolean> {
    this.#assertUsable(opts);
    const fields = metadataFields(encodeMetadata(metadata));
    const keys = this.#keys.forSessionId(sessionId);
    if (!keys) return false;
    const updated = await this.#run(
      UPDATE,
      [keys.sessionKey, keys.userKey],
      [String(Date.now()), this.#options.slidingWindow ? "1" : "0", ...fields],
      opts,
    );
    return updated === 1;
  }

  async refresh(sessionId: string, ttlSeconds?: number, opts?: CallOptions): Promise<boolean> {
    this.#assertUsable(opts);
    const ttlMs = ttlSeconds === undefined ? this.#options.ttlMs : ttlToMs(ttlSeconds);
    const keys = this.#keys.forSessionId(sessionId);
    if (!keys) return false;
    const refreshed = await this.#run(
      REFRESH,
      [keys.sessionKey, keys.userKey],
      [String(Date.now()), String(ttlMs)],
      opts,
    );
    return refreshed === 1;
  }

  async delete(sessionId: string, opts?: CallOptions): Promise<boolean> {
    this.#assertUsable(opts);
    const keys = this.#keys.forSessionId(sessionId);
    if (!keys) return false;
    const deleted = await this.#run(DELETE, [keys.sessionKey, keys.userKey], [keys.token], opts);
    return deleted === 1;
  }

  async listUserSessions(userId: string, opts?: CallOptions): Promise<SessionData[]> {
    this.#assertUsable(opts);
    validateUserId(userId);
    const keys = this.#keys.forUser(userId);
    const entries = (await this.#run(
      LIST_USER,
      [keys.userKey],
      [keys.sessionKeyPrefix],
      opts,
    )) as unknown[][];
    const sessions: SessionData[] = [];
    for (const [token, fields] of entries) {
      try {
        const session = decodeSession(`${keys.tag}.${String(token)}`, fields, (id) => id === userId);
        sessions.push(session);
      } catch (error) {
        // One unreadable session must not hide the user's others; get() on it reports SESSION_CORRUPT.
        if (!isSessionError(error)) throw error;
        this.#logger.warn({ userId, reason: error.details?.reason }, "skipping an unreadable session");
      }
    }
    return sessions;
  }

  async deleteUserSessions(userId: string, opts?: CallOptions): Promise<number> {
    this.#assertUsable(opts);
    validateUserId(userId);
    const keys = this.#keys.forUser(userId);
    return Number(await this.#run(DELETE_USER, [keys.userKey], [keys.sessionKeyPrefix], opts));
  }

  /** Walks every primary's keyspace with SCAN, one bounded call per page, so it never blocks Redis. */
  async deleteInactiveSessions(idleSince: Date, opts?: CallOptions): Promise<number> {
    this.#assertUsable(opts);
    const cutoff = String(validateIdleSince(idleSince));
    let deleted = 0;
    for (const primary of await this.#call((connection) => connection.primaries(), opts)) {
      let cursor = "0";
      do {
        const page = await this.#call(
          () =>
            primary.scan(cursor, {
              MATCH: this.#keys.sessionKeyPattern,
              COUNT: SCAN_PAGE_SIZE,
              TYPE: "hash",
            }),
          opts,
        );
        cursor = String(page.cursor);
        const results = await Promise.all(
          page.keys.map((key) => {
            const sessionId = this.#keys.sessionIdOfKey(String(key));
            const keys = sessionId === undefined ? undefined : this.#keys.forSessionId(sessionId);
            if (!keys) return 0;
            return this.#run(DELETE_IF_IDLE, [keys.sessionKey, keys.userKey], [cutoff, keys.token], opts);
          }),
        );
        for (const result of results) deleted += Number(result);
      } while (cursor !== "0");
    }
    return deleted;
  }

  /** True when every primary answers PING within the deadline. */
  async ping(opts?: CallOptions): Promise<boolean> {
    if (this.#closed || opts?.signal?.aborted) return false;
    try {
      const replies = await this.#call(
        async (connection) => Promise.all((await connection.primaries()).map((primary) => primary.ping())),
        opts,
      );
      return replies.length > 0 && replies.every((reply) => reply === "PONG");
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#connection.isOpen) return;
    try {
      await withDeadline(() => this.#connection.close(), { timeoutMs: this.#timeoutMs });
    } catch {
      this.#connection.destroy();
    }
  }

  #assertUsable(opts: CallOptions | undefined): void {
    opts?.signal?.throwIfAborted();
    if (this.#closed) throw new SessionError("SESSION_CLOSED", "session store is closed");
  }

  #run(script: LuaScript, keys: string[], args: string[], opts: CallOptions | undefined): Promise<unknown> {
    const options = { keys, arguments: args };
    return this.#call(async (connection) => {
      try {
        return await connection.evalSha(script.sha1, options);
      } catch (error) {
        // Redis forgets scripts on restart or SCRIPT FLUSH; EVAL reloads it into the cache.
        if (error instanceof ErrorReply && error.message.startsWith("NOSCRIPT")) {
          return connection.eval(script.source, options);
        }
        throw error;
      }
    }, opts);
  }

  /** One bounded round trip: bulkhead slot, deadline, and every failure translated to a SessionError. */
  async #call<T>(
    operation: (connection: RedisConnection) => Promise<T>,
    opts: CallOptions | undefined,
  ): Promise<T> {
    const signal = opts?.signal;
    try {
      // A command written to the pipelined connection cannot be taken back, so the
      // deadline bounds the wait rather than cancelling (no per-call AbortController).
      return await raceDeadline(
        this.#bulkhead.run(() => operation(this.#connection), signal),
        {
          timeoutMs: this.#timeoutMs,
          signal,
          onTimeout: (ms) => unavailable(`redis did not answer within ${ms} ms`),
        },
      );
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      if (isSessionError(error)) throw error;
      if (error instanceof ErrorReply && /^(WRONGTYPE|SESSION_CORRUPT)/.test(error.message)) {
        throw new SessionError("SESSION_CORRUPT", "a stored session key holds an unreadable value", {
          details: { reason: error.message },
          cause: error,
        });
      }
      if (isCoreError(error) && error.code === "BULKHEAD_FULL") {
        throw unavailable("too many calls waiting for redis", error);
      }
      throw unavailable(errorMessage(error), error);
    }
  }
}
