import { randomUUID } from "node:crypto";
import type { Principal } from "@mcp-langgraph/auth-provider";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport } from "@modelcontextprotocol/server";
import { afterEach, describe, expect, it } from "vitest";
import { registerConformanceFixtures } from "../src/conformance-fixtures.ts";
import {
  createMcpServer,
  createMcpServices,
  type McpRegistrar,
  type RunningMcpServices,
  roleTuples,
} from "../src/index.ts";

const principal = (name: string, roles: string[]): Principal => ({
  userId: `user:${name}`,
  username: name,
  roles,
  scopes: [],
  expiresAt: new Date(Date.now() + 3_600_000),
  claims: {},
});

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const postgresUp = await requireService({ name: "PostgreSQL", url: DATABASE_URL });

const open: { services: RunningMcpServices; clients: Client[] }[] = [];

async function setup(options: { registrars?: McpRegistrar[]; clientSampling?: "auto" | "off" } = {}) {
  const { clientSampling, ...serverOptions } = options;
  const services = await createMcpServices({
    authorizer: { backend: "embedded" },
    model: {},
    checkpointer: { backend: "memory" },
    ...(clientSampling ? { clientSampling } : {}),
  });
  const entry = { services, clients: [] as Client[] };
  open.push(entry);
  /** A client connected as `who`, over an in-memory transport pair. */
  const connectAs = async (who: Principal, clientModel?: (prompt: string) => string) => {
    const server = createMcpServer({ services, principalOf: () => who, ...serverOptions });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client(
      { name: "test", version: "1" },
      clientModel ? { capabilities: { sampling: {} } } : {},
    );
    if (clientModel) {
      // This client's "own model" answers sampling requests, as a desktop client's LLM would.
      client.setRequestHandler("sampling/createMessage", async (request) => {
        const last = request.params.messages.at(-1)?.content;
        const prompt = Array.isArray(last) ? "" : last?.type === "text" ? last.text : "";
        return {
          role: "assistant",
          model: "client-llm",
          content: { type: "text", text: clientModel(prompt) },
        };
      });
    }
    await client.connect(clientSide);
    entry.clients.push(client);
    return client;
  };
  return { services, connectAs };
}

afterEach(async () => {
  for (const { services, clients } of open.splice(0)) {
    await Promise.all(clients.map((client) => client.close()));
    await services.close();
  }
});

const textOf = (result: { content?: unknown }) =>
  ((result.content ?? []) as { text?: string }[]).map((item) => item.text ?? "").join("\n");
const threadOf = (result: { structuredContent?: unknown }) =>
  (result.structuredContent as { thread_id: string }).thread_id;

describe("roleTuples", () => {
  it("turns only well-formed role names into contextual tuples", () => {
    const tuples = roleTuples(principal("alice", ["user", "team-a", "bad role", "x#y", ""]));
    expect(tuples).toEqual([
      { user: "user:alice", relation: "assignee", object: "role:user" },
      { user: "user:alice", relation: "assignee", object: "role:team-a" },
    ]);
  });
});

describe("createMcpServer", () => {
  it("offers the agent tools, resources and prompts, and no conformance fixtures by default", async () => {
    const { connectAs } = await setup();
    const client = await connectAs(principal("alice", ["user"]));
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      "agent_chat",
      "conversation_get",
      "conversation_search",
    ]);
    const chat = tools.find((tool) => tool.name === "agent_chat");
    expect(chat?.inputSchema.required).toEqual(["message"]);
    expect((await client.listPrompts()).prompts.map((prompt) => prompt.name)).toEqual([
      "summarize_conversation",
    ]);
    expect((await client.listResourceTemplates()).resourceTemplates[0]?.uriTemplate).toBe(
      "conversation://{thread_id}",
    );
  });

  it("registers the conformance fixtures only when asked", async () => {
    const { connectAs } = await setup({ registrars: [registerConformanceFixtures] });
    const client = await connectAs(principal("alice", ["user"]));
    const { tools } = await client.listTools();
    const fixture = tools.find((tool) => tool.name === "json_schema_2020_12_tool");
    expect(fixture?.inputSchema).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $defs: { address: { type: "object" } },
      additionalProperties: false,
    });
  });

  it("grants tools through roles from the principal, never from arguments", async () => {
    const { connectAs } = await setup();
    const guest = await connectAs(principal("gus", ["guest"]));
    const denied = await guest.callTool({ name: "agent_chat", arguments: { message: "2+2", role: "user" } });
    expect(denied.isError).toBe(true);
    expect(denied.structuredContent).toMatchObject({ error: { code: "FORBIDDEN" } });

    const user = await connectAs(principal("uma", ["user"]));
    const allowed = await user.callTool({ name: "agent_chat", arguments: { message: "2+2" } });
    expect(allowed.isError).toBeFalsy();
    expect(textOf(allowed)).toContain("4");
  });

  it("lets only the owner read, continue, list and summarise a conversation", async () => {
    const { connectAs } = await setup();
    const alice = await connectAs(principal("alice", ["user"]));
    const bob = await connectAs(principal("bob", ["user"]));
    const threadId = threadOf(
      await alice.callTool({ name: "agent_chat", arguments: { message: "remember 4242" } }),
    );

    const aliceView = await alice.readResource({ uri: `conversation://${threadId}` });
    expect(JSON.stringify(aliceView.contents)).toContain("remember 4242");
    await expect(bob.readResource({ uri: `conversation://${threadId}` })).rejects.toThrow(
      /not found or is not yours/,
    );
    await expect(
      bob.getPrompt({ name: "summarize_conversation", arguments: { thread_id: threadId } }),
    ).rejects.toThrow();

    const aliceList = await alice.listResources();
    expect(aliceList.resources.map((resource) => resource.uri)).toContain(`conversation://${threadId}`);
    expect((await bob.listResources()).resources).toEqual([]);

    const prompt = await alice.getPrompt({
      name: "summarize_conversation",
      arguments: { thread_id: threadId },
    });
    expect(JSON.stringify(prompt.messages)).toContain("remember 4242");
  });

  it("answers through the client's own model when no provider is configured and the client offers sampling", async () => {
    const { connectAs } = await setup();
    const withSampling = await connectAs(
      principal("alice", ["user"]),
      (prompt) => `client model heard: ${prompt}`,
    );
    const sampled = await withSampling.callTool({
      name: "agent_chat",
      arguments: { message: "tell me a story" },
    });
    expect(textOf(sampled)).toBe("client model heard: tell me a story");

    const withoutSampling = await connectAs(principal("bob", ["user"]));
    const offline = await withoutSampling.callTool({
      name: "agent_chat",
      arguments: { message: "tell me a story" },
    });
    expect(textOf(offline).toLowerCase()).toContain("offline");
  });

  it("cancels the agent run and its model request when the client cancels the call", async () => {
    const { services } = await setup();
    const server = createMcpServer({ services, principalOf: () => principal("alice", ["user"]) });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: "test", version: "1" }, { capabilities: { sampling: {} } });
    let samplingStarted!: () => void;
    const started = new Promise<void>((resolve) => (samplingStarted = resolve));
    const modelRequestAborted = new Promise<void>((resolve) => {
      // The client's model never answers; it only notices when the server gives up on it.
      client.setRequestHandler("sampling/createMessage", (_request, ctx) => {
        samplingStarted();
        ctx.mcpReq.signal.addEventListener("abort", () => resolve(), { once: true });
        return new Promise(() => {});
      });
    });
    await client.connect(clientSide);
    open.at(-1)?.clients.push(client);

    const controller = new AbortController();
    const call = client.callTool(
      { name: "agent_chat", arguments: { message: "think hard" } },
      { signal: controller.signal },
    );
    await started;
    controller.abort(new Error("user pressed stop"));
    await expect(call).rejects.toThrow();
    await modelRequestAborted;
  });

  it("keeps the configured model when client sampling is off", async () => {
    const { connectAs } = await setup({ clientSampling: "off" });
    const client = await connectAs(principal("alice", ["user"]), () => "should not be asked");
    const result = await client.callTool({ name: "agent_chat", arguments: { message: "hello" } });
    expect(textOf(result).toLowerCase()).toContain("offline");
  });

  it("denies every call when the authorizer fails (fail closed)", async () => {
    const { services, connectAs } = await setup();
    const alice = await connectAs(principal("alice", ["user", "admin"]));
    await services.authorizer.close();
    for (const name of ["agent_chat", "conversation_search"] as const) {
      const result = await alice.callTool({
        name,
        arguments: name === "agent_chat" ? { message: "1+1" } : { query: "x" },
      });
      expect(result.isError).toBe(true);
      expect(result.structuredContent).toMatchObject({ error: { code: "AUTHZ_UNAVAILABLE" } });
    }
  });
});

describe("conversation reads", () => {
  it("show every turn at once on the memory checkpointer, whose decoded threads are cached", async () => {
    const { connectAs } = await setup();
    const alice = await connectAs(principal("alice", ["user"]));
    const read = async (threadId: string) =>
      (
        (await alice.callTool({ name: "conversation_get", arguments: { thread_id: threadId } }))
          .structuredContent as { messages: { content: string }[] }
      ).messages.map((message) => message.content);
    const threadId = threadOf(await alice.callTool({ name: "agent_chat", arguments: { message: "hello" } }));
    expect(await read(threadId)).toHaveLength(2);
    expect(await read(threadId)).toHaveLength(2);
    await alice.callTool({ name: "agent_chat", arguments: { message: "what is 6*7?", thread_id: threadId } });
    const after = await read(threadId);
    expect(after).toHaveLength(6);
    expect(after).toContain("what is 6*7?");
  });

  it.skipIf(!postgresUp)(
    "come from the database every time on Postgres, so another process's turn shows at once",
    async () => {
      const settings = {
        authorizer: { backend: "embedded" },
        model: {},
        checkpointer: { backend: "postgres", connectionString: DATABASE_URL },
        // Asked for, but never used on a shared checkpointer (the agent would refuse it).
        agent: { conversationCache: { maxThreads: 10 } },
      } as const;
      const [here, elsewhere] = [await createMcpServices(settings), await createMcpServices(settings)];
      open.push({ services: here, clients: [] }, { services: elsewhere, clients: [] });
      const threadId = `thread-${randomUUID()}`;
      await elsewhere.agent.chat({ threadId, message: "hello" });
      expect(await here.agent.getConversation(threadId)).toHaveLength(2);
      await elsewhere.agent.chat({ threadId, message: "what is 6*7?" });
      expect(await here.agent.getConversation(threadId)).toHaveLength(6);
    },
  );
});
