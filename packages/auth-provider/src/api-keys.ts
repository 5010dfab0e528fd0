import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import { AuthError } from "./errors.js";
import { checkScopes, checkSubjectName } from "./names.js";
import type { CallOptions, Principal } from "./types.js";

/** What a store keeps for one key: never the key itself, only its SHA-256. */
export interface StoredApiKey {
  id: string;
  owner: string;
  name: string;
  roles: string[];
  scopes: string[];
  /** base64url SHA-256 of the full key. */
  hash: string;
  createdAt: number;
  /** Epoch ms, or null for a key that never expires. */
  expiresAt: number | null;
}

/**
 * Storage behind API keys. Implementations drop expired keys from `list`,
 * `get` and the per-owner count, and enforce `maxPerOwner` atomically.
 */
export interface ApiKeyStore {
  /** Adds a key; API_KEY_LIMIT when the owner already holds `maxPerOwner` live keys. */
  insert(
    record: StoredApiKey,
    limits: { maxPerOwner: number; now: number },
    opts?: CallOptions,
  ): Promise<void>;
  /** Swaps `oldId` for `record` in one step; NOT_FOUND when `oldId` is not the owner's live key. */
  replace(oldId: string, record: StoredApiKey, now: number, opts?: CallOptions): Promise<void>;
  get(id: string, now: number, opts?: CallOptions): Promise<StoredApiKey | undefined>;
  list(owner: string, now: number, opts?: CallOptions): Promise<StoredApiKey[]>;
  /** true when the key existed and belonged to `owner`. */
  remove(owner: string, id: string, opts?: CallOptions): Promise<boolean>;
}

/** A key's public description (what `list` shows): no secret, no hash. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  owner: string;
  roles: string[];
  scopes: string[];
  createdAt: Date;
  expiresAt?: Date;
}

export interface CreatedApiKey {
  /** The secret key: shown once, never stored. */
  key: string;
  info: ApiKeyInfo;
}

export interface ApiKeyOwner {
  username: string;
  roles: string[];
}

export interface CreateApiKeyOptions extends CallOptions {
  name?: string;
  scopes?: string[];
  /** Lifetime; default the manager's `defaultTtlSeconds`; null for a key that never expires. */
  ttlSeconds?: number | null;
}

export interface ApiKeyManagerOptions {
  store: ApiKeyStore;
  /** Recognisable prefix (for secret scanners); default "mcpk". Letters and digits only. */
  prefix?: string;
  /** Live keys one user may hold; default 10. */
  maxKeysPerUser?: number;
  /** Default lifetime; default 90 days; null for keys that never expire. */
  defaultTtlSeconds?: number | null;
  now?: () => number;
  /**
   * Whether a key's owner still exists (e.g. is still a configured user). A key
   * outlives changes to the user list; with this set, a removed user's keys
   * stop working at once (API_KEY_INVALID, reason "owner_removed").
   */
  ownerExists?: (username: string, opts: CallOptions) => boolean | Promise<boolean>;
}

export interface ApiKeyManager {
  create(owner: ApiKeyOwner, opts?: CreateApiKeyOptions): Promise<CreatedApiKey>;
  /** The owner's Principal for a live key; API_KEY_INVALID for anything else. */
  resolve(key: string, opts?: CallOptions): Promise<Principal>;
  list(username: string, opts?: CallOptions): Promise<ApiKeyInfo[]>;
  revoke(username: string, id: string, opts?: CallOptions): Promise<void>;
  /** A new key with the same name, roles, scopes and lifetime; the old one stops working at once. */
  rotate(username: string, id: string, opts?: CallOptions): Promise<CreatedApiKey>;
  /** Whether a string looks like one of this manager's keys (cheap, no store access). */
  looksLikeKey(value: string): boolean;
}

const SECRET_BYTES = 32; // 256 bits
const ID_BYTES = 12;
const NAME = /^[\x20-\x7e]{1,64}$/;

/** API keys: `<prefix>_<id>_<secret>`, 256 random bits, only a SHA-256 stored. */
export function createApiKeyManager(options: ApiKeyManagerOptions): ApiKeyManager {
  const { store, prefix = "mcpk", maxKeysPerUser = 10, now = Date.now, ownerExists } = options;
  const defaultTtlSeconds = options.defaultTtlSeconds === undefined ? 90 * 86_400 : options.defaultTtlSeconds;
  if (!/^[A-Za-z0-9]{2,16}$/.test(prefix)) {
    throw new AuthError("AUTH_CONFIG", "API key prefix must be 2-16 letters or digits");
  }
  if (!Number.isInteger(maxKeysPerUser) || maxKeysPerUser < 1) {
    throw new AuthError("AUTH_CONFIG", "maxKeysPerUser must be a positive integer");
  }
  checkTtl(defaultTtlSeconds, "AUTH_CONFIG");
  const keyPattern = new RegExp(`^${prefix}_([A-Za-z0-9_-]{16})_([A-Za-z0-9_-]{43})$`);

  function mint(template: Omit<StoredApiKey, "id" | "hash" | "createdAt">): {
    key: string;
    record: StoredApiKey;
  } {
    const id = randomBytes(ID_BYTES).toString("base64url");
    const key = `${prefix}_${id}_${randomBytes(SECRET_BYTES).toString("base64url")}`;
    return { key, record: { ...template, id, hash: digest(key), createdAt: now() } };
  }

  async function ownedLiveKey(username: string, id: string, opts: CallOptions): Promise<StoredApiKey> {
    checkSubjectName(username);
    const record = typeof id === "string" ? await store.get(id, now(), opts) : undefined;
    if (record === undefined || record.owner !== username) {
      throw new AuthError("NOT_FOUND", "no such API key for this user");
    }
    return record;
  }

  return {
    looksLikeKey: (value) => typeof value === "string" && keyPattern.test(value),

    async create(owner, opts = {}) {
      checkSubjectName(owner?.username);
      if (!Array.isArray(owner.roles) || !owner.roles.every((role) => typeof role === "string")) {
        throw new AuthError("INVALID_ARGUMENT", "owner roles must be an array of strings");
      }
      const name = opts.name ?? "default";
      if (!NAME.test(name))
        throw new AuthError("INVALID_ARGUMENT", "key name must be 1-64 printable characters");
      const scopes = checkScopes(opts.scopes ?? [], "INVALID_ARGUMENT");
      const ttlSeconds = opts.ttlSeconds === undefined ? defaultTtlSeconds : opts.ttlSeconds;
      checkTtl(ttlSeconds, "INVALID_ARGUMENT");
      const { key, record } = mint({
        owner: owner.username,
        name,
        roles: [...owner.roles],
        scopes: [...scopes],
        expiresAt: ttlSeconds === null ? null : now() + ttlSeconds * 1000,
      });
      await store.insert(record, { maxPerOwner: maxKeysPerUser, now: now() }, opts);
      return { key, info: toInfo(record) };
    },

    async resolve(key, opts = {}) {
      const match = typeof key === "string" ? keyPattern.exec(key) : null;
      if (match === null)
        throw new AuthError("API_KEY_INVALID", "not a valid API key", { details: { reason: "malformed" } });
      const record = await store.get(match[1] as string, now(), opts);
      if (record === undefined || !sameDigest(record.hash, digest(key))) {
        throw new AuthError("API_KEY_INVALID", "API key is unknown, revoked or expired", {
          details: { reason: "unknown" },
        });
      }
      if (ownerExists !== undefined && !(await ownerExists(record.owner, opts))) {
        throw new AuthError("API_KEY_INVALID", "the API key's owner no longer exists", {
          details: { reason: "owner_removed" },
        });
      }
      return Object.freeze({
        userId: `user:${record.owner}`,
        username: record.owner,
        roles: Object.freeze([...record.roles]) as string[],
        scopes: Object.freeze([...record.scopes]) as string[],
        groups: Object.freeze([]) as unknown as string[],
        kind: "user" as const,
        // A key that never expires still gets a finite date, for code that compares.
        expiresAt: new Date(record.expiresAt ?? 8_640_000_000_000_000),
        claims: Object.freeze({ api_key_id: record.id, api_key_name: record.name }),
      });
    },

    async list(username, opts = {}) {
      checkSubjectName(username);
      return (await store.list(username, now(), opts)).map(toInfo);
    },

    async revoke(username, id, opts = {}) {
      checkSubjectName(username);
      if (typeof id !== "string" || !(await store.remove(username, id, opts))) {
        throw new AuthError("NOT_FOUND", "no such API key for this user");
      }
    },

    async rotate(username, id, opts = {}) {
      const old = await ownedLiveKey(username, id, opts);
      const ttlMs = old.expiresAt === null ? null : old.expiresAt - old.createdAt;
      const { key, record } = mint({
        owner: old.owner,
        name: old.name,
        roles: old.roles,
        scopes: old.scopes,
        expiresAt: ttlMs === null ? null : now() + ttlMs,
      });
      await store.replace(old.id, record, now(), opts);
      return { key, info: toInfo(record) };
    },
  };
}

function toInfo(record: StoredApiKey): ApiKeyInfo {
  const info: ApiKeyInfo = {
    id: record.id,
    name: record.name,
    owner: record.owner,
    roles: [...record.roles],
    scopes: [...record.scopes],
    createdAt: new Date(record.createdAt),
  };
  if (record.expiresAt !== null) info.expiresAt = new Date(record.expiresAt);
  return info;
}

/** SHA-256 suffices here (not argon2): the secret has 256 random bits, so there is nothing to brute-force. */
function digest(key: string): string {
  return hash("sha256", key, "base64url");
}

function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function checkTtl(ttl: number | null, code: "AUTH_CONFIG" | "INVALID_ARGUMENT"): void {
  if (ttl !== null && (!Number.isInteger(ttl) || ttl < 1 || ttl > 10 * 365 * 86_400)) {
    throw new AuthError(code, "API key lifetime must be a whole number of seconds up to 10 years, or null");
  }
}
