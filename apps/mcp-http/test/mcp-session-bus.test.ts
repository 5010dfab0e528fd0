import { REDIS_URL, rawRedisClient, redisKeyspace } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BusMessage, END_OF_STREAM, McpSessionBus } from "../src/mcp-session-bus.ts";

const redisUp = await requireService({ name: "Redis", url: REDIS_URL });
const SESSION = "s".repeat(43);
const STREAM = "AAAAAAAAAAAA.1";

type RawClient = Awaited<ReturnType<typeof rawRedisClient>>;

describe.skipIf(!redisUp)("McpSessionBus: SSE events and session messages in Redis", () => {
  const keyspace = redisKeyspace("mcp-session-bus");
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

  const bus = (limits: Partial<{ maxEvents: number; maxBytes: number; ttlMs: number }> = {}) => {
    const keyPrefix = keyspace.uniquePrefix();
    const appendErrors: unknown[] = [];
    const instance = new McpSessionBus({
      client,
      subscriber: {
        subscribe: (channel, listener) => subscriber.subscribe(channel, listener),
        unsubscribe: (channel) => subscriber.unsubscribe(channel),
      },
      keyPrefix,
      ttlMs: limits.ttlMs ?? 60_000,
      maxEvents: limits.maxEvents ?? 100,
      maxBytes: limits.maxBytes ?? 1_000_000,
      timeoutMs: 2_000,
      onAppendError: (error) => appendErrors.push(error),
    });
    return { instance, keyPrefix, appendErrors };
  };
  const signal = () => AbortSignal.timeout(2_000);

  it("keeps a stream's newest entries within MAX_EVENTS and MAX_BYTES, with the TTL, in one batch per stream", async () => {
    const { instance, keyPrefix, appendErrors } = bus({ maxEvents: 3, maxBytes: 40, ttlMs: 30_000 });
    for (let n = 1; n <= 5; n++) instance.append(SESSION, STREAM, `${STREAM}:${n}\nabcdef`); // 23 bytes each
    await instance.flush();
    // Five of 23 bytes: the count allows three, the bytes one.
    expect(await instance.read(SESSION, STREAM, signal())).toEqual([`${STREAM}:5\nabcdef`]);
    // An entry larger than the whole byte bound is not kept, and pushes nothing else out.
    instance.append(SESSION, STREAM, `${STREAM}:6\n${"x".repeat(60)}`);
    await instance.flush();
    expect(await instance.read(SESSION, STREAM, signal())).toEqual([`${STREAM}:5\nabcdef`]);
    const key = `${keyPrefix}mcp-stream:{${SESSION}}:${STREAM}`;
    const ttl = await client.pTTL(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
    expect(Number(await client.get(`${key}:bytes`))).toBe(23);
    expect(appendErrors).toEqual([]);
    // A stream never stored reads empty and leaves no key (a made-up Last-Event-ID creates nothing).
    const unknown = "BBBBBBBBBBBB.1";
    expect(await instance.read(SESSION, unknown, signal())).toEqual([]);
    expect(await client.keys(`${keyPrefix}mcp-stream:{${SESSION}}:${unknown}*`)).toEqual([]);
  });

  it("publishes the entries appended after a reader read the stream, and only then", async () => {
    const { instance } = bus();
    const heard: BusMessage[] = [];
    const stop = await instance.listen(SESSION, (message) => heard.push(message));
    instance.append(SESSION, STREAM, `${STREAM}:1\n`);
    await instance.flush();
    expect(await instance.read(SESSION, STREAM, signal())).toEqual([`${STREAM}:1\n`]);
    instance.append(SESSION, STREAM, `${STREAM}:2\n{"a":1}`);
    instance.append(SESSION, STREAM, END_OF_STREAM);
    await instance.flush();
    await expect
      .poll(() => heard)
      .toEqual([{ t: "e", s: STREAM, e: [`${STREAM}:2\n{"a":1}`, END_OF_STREAM] }]);
    stop();
  });

  it("keeps standalone notifications for the next holder while none holds the stream, publishes them to a holder", async () => {
    const { instance } = bus({ maxEvents: 2 });
    const heard: BusMessage[] = [];
    const stop = await instance.listen(SESSION, (message) => heard.push(message));
    for (const i of ["a", "b", "c"]) await instance.notify(SESSION, { t: "n", d: "{}", i }, signal());
    expect(heard).toEqual([]);
    // Bounded like a stream: the oldest went.
    expect(await instance.hold(SESSION, "holder-1", signal())).toEqual([
      { t: "n", d: "{}", i: "b" },
      { t: "n", d: "{}", i: "c" },
    ]);
    await instance.notify(SESSION, { t: "n", d: "{}", i: "d" }, signal());
    await expect.poll(() => heard).toEqual([{ t: "n", d: "{}", i: "d" }]);
    // Another holder took over: the first one's release leaves it in place.
    expect(await instance.hold(SESSION, "holder-2", signal())).toEqual([]);
    await instance.release(SESSION, "holder-1", signal());
    await instance.notify(SESSION, { t: "n", d: "{}", i: "e" }, signal());
    await expect.poll(() => heard.length).toBe(2);
    await instance.release(SESSION, "holder-2", signal());
    await instance.notify(SESSION, { t: "n", d: "{}", i: "f" }, signal());
    expect(await instance.hold(SESSION, "holder-3", signal())).toEqual([{ t: "n", d: "{}", i: "f" }]);
    stop();
  });

  it("fails with SESSION_UNAVAILABLE when Redis does not answer, and a failed append is reported, not thrown", async () => {
    const down = { sendCommand: () => Promise.reject(new Error("connection refused")) };
    const appendErrors: unknown[] = [];
    const instance = new McpSessionBus({
      client: down,
      subscriber: { subscribe: async () => {}, unsubscribe: async () => {} },
      keyPrefix: keyspace.uniquePrefix(),
      ttlMs: 1_000,
      maxEvents: 10,
      maxBytes: 1_000,
      timeoutMs: 500,
      onAppendError: (error) => appendErrors.push(error),
    });
    await expect(instance.read(SESSION, STREAM, signal())).rejects.toMatchObject({
      code: "SESSION_UNAVAILABLE",
    });
    await expect(instance.publish(SESSION, { t: "x" }, signal())).rejects.toMatchObject({
      code: "SESSION_UNAVAILABLE",
    });
    const never = { sendCommand: () => new Promise<never>(() => {}) };
    const slow = new McpSessionBus({
      client: never,
      subscriber: { subscribe: async () => {}, unsubscribe: async () => {} },
      keyPrefix: "x:",
      ttlMs: 1_000,
      maxEvents: 10,
      maxBytes: 1_000,
      timeoutMs: 50,
    });
    await expect(slow.notify(SESSION, { t: "x" }, signal())).rejects.toMatchObject({
      code: "SESSION_UNAVAILABLE",
    });
    instance.append(SESSION, STREAM, `${STREAM}:1\n`);
    await instance.flush();
    expect(appendErrors).toHaveLength(1);
  });
});
