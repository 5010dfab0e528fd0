import { randomUUID } from "node:crypto";
import type { Principal } from "@mcp-langgraph/auth-provider";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport } from "@modelcontextprotocol/server";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { registerConformanceFixtures } from "../src/conformance-fixtures.ts";
import {
  conversationKey,
  createMcpServer,
  createMcpServices,
  type McpRegistrar,
  type RunningMcpServices,
  roleTuples,
  type SharedSubscriptionStore,
  type SubscriberRecord,
} from "../src/index.ts";
import { principal } from "./helpers/principal.ts";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const postgresUp = await requireService({ name: "PostgreSQL", url: DATABASE_URL });

const open: { services: RunningMcpServices; clients: Client[] }[] = [];

async function setup(
  options: {
    registrars?: McpRegistrar[];
    clientSampling?: "auto" | "off";
    maxSubscriptionsPerSession?: number;
    sharedSubscriptions?: { store: SharedSubscriptionStore; timeoutMs: number };
  } = {},
) {
  const { clientSampling, maxSubscriptionsPerSession, ...serverOptions } = options;
  const services = await createMcpServices({
    authorizer: { backend: "embedded" },
    model: {},
    checkpointer: { backend: "memory" },
    ...(clientSampling ? { clientSampling } : {}),
    ...(maxSubscriptionsPerSession !== undefined ? { maxSubscriptionsPerSession } : {}),
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

  it("regression: refuses a message over the agent's one limit, naming it, and claims nothing", async () => {
    const { services, connectAs } = await setup();
    const alice = await connectAs(principal("alice", ["user"]));
    const limit = services.agent.maxMessageChars;
    const tooLong = await alice.callTool({
      name: "agent_chat",
      arguments: { message: "x".repeat(limit + 1), thread_id: "long" },
    });
    expect(tooLong.isError).toBe(true);
    expect(textOf(tooLong)).toContain(String(limit));
    const object = `conversation:${conversationKey("user:alice", "long")}`;
    expect(await services.authorizer.readTuples({ object })).toEqual([]);
    expect(await services.agent.getConversation(conversationKey("user:alice", "long"))).toBeNull();
    // The id is still free: the first accepted message creates it.
    const accepted = await alice.callTool({
      name: "agent_chat",
      arguments: { message: "hi", thread_id: "long" },
    });
    expect(accepted.structuredContent).toMatchObject({ thread_id: "long", created: true });
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
      // Conversations in Postgres need their ownership there too; a table of this run's own.
      const table = `authz_mcp_server_test_${randomUUID().replaceAll("-", "")}`;
      const settings = {
        authorizer: {
          backend: "embedded",
          storage: { backend: "postgres", connectionString: DATABASE_URL, table, poolSize: 2 },
        },
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
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`DROP TABLE IF EXISTS "${table}", "${table}_changes", "${table}_version"`);
      await client.end();
    },
  );
});

const chat = (client: Client, message: string, threadId?: string) =>
  client.callTool({
    name: "agent_chat",
    arguments: { message, ...(threadId ? { thread_id: threadId } : {}) },
  });
const transcriptOf = async (client: Client, threadId: string) =>
  textOf(await client.callTool({ name: "conversation_get", arguments: { thread_id: threadId } }));

/** Collects one kind of notification a client receives, in order. */
function collect(client: Client, method: "notifications/resources/updated" | "notifications/message") {
  const received: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  client.setNotificationHandler(method, (notification) => {
    received.push(notification.params as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  /** Resolves once `count` notifications have arrived (never sooner). */
  const until = async (count: number) => {
    while (received.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    return received;
  };
  return { received, until };
}

describe("thread ids are per user (regression: global ids leaked which ids were taken)", () => {
  it("lets two users both use 'project-x' independently, neither seeing the other's", async () => {
    const { connectAs } = await setup();
    const alice = await connectAs(principal("alice", ["user"]));
    const bob = await connectAs(principal("bob", ["user"]));

    const first = await chat(alice, "alpha 1111", "project-x");
    expect(first.structuredContent).toMatchObject({ thread_id: "project-x", created: true });
    // Before: "Conversation 'project-x' was not found or is not yours", i.e. the id was taken.
    const second = await chat(bob, "beta 2222", "project-x");
    expect(second.isError).toBeFalsy();
    expect(second.structuredContent).toMatchObject({ thread_id: "project-x", created: true });

    expect(await transcriptOf(alice, "project-x")).toContain("alpha 1111");
    expect(await transcriptOf(alice, "project-x")).not.toContain("beta 2222");
    expect(await transcriptOf(bob, "project-x")).toContain("beta 2222");
    expect(await transcriptOf(bob, "project-x")).not.toContain("alpha 1111");

    for (const client of [alice, bob]) {
      expect((await client.listResources()).resources.map((resource) => resource.uri)).toEqual([
        "conversation://project-x",
      ]);
    }
    const search = await bob.callTool({ name: "conversation_search", arguments: { query: "2222" } });
    const hits = (search.structuredContent as { hits: { threadId: string; content: string }[] }).hits;
    expect(hits.map((hit) => hit.threadId)).toEqual(["project-x", "project-x"]);
    expect(hits[0]?.content).toBe("beta 2222");
    const noLeak = await bob.callTool({ name: "conversation_search", arguments: { query: "alpha" } });
    expect((noLeak.structuredContent as { hits: unknown[] }).hits).toEqual([]);
    const bobRead = await bob.readResource({ uri: "conversation://project-x" });
    expect(JSON.stringify(bobRead.contents)).not.toContain("alpha");
  });

  it("shows a conversation shared by its owner under its full key, readable but not claimable by others", async () => {
    const { services, connectAs } = await setup();
    const alice = await connectAs(principal("alice", ["user"]));
    const bob = await connectAs(principal("bob", ["user"]));
    await chat(alice, "shared 3333", "plan");
    const key = conversationKey("user:alice", "plan");
    await services.authorizer.writeTuples([
      { user: "user:bob", relation: "viewer", object: `conversation:${key}` },
    ]);

    expect((await bob.listResources()).resources.map((resource) => resource.uri)).toEqual([
      `conversation://${key}`,
    ]);
    expect(await transcriptOf(bob, key)).toContain("shared 3333");
    // A viewer may not write, and nobody may create a conversation in someone else's namespace.
    const write = await chat(bob, "mine now", key);
    expect(write.structuredContent).toMatchObject({ error: { code: "FORBIDDEN" } });
    const squat = await chat(bob, "squat", conversationKey("user:carol", "plan"));
    expect(squat.structuredContent).toMatchObject({ error: { code: "FORBIDDEN" } });
    expect(await transcriptOf(alice, "plan")).not.toContain("mine now");
  });
});

describe("resources/subscribe", () => {
  it("notifies every subscribed session of its user when a turn finishes, and no other user's", async () => {
    const { connectAs } = await setup();
    const alice = await connectAs(principal("alice", ["user"]));
    const aliceElsewhere = await connectAs(principal("alice", ["user"]));
    const bob = await connectAs(principal("bob", ["user"]));
    await chat(alice, "hello", "project-x");
    await chat(bob, "hello", "project-x");
    const aliceUpdates = collect(alice, "notifications/resources/updated");
    const bobUpdates = collect(bob, "notifications/resources/updated");
    await alice.subscribeResource({ uri: "conversation://project-x" });
    await bob.subscribeResource({ uri: "conversation://project-x" });

    await chat(aliceElsewhere, "from my other window", "project-x");
    expect(await aliceUpdates.until(1)).toEqual([{ uri: "conversation://project-x" }]);
    // Bob's own turn is the first update he gets: Alice's same-named thread told him nothing.
    await chat(bob, "my turn", "project-x");
    expect(await bobUpdates.until(1)).toEqual([{ uri: "conversation://project-x" }]);
    expect(aliceUpdates.received).toHaveLength(1);

    await alice.unsubscribeResource({ uri: "conversation://project-x" });
    await chat(aliceElsewhere, "after unsubscribe", "project-x");
    await chat(bob, "second", "project-x");
    await bobUpdates.until(2);
    expect(aliceUpdates.received).toHaveLength(1);
  });

  it("refuses a conversation the caller may not read, and URIs that are no conversation", async () => {
    const { connectAs } = await setup();
    const alice = await connectAs(principal("alice", ["user"]));
    const bob = await connectAs(principal("bob", ["user"]));
    await chat(alice, "private", "diary");
    await expect(bob.subscribeResource({ uri: "conversation://diary" })).rejects.toThrow(
      /not found or is not yours/,
    );
    await expect(bob.subscribeResource({ uri: "file:///etc/passwd" })).rejects.toThrow(
      /Only conversation:\/\/\{thread_id\} resources/,
    );
    await expect(bob.subscribeResource({ uri: "conversation://bad id!" })).rejects.toThrow(
      /Only conversation:\/\/\{thread_id\} resources/,
    );
    const aliceKey = conversationKey("user:alice", "diary");
    await expect(bob.subscribeResource({ uri: `conversation://${aliceKey}` })).rejects.toThrow(
      /not found or is not yours/,
    );
    const bobUpdates = collect(bob, "notifications/resources/updated");
    await chat(alice, "more", "diary");
    await chat(bob, "mine", "diary");
    await bob.subscribeResource({ uri: "conversation://diary" });
    await chat(bob, "again", "diary");
    expect(await bobUpdates.until(1)).toEqual([{ uri: "conversation://diary" }]);
  });

  it("stops telling a subscriber once its read access is withdrawn", async () => {
    const { services, connectAs } = await setup();
    const alice = await connectAs(principal("alice", ["user"]));
    const bob = await connectAs(principal("bob", ["user"]));
    await chat(alice, "hello", "plan");
    await chat(bob, "hello", "mine");
    const shared = conversationKey("user:alice", "plan");
    const grant = { user: "user:bob", relation: "viewer", object: `conversation:${shared}` };
    await services.authorizer.writeTuples([grant]);
    const bobUpdates = collect(bob, "notifications/resources/updated");
    await bob.subscribeResource({ uri: `conversation://${shared}` });
    await bob.subscribeResource({ uri: "conversation://mine" });

    await chat(alice, "update 1", "plan");
    expect(await bobUpdates.until(1)).toEqual([{ uri: `conversation://${shared}` }]);
    await services.authorizer.deleteTuples([grant]);
    await chat(alice, "update 2", "plan");
    await chat(bob, "my own", "mine");
    expect(await bobUpdates.until(2)).toEqual([
      { uri: `conversation://${shared}` },
      { uri: "conversation://mine" },
    ]);
  });

  it("holds at most MAX_SUBSCRIPTIONS_PER_SESSION per session, and releases them on unsubscribe and close", async () => {
    const { services, connectAs } = await setup({ maxSubscriptionsPerSession: 2 });
    let listening = 0;
    const bus = services.changes;
    services.changes = {
      publish: (key) => bus.publish(key),
      subscribe(key, listener) {
        listening += 1;
        const stop = bus.subscribe(key, listener);
        return () => {
          listening -= 1;
          stop();
        };
      },
    };
    const alice = await connectAs(principal("alice", ["user"]));
    for (const threadId of ["a", "b", "c"]) await chat(alice, "hi", threadId);
    await alice.subscribeResource({ uri: "conversation://a" });
    await alice.subscribeResource({ uri: "conversation://b" });
    await alice.subscribeResource({ uri: "conversation://b" });
    await expect(alice.subscribeResource({ uri: "conversation://c" })).rejects.toThrow(
      /2 resource subscriptions, the limit \(MAX_SUBSCRIPTIONS_PER_SESSION\)/,
    );
    expect(listening).toBe(2);
    await alice.unsubscribeResource({ uri: "conversation://a" });
    await alice.subscribeResource({ uri: "conversation://c" });
    expect(listening).toBe(2);
    await alice.close();
    expect(listening).toBe(0);
  });

  it("with a shared store: a subscribe or unsubscribe it cannot take is a clear error and changes nothing", async () => {
    let down = true;
    const unavailable = () => new Error("The MCP subscription store is unavailable right now.");
    const stored = new Map<string, SubscriberRecord | null>();
    // The store of one session with one copy: the copy claims every change of what is stored.
    const store: SharedSubscriptionStore = {
      async add(uri, subscriber, max) {
        if (down) throw unavailable();
        if (stored.has(uri)) return "present";
        if (stored.size >= max) return "full";
        stored.set(uri, subscriber);
        return "added";
      },
      async remove(uri) {
        if (down) throw unavailable();
        stored.delete(uri);
      },
      list: async () => new Map(stored),
      claim: async (uri) => stored.has(uri),
      watch: () => () => {},
    };
    const { services, connectAs } = await setup({ sharedSubscriptions: { store, timeoutMs: 1_000 } });
    let listening = 0;
    const bus = services.changes;
    services.changes = {
      publish: (key) => bus.publish(key),
      subscribe(key, listener) {
        listening += 1;
        const stop = bus.subscribe(key, listener);
        return () => {
          listening -= 1;
          stop();
        };
      },
    };
    const alice = await connectAs(principal("alice", ["user"]));
    await chat(alice, "hi", "x");
    const updates = collect(alice, "notifications/resources/updated");

    await expect(alice.subscribeResource({ uri: "conversation://x" })).rejects.toThrow(
      /subscription store is unavailable/,
    );
    expect(stored.size).toBe(0);
    expect(listening).toBe(0);

    down = false;
    await alice.subscribeResource({ uri: "conversation://x" });
    expect([...stored.values()]).toEqual([{ userId: "user:alice", roles: ["user"] }]);
    await chat(alice, "again", "x");
    expect(await updates.until(1)).toEqual([{ uri: "conversation://x" }]);

    down = true;
    await expect(alice.unsubscribeResource({ uri: "conversation://x" })).rejects.toThrow(
      /subscription store is unavailable/,
    );
    expect(stored.has("conversation://x")).toBe(true);
    expect(listening).toBe(1);
    await chat(alice, "still subscribed", "x");
    expect(await updates.until(2)).toHaveLength(2);
  });
});

describe("logging/setLevel", () => {
  it("sends agent run messages to the calling session at and above its level, and none before one is set", async () => {
    const { connectAs } = await setup();
    const alice = await connectAs(principal("alice", ["user"]));
    const bob = await connectAs(principal("bob", ["user"]));
    const aliceLog = collect(alice, "notifications/message");
    const bobLog = collect(bob, "notifications/message");

    await chat(alice, "what is 6*7?", "math");
    expect(aliceLog.received).toEqual([]);

    await alice.setLoggingLevel("info");
    await bob.setLoggingLevel("debug");
    await chat(alice, "what is 6*7?", "math");
    const events = aliceLog.received.map((message) => (message.data as { event: string }).event);
    expect(events).toContain("tool_call");
    expect(events).toContain("turn_finished");
    expect(events).not.toContain("turn_started");
    expect(aliceLog.received.every((message) => message.level === "info")).toBe(true);
    expect(
      aliceLog.received.find((message) => (message.data as { event: string }).event === "tool_call"),
    ).toMatchObject({ data: { tool: "calculator" } });
    // Bob's session asked for everything, but Alice's turns are not his to hear about.
    expect(bobLog.received).toEqual([]);

    await alice.setLoggingLevel("error");
    aliceLog.received.length = 0;
    await chat(alice, "again", "math");
    expect(aliceLog.received).toEqual([]);
    await alice.setLoggingLevel("debug");
    await chat(alice, "hello", "math");
    expect(aliceLog.received.map((message) => (message.data as { event: string }).event)).toEqual([
      "turn_started",
      "turn_finished",
    ]);
  });

  it("reports a failed turn at error level with its code only", async () => {
    const { connectAs } = await setup();
    const alice = await connectAs(principal("alice", ["user"]));
    const bob = await connectAs(principal("bob", ["user"]));
    await chat(alice, "private", "owned");
    const bobLog = collect(bob, "notifications/message");
    await bob.setLoggingLevel("warning");
    await chat(bob, "let me in", conversationKey("user:alice", "owned"));
    expect(bobLog.received).toEqual([
      {
        level: "error",
        logger: "mcp-langgraph",
        data: { event: "turn_failed", thread_id: conversationKey("user:alice", "owned"), code: "FORBIDDEN" },
      },
    ]);
  });
});

describe("completion/complete", () => {
  it("suggests only the caller's own thread ids, filtered by the typed prefix", async () => {
    const { connectAs } = await setup();
    const alice = await connectAs(principal("alice", ["user"]));
    const bob = await connectAs(principal("bob", ["user"]));
    for (const threadId of ["project-y", "project-x", "other"]) await chat(alice, "hi", threadId);
    await chat(bob, "hi", "project-z");

    const resource = await alice.complete({
      ref: { type: "ref/resource", uri: "conversation://{thread_id}" },
      argument: { name: "thread_id", value: "proj" },
    });
    expect(resource.completion).toEqual({ values: ["project-x", "project-y"], total: 2, hasMore: false });
    const prompt = await alice.complete({
      ref: { type: "ref/prompt", name: "summarize_conversation" },
      argument: { name: "thread_id", value: "" },
    });
    expect(prompt.completion.values).toEqual(["other", "project-x", "project-y"]);
    const bobs = await bob.complete({
      ref: { type: "ref/prompt", name: "summarize_conversation" },
      argument: { name: "thread_id", value: "" },
    });
    expect(bobs.completion.values).toEqual(["project-z"]);
  });
});
