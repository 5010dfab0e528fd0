import {
  checkDefaultTtl,
  checkStateId,
  type OAuthStateOptions,
  type OAuthStatePayload,
  type OAuthStateStore,
  stateTtlSeconds,
} from "./oauth-state.js";
import { createRedisCall, type RedisCommandClient } from "./redis-call.js";

export interface RedisOAuthStateOptions extends OAuthStateOptions {
  client: RedisCommandClient;
  /** Default "mcp-langgraph:oauth:". */
  keyPrefix?: string;
  /** Deadline per Redis call; default 2000 ms. */
  timeoutMs?: number;
  /** Redis calls in flight at once; default 64. */
  concurrency?: number;
}

/** Replaces an entry and sets its lifetime in one step: no entry is ever left without a TTL. */
const WRITE = `redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'consumed', ARGV[2]) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1`;

/** Marks an entry used only if it still exists (HSET alone would recreate a gone one without a TTL). */
const CONSUME = `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'consumed', ARGV[1]) end
return 1`;

/**
 * OAuth state in Redis (SESSION_BACKEND=redis), so an authorization started on one instance
 * completes on any other. Every command touches one key (safe for Redis Cluster): an entry is
 * a hash {payload, consumed} with the entry's TTL; uid and user-code lookups are string
 * pointers with the same TTL; a grant's artefacts are listed in a set that lives as long as the
 * longest of them, for revokeByGrantId.
 */
export function createRedisOAuthState(options: RedisOAuthStateOptions): OAuthStateStore {
  const prefix = options.keyPrefix ?? "mcp-langgraph:oauth:";
  const defaultTtl = checkDefaultTtl(options.defaultTtlSeconds);
  const call = createRedisCall({
    client: options.client,
    timeoutMs: options.timeoutMs ?? 2_000,
    concurrency: options.concurrency ?? 64,
    what: "OAuth state store",
  });

  const read = async (key: string): Promise<OAuthStatePayload | undefined> => {
    const fields = (await call(["HMGET", key, "payload", "consumed"])) as [string | null, string | null];
    if (!fields[0]) return undefined;
    const payload = JSON.parse(fields[0]) as OAuthStatePayload;
    if (fields[1]) payload.consumed = Number(fields[1]);
    return payload;
  };
  const byPointer = async (pointer: string) => {
    const key = (await call(["GET", pointer])) as string | null;
    return key ? read(key) : undefined;
  };

  return (model) => {
    checkStateId("model", model);
    const keyOf = (id: string) => `${prefix}${model}:${checkStateId("id", id)}`;
    return {
      async upsert(id, payload, expiresIn) {
        const key = keyOf(id);
        const ttl = String(stateTtlSeconds(expiresIn, defaultTtl));
        const { consumed, ...rest } = payload;
        await call([
          "EVAL",
          WRITE,
          "1",
          key,
          JSON.stringify(rest),
          consumed === undefined ? "" : String(consumed),
          ttl,
        ]);
        const writes: Promise<unknown>[] = [];
        if (typeof payload.grantId === "string") {
          const grantKey = `${prefix}grant:${payload.grantId}`;
          writes.push(
            call(["SADD", grantKey, key]).then(async () => {
              // NX sets the first lifetime; GT only ever extends it (a short access token must not
              // shorten the list that a long refresh token is on).
              await call(["EXPIRE", grantKey, ttl, "NX"]);
              await call(["EXPIRE", grantKey, ttl, "GT"]);
            }),
          );
        }
        if (typeof payload.uid === "string")
          writes.push(call(["SET", `${prefix}uid:${payload.uid}`, key, "EX", ttl]));
        if (typeof payload.userCode === "string")
          writes.push(call(["SET", `${prefix}userCode:${payload.userCode}`, key, "EX", ttl]));
        await Promise.all(writes);
      },
      find: async (id) => read(keyOf(id)),
      findByUid: async (uid) => byPointer(`${prefix}uid:${checkStateId("uid", uid)}`),
      findByUserCode: async (userCode) =>
        byPointer(`${prefix}userCode:${checkStateId("userCode", userCode)}`),
      async consume(id) {
        const key = keyOf(id);
        await call(["EVAL", CONSUME, "1", key, String(Math.floor(Date.now() / 1000))]);
      },
      async destroy(id) {
        await call(["DEL", keyOf(id)]);
      },
      async revokeByGrantId(grantId) {
        const grantKey = `${prefix}grant:${checkStateId("grantId", grantId)}`;
        const keys = (await call(["SMEMBERS", grantKey])) as string[];
        await Promise.all(keys.map((key) => call(["DEL", key])));
        await call(["DEL", grantKey]);
      },
    };
  };
}
