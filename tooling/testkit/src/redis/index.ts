export { OwnRedisCluster, OwnRedisServer, requireRedisBinaries } from "./redis-server.ts";
export { REDIS_URL, rawRedisClient, redisKeyspace } from "./shared-redis.ts";
