// MCP tasks (2025-11-25) whose run waits on the client (ADR 0191): agent_chat as a task whose model
// calls an upstream tool that needs approval. While the approval elicitation waits, the task is
// input_required (tasks/get and notifications/tasks/status say so); the answer returns it to
// working, and the run goes on to its end. Official client, loopback model, fixture upstream.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  instructed,
  type LoopbackServer,
  openAIWire,
  startLoopbackServer,
} from "@mcp-langgraph/testkit/llm-loopback";
import { startUpstreamHttpServer, taskClient, type UpstreamHttpServer } from "@mcp-langgraph/testkit/mcp";
import {
  Client,
  type ElicitRequest,
  StreamableHTTPClientTransport,
  specTypeSchemas,
} from "@modelcontextprotocol/client";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { login, startTestServer, textOf } from "./helpers.ts";

const RELATED_TASK = "io.modelcontextprotocol/related-task";

let model: LoopbackServer;
let upstream: UpstreamHttpServer;
let app: RunningHttpServer;
let dir: string;
const clients: Client[] = [];

beforeAll(async () => {
  model = await startLoopbackServer(instructed(openAIWire));
  upstream = await startUpstreamHttpServer();
  dir = await mkdtemp(join(tmpdir(), "task-input-"));
  const file = join(dir, "upstreams.yaml");
  await writeFile(
    file,
    ["servers:", "  - name: remote", `    url: ${upstream.url}`, '    approval: ["delete_*"]', ""].join("\n"),
  );
  app = await startTestServer({
    LLM_PROVIDER: "openai",
    MODEL_NAME: "gpt-4o-mini",
    OPENAI_API_KEY: "sk-app-test",
    OPENAI_BASE_URL: `${model.url}/v1`,
    MCP_UPSTREAMS_FILE: file,
    MCP_UPSTREAM_TIMEOUT_MS: "5000",
    // Long enough never to decide a test: each one answers the elicitation itself.
    APPROVAL_TIMEOUT_MS: "30000",
  });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});
afterAll(async () => {
  await app?.close();
  await Promise.all([model?.close(), upstream?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

type Answer = { action: "accept" | "decline" | "cancel" };
interface Heard {
  status: string;
  statusMessage?: string;
  taskId: string;
}

/** Alice's client declaring form elicitation, answering each one with `elicit`; records status notifications. */
async function aliceWithElicitation(elicit: (request: ElicitRequest) => Promise<Answer>) {
  const token = await login(app.url, "alice", "alice-pw");
  const client = new Client(
    { name: "task-input-test", version: "1.0.0" },
    { capabilities: { elicitation: { form: {} } } },
  );
  clients.push(client);
  client.setRequestHandler("elicitation/create", (request) => elicit(request as ElicitRequest));
  const heard: Heard[] = [];
  client.setNotificationHandler(
    "notifications/tasks/status",
    { params: specTypeSchemas.TaskStatusNotificationParams },
    (params) => {
      heard.push({
        status: params.status,
        taskId: params.taskId,
        ...(params.statusMessage ? { statusMessage: params.statusMessage } : {}),
      });
    },
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${app.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return { client, tasks: taskClient(client), heard };
}

/** The task id an elicitation names in its related-task metadata. */
const relatedTaskOf = (request: ElicitRequest) =>
  (request.params._meta?.[RELATED_TASK] as { taskId?: string } | undefined)?.taskId;

describe("a task run waiting on its client is input_required (ADR 0191)", () => {
  it("shows input_required while the approval waits, then working, then completed with the tool's result", async () => {
    const seenWhileAsked: { task?: unknown; heard?: Heard[] } = {};
    let asked: ElicitRequest | undefined;
    const alice = await aliceWithElicitation(async (request) => {
      asked = request;
      const taskId = relatedTaskOf(request) ?? "";
      seenWhileAsked.task = await alice.tasks.get(taskId);
      await vi.waitFor(() =>
        expect(alice.heard).toContainEqual(expect.objectContaining({ status: "input_required" })),
      );
      seenWhileAsked.heard = [...alice.heard];
      return { action: "accept" };
    });
    const { task } = await alice.tasks.callToolAsTask(
      "agent_chat",
      { message: 'call remote__delete_file {"path":"/tmp/task-approved.txt"}' },
      60_000,
    );
    const reply = await alice.tasks.result(task.taskId);
    expect(reply.isError).toBeFalsy();
    expect(textOf(reply)).toBe("tool said: deleted /tmp/task-approved.txt");
    expect(upstream.calls).toContainEqual({ tool: "delete_file", args: { path: "/tmp/task-approved.txt" } });

    // The approval named the task it was asked for, and the task said it was waiting.
    expect(relatedTaskOf(asked as ElicitRequest)).toBe(task.taskId);
    expect(seenWhileAsked.task).toMatchObject({
      taskId: task.taskId,
      status: "input_required",
      statusMessage: expect.stringMatching(/waiting/i),
    });
    expect(seenWhileAsked.heard).toEqual([
      { taskId: task.taskId, status: "input_required", statusMessage: expect.stringMatching(/waiting/i) },
    ]);
    await vi.waitFor(() => expect(alice.heard.map((each) => each.status)).toContain("completed"));
    expect(alice.heard.map((each) => [each.taskId, each.status])).toEqual([
      [task.taskId, "input_required"],
      [task.taskId, "working"],
      [task.taskId, "completed"],
    ]);
    const ended = await alice.tasks.get(task.taskId);
    expect(ended.status).toBe("completed");
    expect(ended.statusMessage).toBeUndefined();
  });

  it("ends the wait on a declined approval: the task works on and completes without running the tool", async () => {
    const seenWhileAsked: { status?: string } = {};
    const alice = await aliceWithElicitation(async (request) => {
      seenWhileAsked.status = (await alice.tasks.get(relatedTaskOf(request) ?? "")).status;
      return { action: "decline" };
    });
    const { task } = await alice.tasks.callToolAsTask(
      "agent_chat",
      { message: 'call remote__delete_file {"path":"/tmp/task-declined.txt"}' },
      60_000,
    );
    const reply = await alice.tasks.result(task.taskId);
    expect(textOf(reply)).toBe(
      "tool said: Not run: the user did not approve this call of remote__delete_file (declined).",
    );
    expect(seenWhileAsked.status).toBe("input_required");
    expect(upstream.calls).not.toContainEqual({
      tool: "delete_file",
      args: { path: "/tmp/task-declined.txt" },
    });
    await vi.waitFor(() => expect(alice.heard.map((each) => each.status)).toContain("completed"));
    expect(alice.heard.map((each) => each.status)).toEqual(["input_required", "working", "completed"]);
  });

  it("leaves an elicitation of a call that is not a task without related-task metadata", async () => {
    let asked: ElicitRequest | undefined;
    const alice = await aliceWithElicitation(async (request) => {
      asked = request;
      return { action: "accept" };
    });
    const result = await alice.client.callTool({
      name: "agent_chat",
      arguments: { message: 'call remote__delete_file {"path":"/tmp/plain-call.txt"}' },
    });
    expect(textOf(result)).toBe("tool said: deleted /tmp/plain-call.txt");
    expect(asked).toBeDefined();
    expect(relatedTaskOf(asked as ElicitRequest)).toBeUndefined();
    expect(alice.heard).toEqual([]);
  });
});

describe("a task run answered by the client's own model (sampling) is input_required while it waits", () => {
  let offline: RunningHttpServer;
  beforeAll(async () => {
    // No provider configured: agent_chat answers with the model of a client that offers sampling.
    offline = await startTestServer({});
  });
  afterAll(async () => {
    await offline?.close();
  });

  it("marks the sampling request as the task's, shows input_required meanwhile, and completes with the answer", async () => {
    const token = await login(offline.url, "alice", "alice-pw");
    const client = new Client(
      { name: "task-input-test", version: "1.0.0" },
      { capabilities: { sampling: {} } },
    );
    clients.push(client);
    const tasks = taskClient(client);
    const seen: { related?: string; status?: string; statusMessage?: string }[] = [];
    client.setRequestHandler("sampling/createMessage", async (request) => {
      const related = (request.params._meta?.[RELATED_TASK] as { taskId?: string } | undefined)?.taskId;
      const task = related ? await tasks.get(related) : undefined;
      seen.push({
        ...(related ? { related } : {}),
        ...(task ? { status: task.status, statusMessage: task.statusMessage } : {}),
      });
      return { model: "client-model", role: "assistant", content: { type: "text", text: "sampled answer" } };
    });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${offline.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    const { task } = await tasks.callToolAsTask("agent_chat", { message: "what is the answer?" }, 60_000);
    const reply = await tasks.result(task.taskId);
    expect(reply.isError).toBeFalsy();
    expect(textOf(reply)).toBe("sampled answer");
    expect(seen.length).toBeGreaterThan(0);
    for (const each of seen) {
      expect(each).toEqual({
        related: task.taskId,
        status: "input_required",
        statusMessage: expect.stringMatching(/sampling/i),
      });
    }
    expect(await tasks.get(task.taskId)).toMatchObject({ status: "completed" });
  });
});
