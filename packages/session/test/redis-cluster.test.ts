import { OwnRedisCluster, requireRedisBinaries } from "@mcp-langgraph/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionStore, type SessionStore, type SessionStoreOptions } from "../src/index.ts";
import { runSessionStoreContract } from "./contract.ts";

// A real three-primary Redis Cluster that this suite spawns: a script touching keys of two
// slots would fail here with CROSSSLOT or a redirection, so the contract passing proves the
// key layout keeps each operation in one slot.
let cluster: OwnRedisCluster;
let prefixCounter = 0;
const binariesAvailable = requireRedisBinaries();

function openClusterStore(options?: SessionStoreOptions, keyPrefix = `cluster:${++prefixCounter}:`) {
  return createSessionStore({ backend: "redis", url: cluster.seedUrl, cluster: true, keyPrefix }, options);
}

describe.skipIf(!binariesAvailable)("redis cluster store", () => {
  beforeAll(async () => {
    cluster = await OwnRedisCluster.start();
  }, 30_000);

  afterAll(async () => {
    await cluster?.dispose();
  });

  runSessionStoreContract("redis cluster", (options) => openClusterStore(options));

  let store: SessionStore;
  beforeAll(async () => {
    store = await openClusterStore({ maxConcurrentSessions: 3 }, "cluster:layout:");
  });
  afterAll(async () => {
    await store?.close();
  });

  it("puts all of one user's keys in one slot and spreads users across the primaries", async () => {
    const users = Array.from({ length: 24 }, (_, i) => `user-${i}`);
    for (const userId of users) {
      await Promise.all([1, 2].map(() => store.create({ userId, username: userId, roles: [] })));
    }
    const slotsByUser = new Map<string, Set<number>>();
    for (const userId of users) {
      const sessions = await store.listUserSessions(userId);
      expect(sessions).toHaveLength(2);
      const slots = new Set<number>();
      for (const { sessionId } of sessions) {
        const [tag, token] = sessionId.split(".");
        slots.add(await cluster.keySlot(`cluster:layout:{${tag}}:s:${token}`));
        slots.add(await cluster.keySlot(`cluster:layout:{${tag}}:u`));
      }
      expect(slots.size).toBe(1);
      slotsByUser.set(userId, slots);
    }
    const allSlots = [...slotsByUser.values()].map((slots) => [...slots][0]!);
    // Three primaries own 0-5460, 5461-10922 and 10923-16383.
    const primariesUsed = new Set(allSlots.map((slot) => Math.min(2, Math.floor(slot / 5461))));
    expect(primariesUsed.size).toBe(3);
  });

  it("deleteInactiveSessions scans every primary", async () => {
    const cutoff = new Date(Date.now() + 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await store.deleteInactiveSessions(cutoff)).toBe(48);
    expect(await store.listUserSessions("user-0")).toEqual([]);
  });

  it("getAndRun runs a caller's script on its own keys of the user's slot, for users on every primary", async () => {
    const script = { lua: "return redis.call('INCR', KEYS[1])" };
    for (const n of Array.from({ length: 12 }, (_, i) => i)) {
      const userId = `runner-${n}`;
      const id = await store.create({ userId, username: userId, roles: [] });
      const key = `cluster:app:{${id.split(".")[0]}}:counter`;
      const answer = await store.getAndRun!(id, { script, userId, keys: [key], args: [] });
      expect(answer).toMatchObject({ ran: true, result: 1, session: { userId } });
    }
  });

  it("ping reaches every primary", async () => {
    expect(await store.ping()).toBe(true);
  });
});
