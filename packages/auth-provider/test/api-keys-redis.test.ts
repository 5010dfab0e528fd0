import { randomBytes } from "node:crypto";
import { REDIS_URL } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKeyManager, createRedisApiKeyStore } from "../src/index.ts";
import { describeApiKeyStoreContract } from "./api-key-contract.ts";
import { expectAuthError } from "./helpers.ts";
import { redisToStop } from "./redis-outage.ts";

const available = await requireService({ name: "Redis", url: REDIS_URL });

describe.skipIf(!available)("Redis API key store", () => {
  const client = createClient({ url: REDIS_URL });

  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    await client.close();
  });

  describeApiKeyStoreContract("Redis", async () => {
    const keyPrefix = `test:apikey:${randomBytes(6).toString("hex")}`;
    return {
      store: createRedisApiKeyStore({ client, keyPrefix }),
      async cleanup() {
        const keys = await client.keys(`${keyPrefix}:*`);
        if (keys.length > 0) await client.del(keys);
      },
    };
  });

  it("keeps keys in one hash per owner plus an expiring id index", async () => {
    const keyPrefix = `test:apikey:${randomBytes(6).toString("hex")}`;
    const keys = createApiKeyManager({ store: createRedisApiKeyStore({ client, keyPrefix }) });
    const { info } = await keys.create({ username: "alice", roles: [] }, { ttlSeconds: 600 });
    expect(await client.exists(`${keyPrefix}:owner:{alice}`)).toBe(1);
    const ttl = await client.pTTL(`${keyPrefix}:id:${info.id}`);
    expect(ttl).toBeGreaterThan(590_000);
    await client.del([`${keyPrefix}:owner:{alice}`, `${keyPrefix}:id:${info.id}`]);
  });
});

describe("Redis API key store during an outage", () => {
  const redis = redisToStop();

  it("fails with AUTH_UNAVAILABLE, bounded by the deadline, once Redis is gone", async () => {
    const client = await redis.connect();
    const keys = createApiKeyManager({ store: createRedisApiKeyStore({ client, timeoutMs: 300 }) });
    const { key } = await keys.create({ username: "alice", roles: [] });
    await redis.stop();
    await expectAuthError(keys.resolve(key), "AUTH_UNAVAILABLE");
    await expectAuthError(keys.create({ username: "alice", roles: [] }), "AUTH_UNAVAILABLE");
    client.destroy();
  });
});
