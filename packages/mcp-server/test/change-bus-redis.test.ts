import { REDIS_URL, rawRedisClient, redisKeyspace } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { afterAll, describe, expect, it } from "vitest";
import { createRedisChangeBus, isMcpServerError } from "../src/index.ts";
import { runChangeBusContract } from "./change-bus-contract.ts";

const redisUp = await requireService({ name: "redis", url: REDIS_URL });
const keyspace = redisKeyspace("change-bus");
afterAll(async () => {
  if (redisUp) await keyspace.cleanup();
});

describe.runIf(redisUp)("Redis conversation change bus", () => {
  runChangeBusContract("redis", async () => {
    const keyPrefix = keyspace.uniquePrefix();
    const clients = await Promise.all([
      rawRedisClient(),
      rawRedisClient(),
      rawRedisClient(),
      rawRedisClient(),
    ]);
    const [a, b] = await Promise.all([
      createRedisChangeBus({ client: clients[0], subscriber: clients[1], keyPrefix }),
      createRedisChangeBus({ client: clients[2], subscriber: clients[3], keyPrefix }),
    ]);
    return {
      buses: [a, b],
      async close() {
        await Promise.allSettled([a.close(), b.close()]);
        for (const client of clients) client.destroy();
      },
    };
  });

  it("hears nothing of another deployment's changes (another key prefix)", async () => {
    const mineKeys = keyspace.uniquePrefix();
    const clients = await Promise.all([
      rawRedisClient(),
      rawRedisClient(),
      rawRedisClient(),
      rawRedisClient(),
      rawRedisClient(),
      rawRedisClient(),
    ]);
    const [mine, mineElsewhere, theirs] = await Promise.all([
      createRedisChangeBus({ client: clients[0], subscriber: clients[1], keyPrefix: mineKeys }),
      createRedisChangeBus({ client: clients[2], subscriber: clients[3], keyPrefix: mineKeys }),
      createRedisChangeBus({
        client: clients[4],
        subscriber: clients[5],
        keyPrefix: keyspace.uniquePrefix(),
      }),
    ]);
    try {
      const keys: string[] = [];
      let sentinel: () => void = () => {};
      const heardSentinel = new Promise<void>((resolve) => {
        sentinel = resolve;
      });
      mine.subscribe("c-1", (key) => keys.push(key));
      mine.subscribe("c-done", () => sentinel());
      await theirs.publish("c-1");
      // Published after theirs on the same Redis: had theirs reached this bus, it would be here first.
      await mineElsewhere.publish("c-done");
      await heardSentinel;
      expect(keys).toEqual([]);
    } finally {
      await Promise.allSettled([mine.close(), mineElsewhere.close(), theirs.close()]);
      for (const client of clients) client.destroy();
    }
  });

  it("tells its own listeners and reports, without rejecting, a change Redis did not take", async () => {
    const subscriber = { subscribe: async () => undefined, unsubscribe: async () => undefined };
    const reported: unknown[] = [];
    for (const client of [
      { sendCommand: () => new Promise<never>(() => {}) },
      {
        sendCommand: async () => {
          throw new Error("connect ECONNREFUSED 127.0.0.1:6379");
        },
      },
    ]) {
      const bus = await createRedisChangeBus({
        client,
        subscriber,
        timeoutMs: 100,
        onPublishError: (error) => reported.push(error),
      });
      const local: string[] = [];
      bus.subscribe("c-1", (key) => local.push(key));
      await expect(bus.publish("c-1")).resolves.toBeUndefined();
      expect(local).toEqual(["c-1"]);
    }
    expect(reported.map((error) => isMcpServerError(error) && error.code)).toEqual([
      "CHANGE_BUS_UNAVAILABLE",
      "CHANGE_BUS_UNAVAILABLE",
    ]);
    // What is logged names no Redis internals.
    expect(String((reported[1] as Error).message)).not.toContain("ECONNREFUSED");
  });

  it("refuses to start, within its deadline, when the subscription to the channel is not confirmed", async () => {
    const error = await createRedisChangeBus({
      client: { sendCommand: async () => 0 },
      subscriber: { subscribe: () => new Promise<never>(() => {}), unsubscribe: async () => undefined },
      timeoutMs: 100,
    }).catch((caught: unknown) => caught);
    expect(isMcpServerError(error) && error.code).toBe("CHANGE_BUS_UNAVAILABLE");
  });
});
