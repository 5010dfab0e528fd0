import { randomBytes, randomUUID } from "node:crypto";
import { MemorySaver } from "@langchain/langgraph";
import { isSessionError, RedisLocks } from "@mcp-langgraph/session";
import { REDIS_URL, rawRedisClient, redisKeyspace } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { fenceCheckpointer } from "../src/fenced-checkpointer.ts";
import { type ClosableCheckpointer, createAgent, createCheckpointer } from "../src/index.ts";
import { GatedModel } from "./gated-model.ts";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const [redisAvailable, postgresAvailable] = await Promise.all([
  requireService({ name: "redis", url: REDIS_URL }),
  requireService({ name: "Postgres", url: DATABASE_URL }),
]);
const keyspace = redisKeyspace("agent-locks");
const schema = `agent_locks_${randomBytes(6).toString("hex")}`;
const opened: ClosableCheckpointer[] = [];
const clients: Awaited<ReturnType<typeof rawRedisClient>>[] = [];

afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all(opened.map((saver) => saver.close()));
  if (postgresAvailable) {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
  if (redisAvailable) await keyspace.cleanup();
});

/** One "instance": its own Redis connection, Postgres pool and agent, over the shared backends. */
async function instance(model: GatedModel, keyPrefix: string) {
  const client = await rawRedisClient();
  clients.push(client);
  const saver = await createCheckpointer({
    backend: "postgres",
    connectionString: DATABASE_URL,
    schema,
    poolSize: 2,
  });
  opened.push(saver);
  const threadLocks = new RedisLocks({ client, keyPrefix, retryMs: 5 });
  return createAgent({ model, checkpointer: saver, threadLocks, conversationCache: false });
}

describe.skipIf(!redisAvailable || !postgresAvailable)("turns on one thread across instances", () => {
  it("two agents sharing Redis and Postgres racing on one thread run one after the other, both turns intact", async () => {
    // The first model call waits until a second is in flight (or 500 ms pass): with a working lock
    // the second never starts meanwhile, so the peak stays at one.
    const model = new GatedModel(2, 500);
    const keyPrefix = keyspace.uniquePrefix();
    const [a, b] = await Promise.all([instance(model, keyPrefix), instance(model, keyPrefix)]);
    const threadId = `thread-${randomUUID()}`;
    const replies = await Promise.all([
      a.chat({ threadId, message: "first question" }),
      b.chat({ threadId, message: "second question" }),
    ]);
    expect(model.peakInFlight).toBe(1);
    expect(replies.map((reply) => reply.reply)).toEqual(["done", "done"]);
    const conversation = await a.getConversation(threadId);
    expect(conversation?.map((message) => message.role)).toEqual(["user", "assistant", "user", "assistant"]);
    const questions = conversation?.filter((message) => message.role === "user").map((m) => m.content);
    expect(questions?.sort()).toEqual(["first question", "second question"]);
    expect(await b.getConversation(threadId)).toEqual(conversation);
  }, 30_000);
});

describe("fencing", () => {
  it("refuses checkpoint writes for a thread whose lock was lost, and writes nothing", async () => {
    const saver = new MemorySaver();
    const lost = new AbortController();
    const fenced = fenceCheckpointer(saver, (threadId) => (threadId === "t1" ? lost.signal : undefined));
    const checkpoint = {
      v: 4,
      id: randomUUID(),
      ts: new Date().toISOString(),
      channel_values: {},
      channel_versions: {},
      versions_seen: {},
    };
    const config = { configurable: { thread_id: "t1", checkpoint_ns: "" } };
    await fenced.put(config, checkpoint, { source: "input", step: -1, parents: {} }, {});
    expect(await saver.getTuple(config)).toBeDefined();

    lost.abort(new Error("lock lost"));
    const later = { ...checkpoint, id: randomUUID() };
    await expect(fenced.put(config, later, { source: "loop", step: 0, parents: {} }, {})).rejects.toThrow(
      "lock lost",
    );
    await expect(fenced.putWrites(config, [["messages", []]], "task")).rejects.toThrow("lock lost");
    expect((await saver.getTuple(config))?.checkpoint.id).toBe(checkpoint.id);
    // Another thread's writes are not fenced by this lock.
    const other = { configurable: { thread_id: "t2", checkpoint_ns: "" } };
    await fenced.put(other, later, { source: "input", step: -1, parents: {} }, {});
    expect((await fenced.getTuple(other))?.checkpoint.id).toBe(later.id);
  });

  it.skipIf(!redisAvailable)(
    "a turn whose Redis lock is taken over mid-way fails with SESSION_LOCK_LOST",
    async () => {
      const client = await rawRedisClient();
      clients.push(client);
      const keyPrefix = keyspace.uniquePrefix();
      // A short TTL, so the renewal that finds the lock gone comes within the model's wait.
      const threadLocks = new RedisLocks({ client, keyPrefix, ttlMs: 300, retryMs: 5 });
      const model = new GatedModel(2, 2_000);
      const agent = createAgent({ model, threadLocks });
      const threadId = `thread-${randomUUID()}`;
      const turn = agent.chat({ threadId, message: "hello" });
      await expect.poll(() => model.peakInFlight, { timeout: 5_000 }).toBe(1);
      // Another holder takes the key over (as after an expiry): the renewal must notice.
      await client.set(`${keyPrefix}${threadId}`, "someone-else");
      const failure = await turn.catch((error: unknown) => error);
      expect(isSessionError(failure) && failure.code).toBe("SESSION_LOCK_LOST");
      expect(await client.get(`${keyPrefix}${threadId}`)).toBe("someone-else");
    },
    15_000,
  );
});
