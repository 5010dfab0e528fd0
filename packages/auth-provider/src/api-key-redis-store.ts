import type { ApiKeyStore, StoredApiKey } from "./api-keys.js";
import { AuthError } from "./errors.js";
import { createRedisCall, type RedisCommandClient } from "./redis-call.js";
import type { CallOptions } from "./types.js";

export type { RedisCommandClient };

export interface RedisApiKeyStoreOptions {
  client: RedisCommandClient;
  /** Key namespace; default "mcp:apikey". */
  keyPrefix?: string;
  /** Deadline per Redis call; default 2000 ms. */
  timeoutMs?: number;
  /** Redis calls in flight at once; default 64. */
  concurrency?: number;
}

// Both scripts touch one key (the owner's hash), so they are safe on Redis Cluster.
const INSERT_SCRIPT = `
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local live = 0
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local exp = cjson.decode(entries[i + 1]).expiresAt
  if exp ~= cjson.null and exp <= now then redis.call('HDEL', KEYS[1], entries[i]) else live = live + 1 end
end
if live >= max then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
return 1`;

const REPLACE_SCRIPT = `
local old = redis.call('HGET', KEYS[1], ARGV[2])
if not old then return 0 end
local exp = cjson.decode(old).expiresAt
if exp ~= cjson.null and exp <= tonumber(ARGV[1]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
return 1`;

/**
 * API keys in Redis: each owner's keys in one hash (`<prefix>:owner:{<owner>}`)
 * plus an id → owner index (`<prefix>:id:<id>`) that expires with the key.
 * The index is written first, so a failed insert never leaves a key that
 * counts against the limit but cannot be found.
 */
export function createRedisApiKeyStore(options: RedisApiKeyStoreOptions): ApiKeyStore {
  const { client, keyPrefix = "mcp:apikey", timeoutMs = 2000 } = options;
  const ownerKey = (owner: string) => `${keyPrefix}:owner:{${encodeURIComponent(owner)}}`;
  const idKey = (id: string) => `${keyPrefix}:id:${id}`;

  const call = createRedisCall({
    client,
    timeoutMs,
    concurrency: options.concurrency ?? 64,
    what: "API key store",
  });

  function setIndex(record: StoredApiKey, opts: CallOptions) {
    const args = ["SET", idKey(record.id), record.owner];
    if (record.expiresAt !== null) args.push("PXAT", String(record.expiresAt));
    return call(args, opts);
  }

  const isLive = (record: StoredApiKey, now: number) => record.expiresAt === null || record.expiresAt > now;

  return {
    async insert(record, { maxPerOwner, now }, opts = {}) {
      await setIndex(record, opts);
      const inserted = await call(
        [
          "EVAL",
          INSERT_SCRIPT,
          "1",
          ownerKey(record.owner),
          String(now),
          String(maxPerOwner),
          record.id,
          JSON.stringify(record),
        ],
        opts,
      ).catch(async (error: unknown) => {
        await call(["DEL", idKey(record.id)]).catch(() => undefined);
        throw error;
      });
      if (Number(inserted) !== 1) {
        await call(["DEL", idKey(record.id)], opts);
        throw new AuthError("API_KEY_LIMIT", `a user may hold at most ${maxPerOwner} API keys`);
      }
    },

    async replace(oldId, record, now, opts = {}) {
      await setIndex(record, opts);
      const replaced = await call(
        [
          "EVAL",
          REPLACE_SCRIPT,
          "1",
          ownerKey(record.owner),
          String(now),
          oldId,
          record.id,
          JSON.stringify(record),
        ],
        opts,
      );
      if (Number(replaced) !== 1) {
        await call(["DEL", idKey(record.id)], opts);
        throw new AuthError("NOT_FOUND", "no such API key for this user");
      }
      await call(["DEL", idKey(oldId)], opts);
    },

    async get(id, now, opts = {}) {
      const owner = await call(["GET", idKey(id)], opts);
      if (typeof owner !== "string") return undefined;
      const json = await call(["HGET", ownerKey(owner), id], opts);
      if (typeof json !== "string") return undefined;
      const record = parseRecord(json);
      return record !== undefined && record.owner === owner && isLive(record, now) ? record : undefined;
    },

    async list(owner, now, opts = {}) {
      const values = await call(["HVALS", ownerKey(owner)], opts);
      if (!Array.isArray(values)) return [];
      return values
        .map((value) => (typeof value === "string" ? parseRecord(value) : undefined))
        .filter((record): record is StoredApiKey => record !== undefined && isLive(record, now))
        .sort((a, b) => a.createdAt - b.createdAt);
    },

    async remove(owner, id, opts = {}) {
      const removed = await call(["HDEL", ownerKey(owner), id], opts);
      if (Number(removed) !== 1) return false;
      await call(["DEL", idKey(id)], opts);
      return true;
    },
  };
}

/** A record that does not parse is treated as absent: fail closed. */
function parseRecord(json: string): StoredApiKey | undefined {
  try {
    const value = JSON.parse(json) as StoredApiKey;
    return typeof value.id === "string" && typeof value.hash === "string" && typeof value.owner === "string"
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}
