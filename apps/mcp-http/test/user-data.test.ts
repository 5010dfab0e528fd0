import type { Principal } from "@mcp-langgraph/auth-provider";
import { noopLogger } from "@mcp-langgraph/core";
import {
  conversationKey,
  createMcpServices,
  createMemoryTaskStore,
  type RunningMcpServices,
} from "@mcp-langgraph/mcp-server";
import { createSessionStore, type SessionStore } from "@mcp-langgraph/session";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUserData } from "../src/user-data.ts";

// Shares are written as tuples (no tool creates them), so this drives the service directly over the
// real embedded authorizer, agent and session store the app uses.

const principal = (name: string): Principal => ({
  userId: `user:${name}`,
  username: name,
  roles: ["user"],
  scopes: [],
  expiresAt: new Date(Date.now() + 3_600_000),
  claims: {},
});

let services: RunningMcpServices;
let sessions: SessionStore;
const tasks = createMemoryTaskStore();

beforeAll(async () => {
  services = await createMcpServices({
    authorizer: { backend: "embedded" },
    model: { provider: "offline" },
    checkpointer: { backend: "memory" },
  });
  sessions = await createSessionStore({ backend: "memory" }, { ttlSeconds: 3600 });
});
afterAll(async () => {
  await Promise.allSettled([services?.close(), sessions?.close(), tasks.close()]);
});

/** The service over this file's backends, with no API keys and no MCP sessions to close. */
const userDataOver = ({ agent, authorizer }: RunningMcpServices) =>
  createUserData({
    sessions,
    apiKeys: undefined,
    agent,
    authorizer,
    closeMcpSessions: async () => 0,
    tasks,
    timeoutMs: 5_000,
    logger: noopLogger,
  });

describe("createUserData erase", () => {
  it("removes shares on the user's conversations and the user's shares on others', and nothing else", async () => {
    const { agent, authorizer } = services;
    const aliceKey = conversationKey("user:alice", "shared-out");
    const bobKey = conversationKey("user:bob", "shared-in");
    for (const [owner, key] of [
      ["alice", aliceKey],
      ["bob", bobKey],
    ] as const) {
      await agent.chat({ threadId: key, message: `hello from ${owner}` });
      await authorizer.writeTuples([
        { user: `user:${owner}`, relation: "owner", object: `conversation:${key}` },
      ]);
    }
    // Alice shared hers with bob; bob shared his with alice.
    await authorizer.writeTuples([
      { user: "user:bob", relation: "viewer", object: `conversation:${aliceKey}` },
      { user: "user:alice", relation: "viewer", object: `conversation:${bobKey}` },
    ]);
    await sessions.create({ userId: "user:bob", username: "bob", roles: ["user"] });

    const userData = userDataOver(services);
    const before = await userData.export(principal("alice"), AbortSignal.timeout(5_000));
    expect(before.conversationKeys).toEqual([aliceKey]);
    expect(before.head.authorization_tuples).toHaveLength(2);

    const counts = await userData.erase(principal("alice"), AbortSignal.timeout(5_000));
    expect(counts).toMatchObject({ conversations: 1, tuples: 3 });

    expect(await agent.getConversation(aliceKey)).toBeNull();
    expect(await authorizer.readTuples({ object: `conversation:${aliceKey}` })).toEqual([]);
    // Bob keeps his conversation, its owner tuple and his session; only alice's view of it is gone.
    expect(await agent.getConversation(bobKey)).toHaveLength(2);
    expect(await authorizer.readTuples({ object: `conversation:${bobKey}` })).toEqual([
      { user: "user:bob", relation: "owner", object: `conversation:${bobKey}` },
    ]);
    expect(await sessions.listUserSessions("user:bob")).toHaveLength(1);

    const after = await userData.export(principal("alice"), AbortSignal.timeout(5_000));
    expect(after.conversationKeys).toEqual([]);
    expect(after.head.authorization_tuples).toEqual([]);
  });

  it("stops at an aborted signal before deleting anything", async () => {
    const { agent, authorizer } = services;
    const key = conversationKey("user:carol", "kept");
    await agent.chat({ threadId: key, message: "hello from carol" });
    await authorizer.writeTuples([{ user: "user:carol", relation: "owner", object: `conversation:${key}` }]);
    const userData = userDataOver(services);
    await expect(userData.erase(principal("carol"), AbortSignal.abort())).rejects.toThrow();
    expect(await agent.getConversation(key)).toHaveLength(2);
    expect(await authorizer.readTuples({ object: `conversation:${key}` })).toHaveLength(1);
  });

  it("deletes the user's MCP tasks (results included) and counts them; other users' stay", async () => {
    const signal = () => AbortSignal.timeout(5_000);
    const mine = await tasks.create("user:dave", undefined, signal());
    await tasks.finish("user:dave", mine.taskId, { status: "completed", result: { content: [] } }, signal());
    const theirs = await tasks.create("user:erin", undefined, signal());
    const counts = await userDataOver(services).erase(principal("dave"), signal());
    expect(counts.tasks).toBe(1);
    expect(await tasks.get("user:dave", mine.taskId, signal())).toBeUndefined();
    expect(await tasks.result("user:dave", mine.taskId, signal())).toBeUndefined();
    expect(await tasks.get("user:erin", theirs.taskId, signal())).toEqual(theirs);
  });
});
