import type { Principal } from "@mcp-langgraph/auth-provider";
import { taskClient } from "@mcp-langgraph/testkit/mcp";
import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport, McpServer } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createMcpTasks, createMemoryTaskStore } from "../src/index.ts";
import { installTasks } from "../src/tasks/install-tasks.ts";

const who: Principal = {
  userId: "user:alice",
  username: "alice",
  roles: ["user"],
  scopes: [],
  expiresAt: new Date(Date.now() + 3_600_000),
  claims: {},
};

describe("createMcpTasks drain", () => {
  it("waits for runs that finish in time, and stops the rest with a shutdown reason", async () => {
    const tasks = createMcpTasks(createMemoryTaskStore());
    const quick = new AbortController();
    const slow = new AbortController();
    let finishQuick = () => {};
    tasks.track(quick, new Promise<void>((resolve) => (finishQuick = resolve)));
    const slowDone = new Promise<void>((resolve) => slow.signal.addEventListener("abort", () => resolve()));
    tasks.track(slow, slowDone);
    expect(tasks.running).toBe(2);
    finishQuick();
    const deadline = new AbortController();
    const drained = tasks.drain(deadline.signal);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(quick.signal.aborted).toBe(false);
    expect(slow.signal.aborted).toBe(false);
    deadline.abort();
    await drained;
    expect(slow.signal.reason).toMatchObject({ message: expect.stringContaining("shut down") });
    expect(tasks.running).toBe(0);
    await tasks.close(AbortSignal.abort());
  });
});

describe("task support declared per tool", () => {
  it("a tool that requires a task refuses a plain call (-32601) and runs as a task", async () => {
    const server = new McpServer({ name: "t", version: "1" }, { capabilities: { tools: {} } });
    server.registerTool("batch", { inputSchema: z.object({ n: z.number() }) }, async ({ n }) => ({
      content: [{ type: "text", text: String(n * 2) }],
    }));
    const tasks = createMcpTasks(createMemoryTaskStore());
    installTasks(server, {
      tasks,
      taskTools: { batch: "required" },
      principalOf: () => who,
      authorize: async () => {},
      admit: async () => {},
      reportFailure: () => {},
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: "t", version: "1" });
    await client.connect(clientSide);
    try {
      const { tools } = await client.listTools();
      expect(tools[0]?.execution).toEqual({ taskSupport: "required" });
      await expect(client.callTool({ name: "batch", arguments: { n: 2 } })).rejects.toMatchObject({
        code: -32601,
      });
      const t = taskClient(client);
      const { task } = await t.callToolAsTask("batch", { n: 21 });
      const result = await t.result(task.taskId);
      expect(result.content).toEqual([{ type: "text", text: "42" }]);
      expect((await t.get(task.taskId)).status).toBe("completed");
    } finally {
      await client.close();
      await tasks.close(AbortSignal.timeout(1_000));
    }
  });
});
