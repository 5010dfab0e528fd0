import { randomUUID } from "node:crypto";
import { type HeldModel, startHeldModel } from "@mcp-langgraph/testkit/llm-loopback";
import { taskClient } from "@mcp-langgraph/testkit/mcp";
import { REDIS_URL } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { type Client, specTypeSchemas } from "@modelcontextprotocol/client";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, login, sharedRedisEnv, startTestServer, textOf } from "./helpers.ts";

const redisUp = await requireService({ name: "Redis", url: REDIS_URL });

/** The JSON-RPC error a request ended with (code, message, data), or a failure if it succeeded. */
async function rpcError(
  promise: Promise<unknown>,
): Promise<{ code: number; message: string; data?: unknown }> {
  const error = await promise.then(
    (value) => {
      throw new Error(`expected an error, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e as { code: number; message: string; data?: unknown },
  );
  expect(typeof error.code).toBe("number");
  return error;
}

let held: HeldModel;
const clients: Client[] = [];
const connectAs = async (app: RunningHttpServer, user: "alice" | "bob") => {
  const { client } = await connect(app.url, await login(app.url, user, `${user}-pw`));
  clients.push(client);
  return { client, tasks: taskClient(client) };
};
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

describe("MCP tasks over Streamable HTTP (one instance, memory store)", () => {
  let app: RunningHttpServer;
  beforeAll(async () => {
    held = await startHeldModel();
    app = await startTestServer({ ...held.env, MCP_TASK_MAX_PER_USER: "3", MCP_TASK_LIST_PAGE_SIZE: "2" });
  });
  afterAll(async () => {
    held.release();
    await app?.close();
    await held?.llm.close();
  });

  it("advertises tasks, and agent_chat as a tool that may run as one", async () => {
    const { client } = await connectAs(app, "alice");
    expect(client.getServerCapabilities()?.tasks).toEqual({
      list: {},
      cancel: {},
      requests: { tools: { call: {} } },
    });
    const { tools } = await client.listTools();
    expect(tools.find((tool) => tool.name === "agent_chat")?.execution).toEqual({ taskSupport: "optional" });
    expect(tools.find((tool) => tool.name === "conversation_get")?.execution).toBeUndefined();
  });

  it("round trip: the call returns a working task at once; tasks/result waits for the reply", async () => {
    const { client, tasks } = await connectAs(app, "alice");
    const statuses: string[] = [];
    client.setNotificationHandler(
      "notifications/tasks/status",
      { params: specTypeSchemas.TaskStatusNotificationParams },
      (params) => {
        statuses.push(params.status);
      },
    );
    const before = held.llm.requests.length;
    // The model holds its reply: the task is answered while the turn is provably still running.
    const { task } = await tasks.callToolAsTask("agent_chat", { message: "hello" }, 60_000);
    expect(task).toMatchObject({ status: "working", ttl: 60_000 });
    expect(await tasks.get(task.taskId)).toMatchObject({ taskId: task.taskId, status: "working" });
    const result = tasks.result(task.taskId);
    await vi.waitFor(() => expect(held.llm.requests.length).toBe(before + 1));
    held.release();
    const reply = await result;
    expect(reply.isError).toBeFalsy();
    expect(textOf(reply)).toBe(held.reply);
    expect(reply.structuredContent).toMatchObject({ reply: held.reply, created: true });
    expect(reply._meta?.["io.modelcontextprotocol/related-task"]).toEqual({ taskId: task.taskId });
    expect(await tasks.get(task.taskId)).toMatchObject({ status: "completed" });
    // A finished task's result can be read again until the task expires.
    expect(textOf(await tasks.result(task.taskId))).toBe(held.reply);
    await vi.waitFor(() => expect(statuses).toContain("completed"));
  });
});

describe("MCP tasks and RATE_LIMIT_TOOL_CALLS_PER_MINUTE", () => {
  let app: RunningHttpServer;
  let model: HeldModel;
  beforeAll(async () => {
    model = await startHeldModel();
    app = await startTestServer({ ...model.env, RATE_LIMIT_TOOL_CALLS_PER_MINUTE: "2" });
  });
  afterAll(async () => {
    model.release();
    await app?.close();
    await model?.llm.close();
  });

  it("counts a task's call once, when it is created; a task call over the limit is refused and creates nothing", async () => {
    const { client, tasks } = await connectAs(app, "alice");
    const before = model.llm.requests.length;
    const { task } = await tasks.callToolAsTask("agent_chat", { message: "counted once" }, 60_000);
    // The run has started (the model holds the reply), so it would have been counted by now.
    await vi.waitFor(() => expect(model.llm.requests.length).toBe(before + 1));
    // The second call of the minute is still allowed: the run did not count the task's call again.
    const search = await client.callTool({ name: "conversation_search", arguments: { query: "x" } });
    expect(search.isError).toBeFalsy();
    const refused = await rpcError(tasks.callToolAsTask("agent_chat", { message: "third" }));
    expect(refused.code).toBe(-32600);
    expect(refused.data).toMatchObject({ code: "RATE_LIMITED" });
    expect(refused.message).toMatch(/too many tool calls/i);
    model.release();
    const reply = await tasks.result(task.taskId);
    expect(reply.isError).toBeFalsy();
    expect(textOf(reply)).toBe(model.reply);
    // Only the first task exists.
    expect((await tasks.list()).tasks.map((each) => each.taskId)).toEqual([task.taskId]);
  });
});

describe("MCP tasks: list, cancel, other users, limits, expiry", () => {
  let app: RunningHttpServer;
  let model: HeldModel;
  beforeAll(async () => {
    model = await startHeldModel();
    app = await startTestServer({ ...model.env, MCP_TASK_MAX_PER_USER: "3", MCP_TASK_LIST_PAGE_SIZE: "2" });
  });
  afterAll(async () => {
    model.release();
    await app?.close();
    await model?.llm.close();
  });

  it("cancel aborts the run: the model request is dropped, the task is cancelled, its result says so", async () => {
    const { tasks } = await connectAs(app, "alice");
    const { task } = await tasks.callToolAsTask("agent_chat", { message: "long job" });
    await vi.waitFor(() => expect(model.llm.openConnections).toBeGreaterThan(0));
    const waiting = tasks.result(task.taskId);
    const cancelled = await tasks.cancel(task.taskId);
    expect(cancelled).toMatchObject({ taskId: task.taskId, status: "cancelled" });
    // The held model request was aborted (its connection closed) instead of running to its end.
    await vi.waitFor(() => expect(model.llm.openConnections).toBe(0));
    const result = await waiting;
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ error: { code: "CANCELLED" } });
    expect(await tasks.get(task.taskId)).toMatchObject({ status: "cancelled" });
    // Cancelling a task that is already terminal is refused and changes nothing.
    const again = await rpcError(tasks.cancel(task.taskId));
    expect(again.code).toBe(-32602);
    expect(again.message).toContain("already cancelled");
  });

  it("another user gets not-found for every task method, exactly as for an unknown id", async () => {
    const alice = await connectAs(app, "alice");
    const bob = await connectAs(app, "bob");
    const { task } = await alice.tasks.callToolAsTask("agent_chat", { message: "mine" });
    const unknown = await rpcError(bob.tasks.get(randomUUID()));
    for (const attempt of [
      bob.tasks.get(task.taskId),
      bob.tasks.result(task.taskId),
      bob.tasks.cancel(task.taskId),
    ]) {
      const error = await rpcError(attempt);
      expect(error).toEqual(unknown);
      expect(error.code).toBe(-32602);
    }
    expect((await bob.tasks.list()).tasks.map((t) => t.taskId)).not.toContain(task.taskId);
    // Bob's attempts left Alice's task running.
    expect(await alice.tasks.get(task.taskId)).toMatchObject({ status: "working" });
    await alice.tasks.cancel(task.taskId);
  });

  it("lists only the caller's tasks, newest first, page by page", async () => {
    const { tasks } = await connectAs(app, "bob");
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { task } = await tasks.callToolAsTask("agent_chat", { message: `job ${i}` });
      created.push(task.taskId);
      await tasks.cancel(task.taskId);
    }
    const first = await tasks.list();
    expect(first.tasks).toHaveLength(2);
    expect(first.nextCursor).toBeDefined();
    const second = await tasks.list(first.nextCursor);
    expect(second.nextCursor).toBeUndefined();
    const listed = [...first.tasks, ...second.tasks].map((t) => t.taskId);
    expect(listed.slice(0, 3)).toEqual([...created].reverse());
    const bad = await rpcError(tasks.list("forged-cursor"));
    expect(bad.code).toBe(-32602);
  });

  it("refuses a task past MCP_TASK_MAX_PER_USER with a clear, retryable error that creates nothing", async () => {
    // Bob already holds 3 (cancelled, unexpired) tasks from the test above: his limit.
    const { tasks } = await connectAs(app, "bob");
    expect(
      (await tasks.list()).tasks.length + (await tasks.list((await tasks.list()).nextCursor)).tasks.length,
    ).toBe(3);
    const refused = await rpcError(tasks.callToolAsTask("agent_chat", { message: "one more" }));
    expect(refused.code).toBe(-32600);
    expect(refused.data).toMatchObject({ code: "TASK_LIMIT_REACHED", limit: 3, retryable: true });
    const pages = await tasks.list();
    expect(pages.tasks).toHaveLength(2);
    expect((await tasks.list(pages.nextCursor)).tasks).toHaveLength(1);
  });

  it("refuses bad task calls before a task exists: invalid arguments, a tool that cannot run as a task", async () => {
    const { tasks } = await connectAs(app, "alice");
    const before = (await tasks.list()).tasks.length;
    const invalid = await rpcError(tasks.callToolAsTask("agent_chat", { message: "" }));
    expect(invalid.code).toBe(-32602);
    expect(invalid.message).toContain("agent_chat");
    const forbidden = await rpcError(tasks.callToolAsTask("conversation_get", { thread_id: "t1" }));
    expect(forbidden.code).toBe(-32601);
    const badTtl = await rpcError(tasks.callToolAsTask("agent_chat", { message: "hi" }, -5));
    expect(badTtl.code).toBe(-32602);
    expect((await tasks.list()).tasks.length).toBe(before);
  });

  it("refuses a task to a user who may not use the tool, before anything is created", async () => {
    const { client } = await connect(app.url, await login(app.url, "carol", "carol-pw"));
    clients.push(client);
    const tasks = taskClient(client);
    const refused = await rpcError(tasks.callToolAsTask("agent_chat", { message: "hi" }));
    expect(refused.code).toBe(-32600);
    expect(refused.data).toMatchObject({ code: "FORBIDDEN" });
    expect((await tasks.list()).tasks).toEqual([]);
  });

  it("forgets a task when its TTL ends: afterwards it is not found", async () => {
    const { tasks } = await connectAs(app, "alice");
    const { task } = await tasks.callToolAsTask("agent_chat", { message: "short-lived" }, 1_000);
    expect(task.ttl).toBe(1_000);
    await vi.waitFor(async () => expect((await rpcError(tasks.get(task.taskId))).code).toBe(-32602), {
      timeout: 5_000,
      interval: 200,
    });
    expect((await tasks.list()).tasks.map((t) => t.taskId)).not.toContain(task.taskId);
    // The run that outlived its task was stopped with it.
    await vi.waitFor(() => expect(model.llm.openConnections).toBe(0));
  });
});

describe.skipIf(!redisUp)("MCP tasks in Redis (SESSION_BACKEND=redis): any instance answers", () => {
  it("a task created on one instance is read, awaited and cancelled on another", async () => {
    const model = await startHeldModel();
    const env = { ...model.env, ...sharedRedisEnv() };
    const [first, second] = await Promise.all([startTestServer(env), startTestServer(env)]);
    try {
      const token = await login(first.url, "alice", "alice-pw");
      const onFirst = await connect(first.url, token);
      const onSecond = await connect(second.url, token);
      clients.push(onFirst.client, onSecond.client);
      const a = taskClient(onFirst.client);
      const b = taskClient(onSecond.client);

      const { task } = await a.callToolAsTask("agent_chat", { message: "across instances" });
      expect(await b.get(task.taskId)).toMatchObject({ status: "working" });
      expect((await b.list()).tasks.map((t) => t.taskId)).toEqual([task.taskId]);
      const waiting = b.result(task.taskId);
      model.release();
      expect(textOf(await waiting)).toBe(model.reply);

      // A second task, cancelled through the other instance, stops the run on the instance running it.
      const blocked = await startHeldModel();
      const third = await startTestServer({ ...env, ...blocked.env });
      const onThird = await connect(third.url, token);
      try {
        const { task: running } = await taskClient(onThird.client).callToolAsTask("agent_chat", {
          message: "stop me",
        });
        await vi.waitFor(() => expect(blocked.llm.openConnections).toBeGreaterThan(0));
        expect(await b.cancel(running.taskId)).toMatchObject({ status: "cancelled" });
        await vi.waitFor(() => expect(blocked.llm.openConnections).toBe(0));
        expect(await a.get(running.taskId)).toMatchObject({ status: "cancelled" });
      } finally {
        blocked.release();
        // Closed first: a connected client's idle keep-alive socket would hold the shutdown up to its drain timeout.
        await onThird.client.close();
        await third.close();
        await blocked.llm.close();
      }
    } finally {
      await Promise.all(clients.splice(0).map((client) => client.close()));
      await Promise.all([first.close(), second.close()]);
      await model.llm.close();
    }
  });

  it("a task still running when its instance shuts down ends failed (retryable), as any instance reports", async () => {
    const model = await startHeldModel();
    const env = { ...model.env, ...sharedRedisEnv() };
    const [leaving, staying] = await Promise.all([
      startTestServer({ ...env, DRAIN_TIMEOUT_MS: "300" }),
      startTestServer(env),
    ]);
    try {
      const token = await login(staying.url, "alice", "alice-pw");
      const onLeaving = await connect(leaving.url, token);
      const onStaying = await connect(staying.url, token);
      clients.push(onStaying.client);
      const { task } = await taskClient(onLeaving.client).callToolAsTask("agent_chat", { message: "long" });
      await vi.waitFor(() => expect(model.llm.openConnections).toBeGreaterThan(0));
      await onLeaving.client.close();
      // The held model never answers: the drain timeout ends the run.
      await leaving.close();
      const tasks = taskClient(onStaying.client);
      expect(await tasks.get(task.taskId)).toMatchObject({ status: "failed" });
      const result = await tasks.result(task.taskId);
      expect(result.isError).toBe(true);
      expect(result.structuredContent).toMatchObject({ error: { code: "SHUTTING_DOWN", retryable: true } });
    } finally {
      model.release();
      await Promise.all(clients.splice(0).map((client) => client.close()));
      await Promise.all([leaving.close(), staying.close()]);
      await model.llm.close();
    }
  });
});
