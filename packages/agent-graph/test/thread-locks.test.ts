import { RedisLocks } from "@mcp-langgraph/session";
import { REDIS_URL, rawRedisClient, redisKeyspace } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { afterAll } from "vitest";
import { ThreadLocks } from "../src/index.ts";
import { describeThreadLockContract } from "./thread-lock-contract.ts";

const redisAvailable = await requireService({ name: "redis", url: REDIS_URL });
const keyspace = redisKeyspace("thread-locks");
afterAll(() => (redisAvailable ? keyspace.cleanup() : undefined));

describeThreadLockContract("in-process ThreadLocks", async () => {
  const locks = new ThreadLocks();
  return { providers: [locks], close: async () => {} };
});

describeThreadLockContract(
  "RedisLocks (two instances, one Redis)",
  async () => {
    const keyPrefix = keyspace.uniquePrefix();
    const clients = await Promise.all([rawRedisClient(), rawRedisClient()]);
    return {
      providers: clients.map((client) => new RedisLocks({ client, keyPrefix, retryMs: 5 })),
      close: async () => {
        for (const client of clients) client.destroy();
      },
    };
  },
  { skip: !redisAvailable },
);
