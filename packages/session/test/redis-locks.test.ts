import { afterAll, describe, expect, it } from "vitest";
import { isSessionError, RedisLocks } from "../src/index.ts";
import { cleanup, rawClient, redisAvailable, uniquePrefix } from "./redis-fixture.ts";

afterAll(cleanup);

const codeOf = (error: unknown) => (isSessionError(error) ? error.code : error);

describe.skipIf(!redisAvailable)("RedisLocks", () => {
  it("waits at most waitTimeoutMs for a held lock, then SESSION_LOCK_TIMEOUT, and leaves the holder's lock", async () => {
    const client = await rawClient();
    try {
      const keyPrefix = uniquePrefix();
      const locks = new RedisLocks({ client, keyPrefix, waitTimeoutMs: 50, retryMs: 5 });
      const lease = await locks.tryLease("t");
      expect(lease).toBeDefined();
      expect(await locks.tryLease("t")).toBeUndefined();
      const failure = await locks.run("t", async () => "never", undefined).catch((error: unknown) => error);
      expect(codeOf(failure)).toBe("SESSION_LOCK_TIMEOUT");
      expect(await client.exists(`${keyPrefix}t`)).toBe(1);
      await lease?.release();
      expect(await client.exists(`${keyPrefix}t`)).toBe(0);
    } finally {
      client.destroy();
    }
  });

  it("releases only its own lock (compare-and-delete)", async () => {
    const client = await rawClient();
    try {
      const keyPrefix = uniquePrefix();
      const locks = new RedisLocks({ client, keyPrefix });
      const lease = await locks.tryLease("t");
      await client.set(`${keyPrefix}t`, "another-holder");
      await lease?.release();
      expect(await client.get(`${keyPrefix}t`)).toBe("another-holder");
    } finally {
      client.destroy();
    }
  });

  it("renews while held, so a lock outlives its TTL while its holder works", async () => {
    const client = await rawClient();
    try {
      const keyPrefix = uniquePrefix();
      const locks = new RedisLocks({ client, keyPrefix, ttlMs: 150 });
      const result = await locks.run(
        "t",
        async (held) => {
          await new Promise((resolve) => setTimeout(resolve, 500));
          expect(held.aborted).toBe(false);
          expect(await client.exists(`${keyPrefix}t`)).toBe(1);
          return "done";
        },
        undefined,
      );
      expect(result).toBe("done");
      expect(await client.exists(`${keyPrefix}t`)).toBe(0);
    } finally {
      client.destroy();
    }
  });

  it("aborts the holder's signal with SESSION_LOCK_LOST when the lock is taken over", async () => {
    const client = await rawClient();
    try {
      const keyPrefix = uniquePrefix();
      const locks = new RedisLocks({ client, keyPrefix, ttlMs: 150 });
      const failure = await locks
        .run(
          "t",
          async (held) => {
            await client.set(`${keyPrefix}t`, "another-holder");
            await new Promise((resolve) => held.addEventListener("abort", resolve, { once: true }));
            return "finished anyway";
          },
          undefined,
        )
        .catch((error: unknown) => error);
      expect(codeOf(failure)).toBe("SESSION_LOCK_LOST");
      expect(await client.get(`${keyPrefix}t`)).toBe("another-holder");
    } finally {
      client.destroy();
    }
  });

  it("answers SESSION_UNAVAILABLE when Redis is unreachable, and refuses bad input", async () => {
    const down = { eval: () => Promise.reject(new Error("ECONNREFUSED")) };
    const locks = new RedisLocks({ client: down, keyPrefix: uniquePrefix() });
    expect(codeOf(await locks.tryLease("t").catch((error: unknown) => error))).toBe("SESSION_UNAVAILABLE");
    const silent = new RedisLocks({ client: { eval: () => new Promise(() => {}) }, commandTimeoutMs: 20 });
    expect(codeOf(await silent.tryLease("t").catch((error: unknown) => error))).toBe("SESSION_UNAVAILABLE");
    expect(codeOf(await locks.tryLease("").catch((error: unknown) => error))).toBe("SESSION_INVALID_INPUT");
    expect(() => new RedisLocks({ client: down, ttlMs: 5 })).toThrow(/ttlMs/);
  });
});
