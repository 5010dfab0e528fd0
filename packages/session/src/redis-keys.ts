import { createHash } from "node:crypto";
import { invalidInput } from "./errors.js";
import { randomSessionToken } from "./session-id.js";

export const DEFAULT_KEY_PREFIX = "mcp-langgraph:session:";
const KEY_PREFIX_PATTERN = /^[A-Za-z0-9:_.-]{0,128}$/;
/** 132 bits of SHA-256(userId): a user's Redis Cluster hash tag and index key name. */
const USER_TAG_LENGTH = 22;
const SESSION_ID_PATTERN = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const SESSION_KEY_PATTERN = /^\{([A-Za-z0-9_-]{22})\}:s:([A-Za-z0-9_-]{43})$/;

export function userTag(userId: string): string {
  return createHash("sha256").update(userId).digest("base64url").slice(0, USER_TAG_LENGTH);
}

/** The keys one session touches. Every key of one user shares the `{tag}` hash tag, hence one Cluster slot. */
export interface SessionKeys {
  tag: string;
  /** The random part; the member stored in the user's index. */
  token: string;
  sessionKey: string;
  userKey: string;
  /** Prefix that, followed by a token, names any session key of the same user (used inside scripts). */
  sessionKeyPrefix: string;
}

/**
 * Key layout (P = keyPrefix, T = user tag):
 *   P{T}:s:<token>  hash: the session (fields d, a, t, m:<metadata key>), with a TTL
 *   P{T}:u          sorted set: the user's session tokens in creation order
 * A session id is `T.<token>`, so `get(id)` finds the user's slot without a lookup.
 */
export class RedisKeyspace {
  readonly prefix: string;

  constructor(prefix = DEFAULT_KEY_PREFIX) {
    if (!KEY_PREFIX_PATTERN.test(prefix)) {
      throw invalidInput("keyPrefix must be at most 128 characters from [A-Za-z0-9:_.-]");
    }
    this.prefix = prefix;
  }

  forUser(userId: string): Omit<SessionKeys, "token" | "sessionKey"> {
    return this.#userKeys(userTag(userId));
  }

  newSession(userId: string): SessionKeys & { sessionId: string } {
    const tag = userTag(userId);
    const token = randomSessionToken();
    return { ...this.#sessionKeys(tag, token), sessionId: `${tag}.${token}` };
  }

  /** Keys for a session id, or undefined when the id cannot have been issued by this store. */
  forSessionId(sessionId: unknown): SessionKeys | undefined {
    if (typeof sessionId !== "string") return undefined;
    const match = SESSION_ID_PATTERN.exec(sessionId);
    if (!match) return undefined;
    return this.#sessionKeys(match[1]!, match[2]!);
  }

  /** Session id for a session key found by SCAN, or undefined for any other key. */
  sessionIdOfKey(key: string): string | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const match = SESSION_KEY_PATTERN.exec(key.slice(this.prefix.length));
    return match ? `${match[1]}.${match[2]}` : undefined;
  }

  /** SCAN pattern matching every session key (the prefix holds no glob characters). */
  get sessionKeyPattern(): string {
    return `${this.prefix}{*}:s:*`;
  }

  #userKeys(tag: string) {
    return { tag, userKey: `${this.prefix}{${tag}}:u`, sessionKeyPrefix: `${this.prefix}{${tag}}:s:` };
  }

  #sessionKeys(tag: string, token: string): SessionKeys {
    const user = this.#userKeys(tag);
    return { ...user, token, sessionKey: `${user.sessionKeyPrefix}${token}` };
  }
}
