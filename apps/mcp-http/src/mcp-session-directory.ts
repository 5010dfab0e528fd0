import { createHash } from "node:crypto";
import type { SessionScript, SessionStore } from "@mcp-langgraph/session";
import type { InitializeRequest } from "@modelcontextprotocol/server";
import { assertLoginSession, type LoginSessionCheck, loginSessionStoreFailure } from "./login-session.js";
import { sessionStoreCall, sharedStateCall } from "./session-store-call.js";

/** What any instance needs to serve a session it did not open. */
export interface McpSessionRecord {
  ownerId: string;
  /** The client's initialize params: replayed to rebuild the session (protocol version, capabilities). */
  initialize: InitializeRequest["params"];
}

/** What the directory sends commands through: a connected node-redis client, ideally with `disableOfflineQueue`. */
export interface DirectoryRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
}

export interface McpSessionDirectoryOptions {
  client: DirectoryRedisClient;
  /** Prepended to every key (SESSION_KEY_PREFIX, default `mcp-langgraph:`). */
  keyPrefix: string;
  /** A session unused this long is gone (the record's TTL, slid by every request). */
  idleMs: number;
  maxSessionsPerUser: number;
  /** Deadline of each Redis call. */
  timeoutMs: number;
  /**
   * The login sessions' store, when it can run a script in the same call as its check (Redis):
   * `touch` then checks the caller's login session in the same round trip (ADR 0188). The two key
   * families share the user's hash tag, so the script stays in one slot.
   */
  loginSessions?: Pick<SessionStore, "getAndRun">;
}

/**
 * Returns the record and slides its expiry, its subscriptions' (ADR 0183) and the user's index
 * entry, in one round trip.
 */
const TOUCH = `
local record = redis.call('GET', KEYS[1])
if not record then
  redis.call('ZREM', KEYS[2], ARGV[3])
  return false
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return record`;
/** The same, run by the login session store once it has found the caller's login session live and theirs. */
const TOUCH_AFTER_LOGIN_CHECK: SessionScript = { lua: TOUCH };

/**
 * Registers a session and keeps its user under the cap, atomically: entries idle past the cutoff
 * are dropped from the index first, then the least recently used sessions beyond the cap are
 * deleted. Returns the ids it deleted.
 */
const CREATE = `
local idle = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local max = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - idle)
local count = redis.call('ZCARD', KEYS[2])
local evicted = {}
if count >= max then
  evicted = redis.call('ZRANGE', KEYS[2], 0, count - max)
  for _, id in ipairs(evicted) do
    redis.call('DEL', ARGV[6] .. id, ARGV[7] .. id)
    redis.call('ZREM', KEYS[2], id)
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', idle)
redis.call('ZADD', KEYS[2], now, ARGV[4])
redis.call('PEXPIRE', KEYS[2], idle)
return evicted`;

/** Deletes every session of a user, with their subscriptions (account erasure); returns their ids. */
const REMOVE_USER = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, id in ipairs(ids) do redis.call('DEL', ARGV[1] .. id, ARGV[2] .. id) end
redis.call('DEL', KEYS[1])
return ids`;

/**
 * The keys of one user's MCP sessions. The owner's id (any characters, any length) never appears in
 * a key: its hash does, as the slot tag, so a session's record, its subscriptions and the user's
 * index share one cluster slot (and one script may touch them all).
 */
export function mcpSessionKeys(keyPrefix: string, ownerId: string) {
  const tag = createHash("sha256").update(ownerId).digest("base64url").slice(0, 22);
  const recordPrefix = `${keyPrefix}mcp-session:{${tag}}:`;
  const subscriptionsPrefix = `${keyPrefix}mcp-subscriptions:{${tag}}:`;
  return {
    index: `${keyPrefix}mcp-sessions:{${tag}}`,
    recordPrefix,
    record: (sessionId: string) => recordPrefix + sessionId,
    subscriptionsPrefix,
    /** The session's resource subscriptions: a hash of URI → who subscribed (ADR 0183). */
    subscriptions: (sessionId: string) => subscriptionsPrefix + sessionId,
    /** Taken by the one copy of the session that sends the update of `uri` for change `changeId`. */
    claim: (sessionId: string, changeId: string, uri: string) =>
      `${keyPrefix}mcp-update-claim:{${tag}}:${sessionId}:${changeId}:${uri}`,
  };
}

/**
 * The MCP sessions of every instance, in Redis (SESSION_BACKEND=redis). A session's key is under
 * its owner's hash tag, so a lookup made with another user's identity reads another key and finds
 * nothing (the same 404 as an unknown id), and a user's records and index share one cluster slot.
 */
export class McpSessionDirectory {
  readonly #options: McpSessionDirectoryOptions;

  constructor(options: McpSessionDirectoryOptions) {
    this.#options = options;
  }

  /** The deadline of each call. */
  get timeoutMs(): number {
    return this.#options.timeoutMs;
  }

  /** Registers a new session; returns the ids of the user's sessions it evicted to stay under the cap. */
  async create(sessionId: string, record: McpSessionRecord, signal: AbortSignal): Promise<string[]> {
    const keys = this.#keys(record.ownerId);
    const evicted = await this.#call(
      [
        "EVAL",
        CREATE,
        "2",
        keys.record(sessionId),
        keys.index,
        JSON.stringify(record),
        String(this.#options.idleMs),
        String(Date.now()),
        sessionId,
        String(this.#options.maxSessionsPerUser),
        keys.recordPrefix,
        keys.subscriptionsPrefix,
      ],
      signal,
    );
    return evicted as string[];
  }

  /** The session's record if `ownerId` owns it and it has not expired; slides its expiry. One round trip. */
  async touch(
    sessionId: string,
    ownerId: string,
    signal: AbortSignal,
  ): Promise<McpSessionRecord | undefined> {
    const keys = this.#keys(ownerId);
    const found = await this.#call(
      [
        "EVAL",
        TOUCH,
        "3",
        keys.record(sessionId),
        keys.index,
        keys.subscriptions(sessionId),
        String(this.#options.idleMs),
        String(Date.now()),
        sessionId,
      ],
      signal,
    );
    return this.#record(found, ownerId);
  }

  #record(found: unknown, ownerId: string): McpSessionRecord | undefined {
    if (typeof found !== "string") return undefined;
    const record = JSON.parse(found) as McpSessionRecord;
    // The key is derived from the owner's id; a hash collision must still not cross users.
    return record.ownerId === ownerId ? record : undefined;
  }

  /** Whether `touch` can check a login session in the same round trip. */
  get checksLoginSessions(): boolean {
    return this.#options.loginSessions?.getAndRun !== undefined;
  }

  /**
   * `touch`, run only once the caller's login session is found live and theirs, in the same script
   * (one round trip). A login session that has ended is TOKEN_INVALID (401), and then the record is
   * neither read nor slid; a store that cannot answer is AUTH_UNAVAILABLE (503).
   */
  async touchWithLoginSession(
    sessionId: string,
    loginSession: LoginSessionCheck,
    signal: AbortSignal,
  ): Promise<McpSessionRecord | undefined> {
    const store = this.#options.loginSessions;
    const getAndRun = store?.getAndRun?.bind(store);
    if (!getAndRun) throw new Error("touchWithLoginSession needs a login session store that runs scripts");
    const keys = this.#keys(loginSession.userId);
    const checked = await sharedStateCall(
      () =>
        getAndRun(
          loginSession.sessionId,
          {
            script: TOUCH_AFTER_LOGIN_CHECK,
            userId: loginSession.userId,
            keys: [keys.record(sessionId), keys.index, keys.subscriptions(sessionId)],
            args: [String(this.#options.idleMs), String(Date.now()), sessionId],
          },
          { signal },
        ),
      { what: "session store", timeoutMs: this.#options.timeoutMs, signal },
    ).catch((error: unknown) => {
      throw loginSessionStoreFailure(error);
    });
    assertLoginSession(checked.session, loginSession);
    // Live and theirs (checked above), so the script ran: its answer is the record, or nothing.
    return this.#record(checked.result, loginSession.userId);
  }

  async remove(sessionId: string, ownerId: string, signal: AbortSignal): Promise<void> {
    const keys = this.#keys(ownerId);
    await this.#call(["DEL", keys.record(sessionId), keys.subscriptions(sessionId)], signal);
    await this.#call(["ZREM", keys.index, sessionId], signal);
  }

  async removeUser(ownerId: string, signal: AbortSignal): Promise<string[]> {
    const keys = this.#keys(ownerId);
    return (await this.#call(
      ["EVAL", REMOVE_USER, "1", keys.index, keys.recordPrefix, keys.subscriptionsPrefix],
      signal,
    )) as string[];
  }

  #keys(ownerId: string) {
    return mcpSessionKeys(this.#options.keyPrefix, ownerId);
  }

  #call(args: string[], signal: AbortSignal): Promise<unknown> {
    const { client, timeoutMs } = this.#options;
    return sessionStoreCall(client, args, { what: "MCP session directory", timeoutMs, signal });
  }
}
