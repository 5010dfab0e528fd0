import { randomBytes } from "node:crypto";
import { REDIS_URL, rawRedisClient, redisKeyspace } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import type { InitializeRequest } from "@modelcontextprotocol/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFailureOf } from "../src/http-errors.ts";
import { type BusMessage, McpSessionBus } from "../src/mcp-session-bus.ts";
import { McpSessionDirectory, mcpSessionKeys } from "../src/mcp-session-directory.ts";
import { McpSessionSubscriptions } from "../src/mcp-session-subscriptions.ts";

const redisUp = await requireService({ name: "Redis", url: REDIS_URL });
const ALICE = "user:alice";
const SUBSCRIBER = { userId: ALICE, roles: ["user"] };
const INITIALIZE = {
  protocolVersion: "2025-11-25",
  capabilities: {},
  clientInfo: { name: "test", version: "1" },
} as InitializeRequest["params"];
const signal = () => AbortSignal.timeout(2_000);
const newSessionId = () => randomBytes(32).toString("base64url");

type RawClient = Awaited<ReturnType<typeof rawRedisClient>>;

describe.skipIf(!redisUp)("McpSessionSubscriptions: a session's subscriptions in Redis", () => {
  const keyspace = redisKeyspace("mcp-subscriptions");
  let client: RawClient;
  let subscriber: RawClient;

  beforeAll(async () => {
    client = await rawRedisClient();
    subscriber = await rawRedisClient();
  });

  afterAll(async () => {
    await keyspace.cleanup();
    client?.destroy();
    subscriber?.destroy();
  });

  /** A directory, bus and subscription store on one fresh key prefix, as one instance has them. */
  const shared = (maxSessionsPerUser = 3) => {
    const keyPrefix = keyspace.uniquePrefix();
    const directory = new McpSessionDirectory({
      client,
      keyPrefix,
      idleMs: 60_000,
      maxSessionsPerUser,
      timeoutMs: 2_000,
    });
    const bus = new McpSessionBus({
      client,
      subscriber: {
        subscribe: (channel, listener) => subscriber.subscribe(channel, listener),
        unsubscribe: (channel) => subscriber.unsubscribe(channel),
      },
      keyPrefix,
      ttlMs: 60_000,
      maxEvents: 10,
      maxBytes: 10_000,
      timeoutMs: 2_000,
    });
    const subscriptions = new McpSessionSubscriptions({
      client,
      keyPrefix,
      claimTtlMs: 60_000,
      timeoutMs: 2_000,
    });
    const open = async () => {
      const sessionId = newSessionId();
      const evicted = await directory.create(sessionId, { ownerId: ALICE, initialize: INITIALIZE }, signal());
      return {
        sessionId,
        evicted,
        store: subscriptions.forSession(sessionId, ALICE, bus.channel(sessionId)),
        key: mcpSessionKeys(keyPrefix, ALICE).subscriptions(sessionId),
      };
    };
    return { directory, bus, subscriptions, open, keyPrefix };
  };

  it("adds within the bound atomically (concurrent adds from several copies included), and refuses a session that has ended", async () => {
    const { open, subscriptions, bus } = shared();
    const { sessionId, store } = await open();
    // Another copy of the same session on another instance.
    const elsewhere = subscriptions.forSession(sessionId, ALICE, bus.channel(sessionId));
    const outcomes = await Promise.all(
      ["a", "b", "c", "d", "e"].map((id, n) =>
        (n % 2 ? elsewhere : store).add(`conversation://${id}`, SUBSCRIBER, 2, signal()),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === "added")).toHaveLength(2);
    expect(outcomes.filter((outcome) => outcome === "full")).toHaveLength(3);
    const held = [...(await elsewhere.list(signal())).keys()];
    expect(held).toHaveLength(2);
    expect(await store.add(held[0] as string, SUBSCRIBER, 2, signal())).toBe("present");
    expect((await store.list(signal())).get(held[0] as string)).toEqual(SUBSCRIBER);

    const ended = subscriptions.forSession(newSessionId(), ALICE, bus.channel(sessionId));
    await expect(ended.add("conversation://a", SUBSCRIBER, 2, signal())).rejects.toThrow(/session has ended/);
    expect((await ended.list(signal())).size).toBe(0);
  });

  it("tells every copy of the session on its channel when the set changes, and lets each resync", async () => {
    const { open, bus } = shared();
    const { sessionId, store } = await open();
    const heard: BusMessage[] = [];
    const stop = await bus.listen(sessionId, (message) => heard.push(message));
    let resyncs = 0;
    const unwatch = store.watch(async () => {
      resyncs += 1;
    });
    try {
      await store.add("conversation://a", SUBSCRIBER, 5, signal());
      await store.add("conversation://a", SUBSCRIBER, 5, signal()); // present: nothing changed
      await store.remove("conversation://a", signal());
      await store.remove("conversation://a", signal()); // gone already: nothing changed
      await bus.publish(sessionId, { t: "x" }, signal()); // marks the end of what the calls above sent
      await expect.poll(() => heard.at(-1)).toEqual({ t: "x" });
      expect(heard).toEqual([{ t: "s" }, { t: "s" }, { t: "x" }]);
      await store.resync(signal());
      expect(resyncs).toBe(1);
      unwatch();
      await store.resync(signal());
      expect(resyncs).toBe(1);
    } finally {
      stop();
    }
  });

  it("lets one copy claim each change of a subscription, and none once it is unsubscribed", async () => {
    const { open, subscriptions, bus } = shared();
    const { sessionId, store } = await open();
    const elsewhere = subscriptions.forSession(sessionId, ALICE, bus.channel(sessionId));
    await store.add("conversation://a", SUBSCRIBER, 5, signal());
    const claims = await Promise.all([
      store.claim("conversation://a", "change-1", signal()),
      elsewhere.claim("conversation://a", "change-1", signal()),
      elsewhere.claim("conversation://a", "change-1", signal()),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await elsewhere.claim("conversation://a", "change-2", signal())).toBe(true);
    expect(await store.claim("conversation://b", "change-3", signal())).toBe(false);
    await elsewhere.remove("conversation://a", signal());
    expect(await store.claim("conversation://a", "change-4", signal())).toBe(false);
  });

  it("lives as long as the session: expires with its record, slid by each request, deleted with it (DELETE, eviction, erasure)", async () => {
    const { open, directory } = shared(2);
    const first = await open();
    await first.store.add("conversation://a", SUBSCRIBER, 5, signal());
    // The record's remaining time (the idle expiry, 60 s here), not a TTL of its own.
    expect(await client.pTTL(first.key)).toBeGreaterThan(0);
    expect(await client.pTTL(first.key)).toBeLessThanOrEqual(60_000);
    await client.pExpire(first.key, 5_000);
    await directory.touch(first.sessionId, ALICE, signal());
    expect(await client.pTTL(first.key)).toBeGreaterThan(5_000);

    await directory.remove(first.sessionId, ALICE, signal());
    expect(await client.exists(first.key)).toBe(0);

    // The user's cap is 2: opening a third evicts the least recently used, subscriptions and all.
    const second = await open();
    await second.store.add("conversation://a", SUBSCRIBER, 5, signal());
    const third = await open();
    await third.store.add("conversation://a", SUBSCRIBER, 5, signal());
    const { evicted } = await open();
    expect(evicted).toHaveLength(1);
    for (const session of [second, third]) {
      expect(await client.exists(session.key)).toBe(evicted.includes(session.sessionId) ? 0 : 1);
    }

    await directory.removeUser(ALICE, signal());
    for (const session of [second, third]) expect(await client.exists(session.key)).toBe(0);
  });

  it("answers SESSION_UNAVAILABLE (503 with Retry-After) when Redis is down, naming no Redis internals", async () => {
    const down = {
      sendCommand: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379")),
    };
    const store = new McpSessionSubscriptions({
      client: down,
      keyPrefix: "t:",
      claimTtlMs: 1_000,
      timeoutMs: 200,
    }).forSession(newSessionId(), ALICE, "t:channel");
    for (const attempt of [
      store.add("conversation://a", SUBSCRIBER, 5, signal()),
      store.remove("conversation://a", signal()),
      store.list(signal()),
      store.claim("conversation://a", "change-1", signal()),
    ]) {
      const error = await attempt.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ code: "SESSION_UNAVAILABLE" });
      expect(String((error as Error).message)).not.toContain("ECONNREFUSED");
      expect(httpFailureOf(error)).toMatchObject({ status: 503 });
    }
  });
});
