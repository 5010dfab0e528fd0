/**
 * Lua run atomically by Redis for the task store. Every key of one owner carries the owner's hash
 * tag (`{…}`), so a script only touches keys of one slot and runs unchanged on Redis Cluster.
 * A task is a hash (`meta`: the fixed fields as JSON, `status`, `statusMessage`, `lastUpdatedAt`)
 * with the task's TTL; its result is a string key beside it expiring at the same moment; the
 * owner's index is a sorted set of task ids scored by creation time.
 */

/**
 * KEYS: index. ARGV: task key prefix, limit, task id, meta JSON, status, lastUpdatedAt, ttl ms, createdMs.
 * Drops index entries whose task expired, refuses past the limit (0), else creates the task (1).
 */
export const CREATE_TASK = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local live = 0
for _, id in ipairs(ids) do
  if redis.call('EXISTS', ARGV[1] .. id) == 1 then live = live + 1 else redis.call('ZREM', KEYS[1], id) end
end
if live >= tonumber(ARGV[2]) then return 0 end
local key = ARGV[1] .. ARGV[3]
redis.call('HSET', key, 'meta', ARGV[4], 'status', ARGV[5], 'lastUpdatedAt', ARGV[6])
redis.call('PEXPIRE', key, ARGV[7])
redis.call('ZADD', KEYS[1], ARGV[8], ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[7]) then redis.call('PEXPIRE', KEYS[1], ARGV[7]) end
return 1
`;

/**
 * KEYS: task, result. ARGV: new status, lastUpdatedAt, statusMessage ('' for none), result JSON,
 * channel, message. Only a running (working or input_required) task changes (2); an unknown or
 * expired task gives 0 and a task already terminal 1. The change is published so every
 * instance's waiters re-read it.
 */
export const SETTLE_TASK = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
if status ~= 'working' and status ~= 'input_required' then return 1 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'lastUpdatedAt', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'statusMessage', ARGV[3]) else redis.call('HDEL', KEYS[1], 'statusMessage') end
redis.call('SET', KEYS[2], ARGV[4], 'PX', ttl)
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 2
`;

/**
 * KEYS: task. ARGV: new status (working or input_required), lastUpdatedAt, statusMessage ('' for
 * none), channel, message. Moves a running task between its two running statuses (2); an unknown
 * or expired task gives 0 and a terminal one 1, unchanged. The change is published.
 */
export const SET_RUN_STATUS = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
if status ~= 'working' and status ~= 'input_required' then return 1 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'lastUpdatedAt', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'statusMessage', ARGV[3]) else redis.call('HDEL', KEYS[1], 'statusMessage') end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 2
`;

/**
 * KEYS: index. ARGV: task key prefix. The owner's live tasks as [id, meta, status, statusMessage,
 * lastUpdatedAt] rows; index entries of expired tasks are dropped on the way.
 */
export const LIST_TASKS = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local rows = {}
for _, id in ipairs(ids) do
  local fields = redis.call('HMGET', ARGV[1] .. id, 'meta', 'status', 'statusMessage', 'lastUpdatedAt')
  if fields[1] then
    table.insert(rows, {id, fields[1], fields[2], fields[3] or '', fields[4]})
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return rows
`;

/**
 * KEYS: index. ARGV: task key prefix, result key prefix, channel, event prefix. Deletes every task
 * of the owner with its result and the index, publishing each deletion; returns how many tasks
 * were live.
 */
export const DELETE_OWNER_TASKS = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local deleted = 0
for _, id in ipairs(ids) do
  deleted = deleted + redis.call('DEL', ARGV[1] .. id)
  redis.call('DEL', ARGV[2] .. id)
  redis.call('PUBLISH', ARGV[3], ARGV[4] .. id)
end
redis.call('DEL', KEYS[1])
return deleted
`;
