import { createHash } from "node:crypto";

/**
 * Lua scripts: each runs atomically on the Redis server, which is what makes the
 * per-user limit, metadata merges and sliding expiry race-free across processes.
 * KEYS are always one session key and/or its user's index key; both carry the
 * user's hash tag, and the other session keys a script derives from the index
 * (`sessionKeyPrefix .. token`) carry the same tag, so a script never leaves its slot.
 */
export interface LuaScript {
  readonly source: string;
  readonly sha1: string;
}

function script(source: string): LuaScript {
  return { source, sha1: createHash("sha1").update(source).digest("hex") };
}

/** Moves a session's expiry to now + ttl and keeps its user's index alive at least as long. */
const TOUCH = `
local function touch(sessionKey, indexKey, now, ttl)
  redis.call('HSET', sessionKey, 'a', now, 'e', tostring(tonumber(now) + ttl))
  redis.call('PEXPIRE', sessionKey, ttl)
  if redis.call('PTTL', indexKey) < ttl then redis.call('PEXPIRE', indexKey, ttl) end
end
`;

/** KEYS: session, index. ARGV: now, ttlMs, maxSessions, token, sessionKeyPrefix, identityJson, field, value, ...
 * Returns how many older sessions it evicted. */
export const CREATE = script(
  `${TOUCH}
local ttl = tonumber(ARGV[2])
local score = tonumber(ARGV[1])
local newest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) >= score then score = tonumber(newest[2]) + 1 end
local fields = {'d', ARGV[6], 't', ARGV[2]}
for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('ZADD', KEYS[2], score, ARGV[4])
touch(KEYS[1], KEYS[2], ARGV[1], ttl)
local live = {}
for _, token in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('EXISTS', ARGV[5] .. token) == 1 then
    live[#live + 1] = token
  else
    redis.call('ZREM', KEYS[2], token)
  end
end
local evicted = 0
for i = 1, #live - tonumber(ARGV[3]) do
  redis.call('DEL', ARGV[5] .. live[i])
  redis.call('ZREM', KEYS[2], live[i])
  evicted = evicted + 1
end
return evicted
`,
);

/** `get`'s semantics, shared by GET and the scripts of `getAndRun`: slides a live session, returns its fields ({} when gone). */
const READ = `${TOUCH}
local function read(sessionKey, indexKey, now, slide)
  local ttl = tonumber(redis.call('HGET', sessionKey, 't'))
  if ttl and slide == '1' then touch(sessionKey, indexKey, now, ttl) end
  return redis.call('HGETALL', sessionKey)
end
`;

/** KEYS: session, index. ARGV: now, slide ("1"/"0"). Returns false or HGETALL's field list. */
export const GET = script(
  `${READ}
local fields = read(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
if #fields == 0 then return false end
return fields
`,
);

/**
 * GET followed, in the same script, by a caller's Lua (`companionLua`, the body of a function of its
 * own KEYS and ARGV), which runs only when the session is live and its identity names user ARGV[3].
 * KEYS: session, index, companion keys... ARGV: now, slide, userId, companion key count, companion args...
 * Returns false (no session), {fields, 0} (not that user's: the companion did not run) or {fields, 1, its result}.
 */
export function getAndRunScript(companionLua: string): LuaScript {
  return script(
    `${READ}
local function companion(KEYS, ARGV)
${companionLua}
end
local fields = read(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
if #fields == 0 then return false end
local ok, identity = pcall(cjson.decode, redis.call('HGET', KEYS[1], 'd') or '')
if not ok or type(identity) ~= 'table' or identity.userId ~= ARGV[3] then return {fields, 0} end
local count = tonumber(ARGV[4])
local keys, args = {}, {}
for i = 1, count do keys[i] = KEYS[2 + i] end
for i = 5, #ARGV do args[#args + 1] = ARGV[i] end
return {fields, 1, companion(keys, args)}
`,
  );
}

/** KEYS: session, index. ARGV: now, slide ("1"/"0"), field, value, ... Returns 1 or 0. */
export const UPDATE = script(
  `${TOUCH}
local ttl = redis.call('HGET', KEYS[1], 't')
if not ttl then
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
  return redis.error_reply('SESSION_CORRUPT session hash has no ttl')
end
ttl = tonumber(ttl)
if not ttl then return redis.error_reply('SESSION_CORRUPT session ttl is not a number') end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
if #fields > 0 then redis.call('HSET', KEYS[1], unpack(fields)) end
if ARGV[2] == '1' then touch(KEYS[1], KEYS[2], ARGV[1], ttl) end
return 1
`,
);

/** KEYS: session, index. ARGV: now, ttlMs. Returns 1 or 0. */
export const REFRESH = script(
  `${TOUCH}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 't', ARGV[2])
touch(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]))
return 1
`,
);

/** KEYS: session, index. ARGV: token. Returns 1 or 0. */
export const DELETE = script(
  `
local deleted = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return deleted
`,
);

/**
 * KEYS: index. ARGV: sessionKeyPrefix. Returns, oldest first, {token, fields} per
 * live session and {token} per session whose key holds something other than a hash.
 */
export const LIST_USER = script(
  `
local out = {}
for _, token in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. token
  local fields = redis.pcall('HGETALL', key)
  if fields.err then
    out[#out + 1] = {token}
  elseif #fields == 0 then
    redis.call('ZREM', KEYS[1], token)
  else
    out[#out + 1] = {token, fields}
  end
end
return out
`,
);

/** KEYS: index. ARGV: sessionKeyPrefix. Returns how many session keys existed. */
export const DELETE_USER = script(
  `
local deleted = 0
for _, token in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  deleted = deleted + redis.call('DEL', ARGV[1] .. token)
end
redis.call('DEL', KEYS[1])
return deleted
`,
);

/** KEYS: session, index. ARGV: cutoffMs, token. Deletes the session when last accessed before the cutoff. */
export const DELETE_IF_IDLE = script(
  `
local accessed = redis.pcall('HGET', KEYS[1], 'a')
if type(accessed) ~= 'string' then return 0 end
accessed = tonumber(accessed)
if not accessed or accessed >= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
`,
);
