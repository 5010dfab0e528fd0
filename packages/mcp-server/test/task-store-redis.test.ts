import { REDIS_URL, rawRedisClient, redisKeyspace } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { afterAll, describe, expect, it } from "vitest";
import { createRedisTaskStore, isMcpServerError } from "../src/index.ts";
import { runTaskStoreContract } from "./task-store-contract.ts";

const redisUp = await requireService({ name: "redis", url: REDIS_URL });
const keyspace = redisKeyspace("tasks");
afterAll(async () => {
  if (redisUp) await keyspace.cleanup();
});

describe.runIf(redisUp)("Redis task store", () => {
  runTaskStoreContract("redis", async (limits) => {
    const client = await rawRedisClient();
    const subscriber = client.duplicate();
    subscriber.on("error", () => {});
    await subscriber.connect();
    const store = await createRedisTaskStore({
      client,
      subscriber,
      keyPrefix: keyspace.uniquePrefix(),
      ...(limits ? { limits } : {}),
    });
    return {
      ...store,
      async close() {
        await store.close();
        client.destroy();
        subscriber.destroy();
      },
    };
  });

  it("is shared: a second store on the same keys sees, cancels and hears the first one's tasks", async () => {
    const keyPrefix = keyspace.uniquePrefix();
    const clients = await Promise.all([
      rawRedisClient(),
      rawRedisClient(),
      rawRedisClient(),
      rawRedisClient(),
    ]);
    const [a, b] = await Promise.all([
      createRedisTaskStore({ client: clients[0], subscriber: clients[1], keyPrefix }),
      createRedisTaskStore({ client: clients[2], subscriber: clients[3], keyPrefix }),
    ]);
    try {
      const task = await a.create("user:alice", undefined, AbortSignal.timeout(2_000));
      const heard = new Promise<void>((resolve) => a.watch("user:alice", task.taskId, resolve));
      expect(await b.get("user:alice", task.taskId, AbortSignal.timeout(2_000))).toEqual(task);
      await b.cancel("user:alice", task.taskId, { content: [] }, AbortSignal.timeout(2_000));
      await heard;
      expect(await a.get("user:alice", task.taskId, AbortSignal.timeout(2_000))).toMatchObject({
        status: "cancelled",
      });
    } finally {
      await Promise.all([a.close(), b.close()]);
      for (const client of clients) client.destroy();
    }
  });

  it("keeps no owner id in its keys: one hashed slot tag per owner", async () => {
    const keyPrefix = keyspace.uniquePrefix();
    const [client, subscriber] = await Promise.all([rawRedisClient(), rawRedisClient()]);
    const store = await createRedisTaskStore({ client, subscriber, keyPrefix });
    try {
      const task = await store.create("alice@example.com", undefined, AbortSignal.timeout(2_000));
      const keys = await client.keys(`${keyPrefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        expect(key).not.toContain("alice");
        expect(key).toMatch(/\{[A-Za-z0-9_-]{22}\}/);
      }
      expect(keys.some((key) => key.endsWith(task.taskId))).toBe(true);
    } finally {
      await store.close();
      client.destroy();
      subscriber.destroy();
    }
  });

  it("answers TASK_STORE_UNAVAILABLE within its deadline when Redis does not answer", async () => {
    const silent = { sendCommand: () => new Promise<never>(() => {}) };
    const subscriber = { subscribe: async () => undefined, unsubscribe: async () => undefined };
    const store = await createRedisTaskStore({ client: silent, subscriber, timeoutMs: 100 });
    const error = await store
      .create("user:alice", undefined, AbortSignal.timeout(5_000))
      .catch((e: unknown) => e);
    expect(isMcpServerError(error) && error.code).toBe("TASK_STORE_UNAVAILABLE");
    const failing = {
      sendCommand: async () => {
        throw new Error("connection refused");
      },
    };
    const down = await createRedisTaskStore({ client: failing, subscriber });
    const refused = await down
      .get("user:alice", crypto.randomUUID(), AbortSignal.timeout(5_000))
      .catch((e: unknown) => e);
    expect(isMcpServerError(refused) && refused.code).toBe("TASK_STORE_UNAVAILABLE");
    // The message names no Redis internals to the client.
    expect((refused as Error).message).not.toContain("refused");
  });
});
