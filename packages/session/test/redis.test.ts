import { createHash } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  createSessionStore,
  isSessionError,
  type SessionStore,
  type SessionStoreOptions,
} from "../src/index.ts";
import { runSessionStoreContract } from "./contract.ts";
import {
  cleanup,
  openRedisStore,
  REDIS_URL,
  rawClient,
  redisAvailable,
  uniquePrefix,
} from "./redis-fixture.ts";

afterAll(cleanup);

describe.skipIf(!redisAvailable)("redis store", () => {
  runSessionStoreContract("redis", (options) => openRedisStore(options));

  const alice = { userId: "user-alice", username: "alice", roles: ["user"] };
  const bob = { userId: "user-bob", username: "bob", roles: ["user"] };
  const opened: SessionStore[] = [];
  const open = async (...args: Parameters<typeof openRedisStore>) => {
    const store = await openRedisStore(...args);
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    return isSessionError(error) ? error.code : `not a SessionError: ${String(error)}`;
  }

  describe("keys", () => {
    it("carry the prefix and one hash tag per user, and every key has a TTL", async () => {
      const prefix = uniquePrefix();
      const store = await open({ ttlSeconds: 300 }, prefix);
      const aliceIds = [await store.create(alice), await store.create(alice)];
      const bobId = await store.create(bob);
      const client = await rawClient();
      try {
        const keys: string[] = [];
        for await (const page of client.scanIterator({ MATCH: `${prefix}*` })) keys.push(...page);
        expect(keys).toHaveLength(5); // 3 sessions + 2 user indexes
        const tagOf = (key: string) => /^[^{]*\{([^}]+)\}/.exec(key)?.[1];
        const aliceTag = aliceIds[0]!.split(".")[0];
        expect(aliceIds.every((id) => id.startsWith(`${aliceTag}.`))).toBe(true);
        expect(bobId.startsWith(`${aliceTag}.`)).toBe(false);
        expect(keys.filter((key) => tagOf(key) === aliceTag)).toHaveLength(3);
        for (const key of keys) {
          expect(key.startsWith(prefix)).toBe(true);
          const ttl = await client.pTTL(key);
          expect(ttl).toBeGreaterThan(290_000);
          expect(ttl).toBeLessThanOrEqual(300_000);
        }
      } finally {
        client.destroy();
      }
    });

    it("a get slides the key's TTL in Redis, not only expiresAt", async () => {
      const prefix = uniquePrefix();
      const store = await open({ ttlSeconds: 100 }, prefix);
      const id = await store.create(alice);
      const sessionKey = `${prefix}{${id.split(".")[0]}}:s:${id.split(".")[1]}`;
      const client = await rawClient();
      try {
        await client.pExpire(sessionKey, 5000);
        await store.get(id);
        expect(await client.pTTL(sessionKey)).toBeGreaterThan(99_000);
      } finally {
        client.destroy();
      }
    });

    it("with sliding off, a get leaves the key's TTL alone", async () => {
      const prefix = uniquePrefix();
      const store = await open({ ttlSeconds: 100, slidingWindow: false }, prefix);
      const id = await store.create(alice);
      const sessionKey = `${prefix}{${id.split(".")[0]}}:s:${id.split(".")[1]}`;
      const client = await rawClient();
      try {
        await client.pExpire(sessionKey, 5000);
        await store.get(id);
        expect(await client.pTTL(sessionKey)).toBeLessThanOrEqual(5000);
      } finally {
        client.destroy();
      }
    });
  });

  it("an id combining one user's slot tag with another user's token finds nothing", async () => {
    const store = await open();
    const aliceId = await store.create(alice);
    const bobId = await store.create(bob);
    const forged = `${bobId.split(".")[0]}.${aliceId.split(".")[1]}`;
    expect(await store.get(forged)).toBeNull();
    expect(await store.update(forged, { hijacked: true })).toBe(false);
    expect(await store.delete(forged)).toBe(false);
    expect((await store.get(aliceId))?.metadata).toEqual({});
    expect((await store.get(bobId))?.userId).toBe(bob.userId);
  });

  describe("corrupt and foreign values give SESSION_CORRUPT for that session only", () => {
    async function setup() {
      const prefix = uniquePrefix();
      const store = await open({}, prefix);
      const victim = await store.create({ ...alice, metadata: { n: 1 } });
      const healthy = await store.create({ ...alice, metadata: { n: 2 } });
      const [tag, token] = victim.split(".");
      const client = await rawClient();
      return { store, victim, healthy, client, key: `${prefix}{${tag}}:s:${token}`, prefix };
    }

    const corruptions: Array<
      [string, (client: Awaited<ReturnType<typeof rawClient>>, key: string) => Promise<unknown>]
    > = [
      [
        "a plain string at the key",
        async (c, key) => c.multi().del(key).set(key, "hello", { PX: 60_000 }).exec(),
      ],
      ["identity that is not JSON", (c, key) => c.hSet(key, "d", "{not json")],
      [
        "an unknown codec version",
        (c, key) => c.hSet(key, "d", JSON.stringify({ v: 99, ...alice, createdAt: 1 })),
      ],
      [
        "identity of another user under this user's key",
        (c, key) => c.hSet(key, "d", JSON.stringify({ v: 1, ...bob, createdAt: 1 })),
      ],
      ["metadata that is not JSON", (c, key) => c.hSet(key, "m:n", "{oops")],
      ["a missing identity", (c, key) => c.hDel(key, "d")],
      ["a missing ttl", (c, key) => c.hDel(key, "t")],
    ];

    for (const [name, corrupt] of corruptions) {
      it(name, async () => {
        const { store, victim, healthy, client, key } = await setup();
        try {
          await corrupt(client, key);
          expect(await codeOf(store.get(victim))).toBe("SESSION_CORRUPT");
          expect((await store.get(healthy))?.metadata).toEqual({ n: 2 });
          const listed = await store.listUserSessions(alice.userId);
          expect(listed.map((s) => s.sessionId)).toEqual([healthy]);
          // Erasure still reaches the unreadable session.
          expect(await store.deleteUserSessions(alice.userId)).toBe(2);
          expect(await client.exists(key)).toBe(0);
        } finally {
          client.destroy();
        }
      });
    }

    it("update and refresh on a foreign value fail typed and leave it untouched", async () => {
      const { store, victim, client, key } = await setup();
      try {
        await client.multi().del(key).set(key, "foreign", { PX: 60_000 }).exec();
        expect(await codeOf(store.update(victim, { a: 1 }))).toBe("SESSION_CORRUPT");
        expect(await codeOf(store.refresh(victim))).toBe("SESSION_CORRUPT");
        expect(await client.get(key)).toBe("foreign");
      } finally {
        client.destroy();
      }
    });
  });

  describe("getAndRun: get and a script on the user's own keys, in one round trip", () => {
    // Sets its key to ARGV[1] and answers "ran": what an app's own check-and-touch would do.
    const marker = { lua: "redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000) return 'ran'" };
    const tagOf = (userId: string) => createHash("sha256").update(userId).digest("base64url").slice(0, 22);

    async function setup(options: SessionStoreOptions = { ttlSeconds: 100 }) {
      const prefix = uniquePrefix();
      const store = await open(options, prefix);
      const id = await store.create(alice);
      const client = await rawClient();
      const sessionKey = `${prefix}{${id.split(".")[0]}}:s:${id.split(".")[1]}`;
      const markerKey = `${prefix}app:{${tagOf(alice.userId)}}:marker`;
      const call = { script: marker, userId: alice.userId, keys: [markerKey], args: ["touched"] };
      return { store, id, client, sessionKey, markerKey, call, prefix };
    }

    it("runs the script on a live session of the user, answering and sliding the session as get does", async () => {
      const { store, id, client, sessionKey, markerKey, call } = await setup();
      try {
        await client.pExpire(sessionKey, 5000);
        const answer = await store.getAndRun!(id, call);
        expect(answer.ran).toBe(true);
        expect(answer.result).toBe("ran");
        expect(answer.session?.userId).toBe(alice.userId);
        expect(answer.session).toEqual({
          ...(await store.get(id)),
          lastAccessedAt: expect.any(Date),
          expiresAt: expect.any(Date),
        });
        expect(await client.get(markerKey)).toBe("touched");
        expect(await client.pTTL(sessionKey)).toBeGreaterThan(99_000);
      } finally {
        client.destroy();
      }
    });

    it("with sliding off, leaves the session's TTL alone and still runs the script", async () => {
      const { store, id, client, sessionKey, markerKey, call } = await setup({
        ttlSeconds: 100,
        slidingWindow: false,
      });
      try {
        await client.pExpire(sessionKey, 5000);
        expect((await store.getAndRun!(id, call)).ran).toBe(true);
        expect(await client.pTTL(sessionKey)).toBeLessThanOrEqual(5000);
        expect(await client.get(markerKey)).toBe("touched");
      } finally {
        client.destroy();
      }
    });

    it("does not run the script once the session is deleted", async () => {
      const { store, id, client, markerKey, call } = await setup();
      try {
        await store.delete(id);
        expect(await store.getAndRun!(id, call)).toEqual({ session: null, ran: false, result: undefined });
        expect(await client.exists(markerKey)).toBe(0);
      } finally {
        client.destroy();
      }
    });

    it("does not run the script, nor slide anything, for another user's session or an id it never issued", async () => {
      const { store, client, markerKey, call, prefix } = await setup();
      try {
        const bobId = await store.create(bob);
        const bobSessionKey = `${prefix}{${bobId.split(".")[0]}}:s:${bobId.split(".")[1]}`;
        await client.pExpire(bobSessionKey, 5000);
        for (const id of [bobId, "not-an-id", `${tagOf(alice.userId)}.${"A".repeat(43)}`]) {
          expect(await store.getAndRun!(id, call)).toEqual({ session: null, ran: false, result: undefined });
        }
        expect(await client.pTTL(bobSessionKey)).toBeLessThanOrEqual(5000);
        expect(await client.exists(markerKey)).toBe(0);
      } finally {
        client.destroy();
      }
    });

    it("does not run the script when the stored identity names another user (SESSION_CORRUPT)", async () => {
      const { store, id, client, sessionKey, markerKey, call } = await setup();
      try {
        await client.hSet(sessionKey, "d", JSON.stringify({ v: 1, ...bob, createdAt: 1 }));
        expect(await codeOf(store.getAndRun!(id, call))).toBe("SESSION_CORRUPT");
        expect(await client.exists(markerKey)).toBe(0);
      } finally {
        client.destroy();
      }
    });

    it("refuses, before any I/O, keys outside the user's slot and malformed calls (SESSION_INVALID_INPUT)", async () => {
      const { store, id, client, sessionKey, markerKey, call } = await setup();
      try {
        await client.pExpire(sessionKey, 5000);
        const outside = `${markerKey.replace(/\{.*\}/, "{elsewhere}")}`;
        for (const bad of [
          { ...call, keys: [markerKey, outside] },
          { ...call, args: [1 as unknown as string] },
          { ...call, script: { lua: "" } },
          { ...call, userId: "" },
        ]) {
          expect(await codeOf(store.getAndRun!(id, bad))).toBe("SESSION_INVALID_INPUT");
        }
        expect(await client.pTTL(sessionKey)).toBeLessThanOrEqual(5000);
        expect(await client.exists(markerKey)).toBe(0);
        expect(await client.exists(outside)).toBe(0);
      } finally {
        client.destroy();
      }
    });
  });

  describe("concurrency across processes", () => {
    it("the per-user limit holds for creates racing through two separate connections", async () => {
      const prefix = uniquePrefix();
      const first = await open({ maxConcurrentSessions: 5 }, prefix);
      const second = await open({ maxConcurrentSessions: 5 }, prefix);
      const ids = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? first : second).create(alice)),
      );
      const listed = await first.listUserSessions(alice.userId);
      expect(listed).toHaveLength(5);
      const live = await Promise.all(ids.map((id) => second.get(id)));
      expect(live.filter(Boolean)).toHaveLength(5);
    });

    it("concurrent metadata merges through two connections all survive", async () => {
      const prefix = uniquePrefix();
      const first = await open({}, prefix);
      const second = await open({}, prefix);
      const id = await first.create(alice);
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? first : second).update(id, { [`k${i}`]: i })),
      );
      expect(Object.keys((await second.get(id))!.metadata)).toHaveLength(50);
    });
  });

  describe("configuration errors are typed", () => {
    it.each([
      [{ backend: "redis", url: "http://127.0.0.1:6379" }],
      [{ backend: "redis", url: "not a url" }],
      [{ backend: "redis", url: REDIS_URL, keyPrefix: "bad{prefix}" }],
      [{ backend: "redis", url: REDIS_URL, keyPrefix: "with space" }],
      [{ backend: "redis", url: REDIS_URL, commandTimeoutMs: 0 }],
      [{ backend: "redis", url: REDIS_URL, commandTimeoutMs: Number.NaN }],
    ])("%o", async (config) => {
      expect(await codeOf(createSessionStore(config as never))).toBe("SESSION_INVALID_INPUT");
    });
  });
});
