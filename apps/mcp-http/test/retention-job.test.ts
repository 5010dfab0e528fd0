import { noopLogger } from "@mcp-langgraph/core";
import { conversationKey, createMcpServices, type RunningMcpServices } from "@mcp-langgraph/mcp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conversationRetention } from "../src/retention.ts";

// The job over the real embedded authorizer and in-memory agent (SESSION_BACKEND=memory runs it in
// process); the clock is injected, so "31 days later" needs no waiting.

const DAY = 86_400_000;
let services: RunningMcpServices;

beforeAll(async () => {
  services = await createMcpServices({
    authorizer: { backend: "embedded" },
    model: { provider: "offline" },
    checkpointer: { backend: "memory" },
  });
});
afterAll(async () => {
  await services?.close();
});

async function conversation(owner: string, threadId: string, sharedWith?: string) {
  const key = conversationKey(`user:${owner}`, threadId);
  await services.agent.chat({ threadId: key, message: `hello from ${owner}` });
  await services.authorizer.writeTuples([
    { user: `user:${owner}`, relation: "owner", object: `conversation:${key}` },
    ...(sharedWith
      ? [{ user: `user:${sharedWith}`, relation: "viewer", object: `conversation:${key}` }]
      : []),
  ]);
  return key;
}

const retentionAt = (now: number, overrides: Partial<Parameters<typeof conversationRetention>[0]> = {}) =>
  conversationRetention({
    agent: services.agent,
    authorizer: services.authorizer,
    days: 30,
    batchSize: 2,
    stepTimeoutMs: 5_000,
    logger: noopLogger,
    now: () => now,
    ...overrides,
  });

describe("conversation retention job", () => {
  it("deletes conversations idle past the limit in batches, with every tuple on them, and nothing else", async () => {
    const { agent, authorizer } = services;
    const doomed = [
      await conversation("alice", "old-1", "bob"),
      await conversation("alice", "old-2"),
      await conversation("bob", "old-3"),
    ];
    // 31 days later: three conversations, two pages of two.
    const run = retentionAt(Date.now() + 31 * DAY);
    const counts = await run(AbortSignal.timeout(10_000));
    expect(counts).toEqual({ conversations_deleted: 3, tuples_deleted: 4, kept: 0, failed: 0 });
    for (const key of doomed) {
      expect(await agent.getConversation(key)).toBeNull();
      expect(await authorizer.readTuples({ object: `conversation:${key}` })).toEqual([]);
    }

    // Nothing is older than the limit today.
    const fresh = await conversation("dave", "today");
    expect(await retentionAt(Date.now())(AbortSignal.timeout(10_000))).toMatchObject({
      conversations_deleted: 0,
    });
    expect(await agent.getConversation(fresh)).toHaveLength(2);
  });

  it("skips a conversation that fails, goes on with the next and counts it", async () => {
    const { agent } = services;
    const failing = await conversation("erin", "a-failing");
    const next = await conversation("erin", "b-next");
    const counts = await retentionAt(Date.now() + 31 * DAY, {
      batchSize: 1,
      authorizer: {
        readTuples: (filter, opts) => services.authorizer.readTuples(filter, opts),
        deleteTuples: async (tuples, opts) => {
          if (tuples.some((tuple) => tuple.object === `conversation:${failing}`)) {
            throw new Error("authorizer down");
          }
          return services.authorizer.deleteTuples(tuples, opts);
        },
      },
    })(AbortSignal.timeout(10_000));
    expect(counts.failed).toBe(1);
    expect(counts.conversations_deleted).toBeGreaterThanOrEqual(1);
    expect(await agent.getConversation(next)).toBeNull();
  });

  it("stops at an aborted signal before deleting anything", async () => {
    const key = await conversation("frank", "kept");
    const controller = new AbortController();
    controller.abort();
    await expect(retentionAt(Date.now() + 31 * DAY)(controller.signal)).rejects.toBeDefined();
    expect(await services.agent.getConversation(key)).toHaveLength(2);
  });
});
