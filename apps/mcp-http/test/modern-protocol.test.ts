import { randomBytes } from "node:crypto";
import type { Principal } from "@mcp-langgraph/auth-provider";
import { AGENT_TOOL_NAMES, createUserBoundRequestStateCodec } from "@mcp-langgraph/mcp-server";
import { roundRobinFetch } from "@mcp-langgraph/testkit/http-app";
import { REDIS_URL } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import type { CreateMessageRequest } from "@modelcontextprotocol/client";
import type { ServerContext } from "@modelcontextprotocol/server";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, INITIALIZE, login, postMcp, sharedRedisEnv, startTestServer, textOf } from "./helpers.ts";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

// The key every instance would share; the test mints states with it as another instance would.
const REQUEST_STATE_KEY = randomBytes(32).toString("base64url");

let server: RunningHttpServer;
let aliceToken: string;
let bobToken: string;

beforeAll(async () => {
  server = await startTestServer({ MCP_REQUEST_STATE_KEY: REQUEST_STATE_KEY });
  [aliceToken, bobToken] = await Promise.all([
    login(server.url, "alice", "alice-pw"),
    login(server.url, "bob", "bob-pw"),
  ]);
});
afterAll(async () => {
  await server?.close();
});

/** Records every request the official client sends and every answer it gets. */
function recordingFetch() {
  const exchanges: { body: string; headers: Headers; status: number; responseHeaders: Headers }[] = [];
  const fetcher: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    exchanges.push({
      body: typeof init?.body === "string" ? init.body : "",
      headers: new Headers(init?.headers),
      status: response.status,
      responseHeaders: response.headers,
    });
    return response;
  };
  return { fetcher, exchanges };
}

/** A `tools/call` exactly as the official 2026-07-28 client sent it (envelope, headers), to replay. */
async function capturedModernCall(token: string) {
  const { fetcher, exchanges } = recordingFetch();
  const { client } = await connect(server.url, token, { protocol: "2026-07-28", fetch: fetcher });
  try {
    await client.callTool({ name: "conversation_search", arguments: { query: "nothing-matches-this" } });
  } finally {
    await client.close();
  }
  const call = exchanges.find((exchange) => exchange.body.includes('"tools/call"'));
  if (!call) throw new Error("the client sent no tools/call");
  const headers: Record<string, string> = {};
  call.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return { body: JSON.parse(call.body) as { params: Record<string, unknown> }, headers };
}

/** Seals a request state as the app would while serving `user`'s `method`, with the shared key. */
function mintFor(userId: string, method = "tools/call", key: string = REQUEST_STATE_KEY): Promise<string> {
  const codec = createUserBoundRequestStateCodec({
    key,
    principalOf: (ctx) => ctx.http?.authInfo?.extra?.principal as Principal,
  });
  const ctx = {
    mcpReq: { method },
    http: { authInfo: { extra: { principal: { userId } } } },
  } as unknown as ServerContext;
  return codec.mint({ step: 1 }, ctx);
}

describe("the 2026-07-28 protocol on /mcp", () => {
  it("serves tools/list, agent_chat and conversation_get without opening a session", async () => {
    const sessionsBefore = server.mcpSessionUsage().length;
    const { fetcher, exchanges } = recordingFetch();
    const { client } = await connect(server.url, aliceToken, { protocol: "2026-07-28", fetch: fetcher });
    try {
      expect(client.getProtocolEra()).toBe("modern");
      expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");

      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual([...AGENT_TOOL_NAMES].sort());

      const turn = await client.callTool({
        name: "agent_chat",
        arguments: { message: "What is (6 + 1) * 6?" },
      });
      expect(turn.isError).toBeFalsy();
      expect(textOf(turn)).toContain("42");
      const threadId = (turn.structuredContent as { thread_id: string }).thread_id;

      const follow = await client.callTool({
        name: "agent_chat",
        arguments: { message: "and 2^10?", thread_id: threadId },
      });
      expect(textOf(follow)).toContain("1024");

      const conversation = await client.callTool({
        name: "conversation_get",
        arguments: { thread_id: threadId },
      });
      expect(conversation.isError).toBeFalsy();
      expect(textOf(conversation)).toContain("What is (6 + 1) * 6?");
      expect(textOf(conversation)).toContain("and 2^10?");
    } finally {
      await client.close();
    }
    expect(server.mcpSessionUsage().length).toBe(sessionsBefore);
    expect(exchanges.length).toBeGreaterThan(0);
    for (const exchange of exchanges) {
      expect(exchange.status).toBe(200);
      expect(exchange.responseHeaders.get("mcp-session-id")).toBeNull();
      expect(exchange.headers.get("mcp-session-id")).toBeNull();
    }
  });

  it("authorizes per user: bob cannot read alice's conversation", async () => {
    const alice = await connect(server.url, aliceToken, { protocol: "2026-07-28" });
    const bob = await connect(server.url, bobToken, { protocol: "2026-07-28" });
    try {
      const started = await alice.client.callTool({
        name: "agent_chat",
        arguments: { message: "my secret number is 31337" },
      });
      const threadId = (started.structuredContent as { thread_id: string }).thread_id;
      const read = await bob.client.callTool({
        name: "conversation_get",
        arguments: { thread_id: threadId },
      });
      expect(read.isError).toBe(true);
      expect(textOf(read)).not.toContain("31337");
    } finally {
      await Promise.all([alice.client.close(), bob.client.close()]);
    }
  });

  it("authenticates every request: no token is a 401, a foreign Origin a 403", async () => {
    const { body, headers } = await capturedModernCall(aliceToken);
    const { authorization: _, ...anonymous } = headers;
    const unauthenticated = await postMcp(server.url, body, anonymous);
    expect(unauthenticated.status).toBe(401);
    const foreign = await postMcp(server.url, body, { ...headers, origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    const replayed = await postMcp(server.url, body, headers);
    expect(replayed.status).toBe(200);
  });

  it("accepts a request state minted for the caller and refuses it for another user", async () => {
    const { body, headers } = await capturedModernCall(aliceToken);
    const aliceState = await mintFor("user:alice");
    const withState = { ...body, params: { ...body.params, requestState: aliceState } };

    const asAlice = await postMcp(server.url, withState, headers);
    expect(asAlice.status).toBe(200);
    const aliceAnswer = (await asAlice.json()) as { result?: unknown; error?: unknown };
    expect(aliceAnswer.error).toBeUndefined();
    expect(aliceAnswer.result).toBeDefined();

    const asBob = await postMcp(server.url, withState, { ...headers, authorization: `Bearer ${bobToken}` });
    const bobAnswer = (await asBob.json()) as { error?: { code: number; message: string } };
    expect(bobAnswer.error).toMatchObject({ code: -32602, message: "Invalid or expired requestState" });
  });

  it("refuses a forged, re-keyed or misdirected request state", async () => {
    const { body, headers } = await capturedModernCall(aliceToken);
    const genuine = await mintFor("user:alice");
    const [version, payload, mac] = genuine.split(".");
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload ?? "", "base64url").toString()), p: { step: 99 } }),
    ).toString("base64url");
    const states = {
      tampered: `${version}.${forgedPayload}.${mac}`,
      otherKey: await mintFor("user:alice", "tools/call", randomBytes(32).toString("base64url")),
      otherMethod: await mintFor("user:alice", "prompts/get"),
      garbage: "not-a-state",
    };
    for (const [name, requestState] of Object.entries(states)) {
      const response = await postMcp(
        server.url,
        { ...body, params: { ...body.params, requestState } },
        headers,
      );
      const answer = (await response.json()) as { error?: { code: number } };
      expect(answer.error?.code, name).toBe(-32602);
    }
  });

  it("leaves 2025-11-25 clients on their sessions", async () => {
    const sessionsBefore = server.mcpSessionUsage().length;
    const { client } = await connect(server.url, aliceToken);
    try {
      expect(client.getProtocolEra()).toBe("legacy");
      expect(server.mcpSessionUsage().length).toBe(sessionsBefore + 1);
      const turn = await client.callTool({ name: "agent_chat", arguments: { message: "What is 6 * 7?" } });
      expect(textOf(turn)).toContain("42");
    } finally {
      await client.close();
    }
    // A request with neither a session nor a 2026-07-28 claim is still told to initialize.
    const stray = await postMcp(
      server.url,
      { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} },
      { authorization: `Bearer ${aliceToken}` },
    );
    expect(stray.status).toBe(400);
    const init = await postMcp(server.url, INITIALIZE, { authorization: `Bearer ${aliceToken}` });
    expect(init.status).toBe(200);
    expect(init.headers.get("mcp-session-id")).toBeTruthy();
  });
});

describe("subscriptions/listen for conversations on 2026-07-28 (ADR 0187)", () => {
  it("streams resources/updated after the caller's turn, and nothing of another user's conversation with the same id", async () => {
    const alice = await connect(server.url, aliceToken, { protocol: "2026-07-28" });
    const bob = await connect(server.url, bobToken, { protocol: "2026-07-28" });
    try {
      const started = await alice.client.callTool({ name: "agent_chat", arguments: { message: "2 + 2?" } });
      const threadId = (started.structuredContent as { thread_id: string }).thread_id;
      const uri = `conversation://${threadId}`;
      // Bob's own conversation under the same id: the same URI string, another conversation.
      await bob.client.callTool({
        name: "agent_chat",
        arguments: { message: "3 + 3?", thread_id: threadId },
      });
      const heard = { alice: [] as string[], bob: [] as string[] };
      alice.client.setNotificationHandler("notifications/resources/updated", (note) => {
        heard.alice.push(note.params.uri);
      });
      bob.client.setNotificationHandler("notifications/resources/updated", (note) => {
        heard.bob.push(note.params.uri);
      });
      const aliceListen = await alice.client.listen({ resourceSubscriptions: [uri] });
      const bobListen = await bob.client.listen({ resourceSubscriptions: [uri] });
      expect(aliceListen.honoredFilter.resourceSubscriptions).toEqual([uri]);

      await alice.client.callTool({
        name: "agent_chat",
        arguments: { message: "and 5 + 5?", thread_id: threadId },
      });
      await vi.waitFor(() => expect(heard.alice).toEqual([uri]), { timeout: 10_000 });
      // Bob's stream is told of his own turn, and of nothing before it.
      await bob.client.callTool({
        name: "agent_chat",
        arguments: { message: "and 7 + 7?", thread_id: threadId },
      });
      await vi.waitFor(() => expect(heard.bob).toEqual([uri]), { timeout: 10_000 });
      expect(heard.alice).toEqual([uri]);
      await Promise.all([aliceListen.close(), bobListen.close()]);
    } finally {
      await Promise.all([alice.client.close(), bob.client.close()]);
    }
  });

  it("refuses to listen to a conversation the caller may not view, or to a resource that is no conversation", async () => {
    const alice = await connect(server.url, aliceToken, { protocol: "2026-07-28" });
    const bob = await connect(server.url, bobToken, { protocol: "2026-07-28" });
    try {
      const started = await alice.client.callTool({ name: "agent_chat", arguments: { message: "mine" } });
      const threadId = (started.structuredContent as { thread_id: string }).thread_id;
      // Bob has no conversation under alice's id: her key is never his.
      await expect(
        bob.client.listen({ resourceSubscriptions: [`conversation://${threadId}`] }),
      ).rejects.toThrow();
      await expect(alice.client.listen({ resourceSubscriptions: ["file:///etc/passwd"] })).rejects.toThrow(
        /Only conversation/,
      );
    } finally {
      await Promise.all([alice.client.close(), bob.client.close()]);
    }
  });
});

/** A client model that answers every sampling request with `text`, recording what it was asked. */
function clientModel(text: string) {
  const asked: CreateMessageRequest["params"][] = [];
  const answer = async (request: CreateMessageRequest) => {
    asked.push(request.params);
    return { role: "assistant" as const, content: { type: "text" as const, text }, model: "client-model" };
  };
  return { asked, answer };
}

/** Alice's 2026-07-28 client declaring sampling, answered by `clientModel(text)`, its HTTP exchanges recorded. */
async function samplingClient(text: string) {
  const model = clientModel(text);
  const { fetcher, exchanges } = recordingFetch();
  const { client } = await connect(server.url, aliceToken, {
    protocol: "2026-07-28",
    capabilities: { sampling: {} },
    fetch: fetcher,
  });
  client.setRequestHandler("sampling/createMessage", model.answer);
  return { model, exchanges, client };
}

describe("the client's model (sampling) on 2026-07-28: input_required and a resumed turn (ADR 0185)", () => {
  it("asks the client's model through an input_required sampling/createMessage and answers with its reply", async () => {
    const { model, exchanges, client } = await samplingClient("The client's model says 42.");
    try {
      const turn = await client.callTool({ name: "agent_chat", arguments: { message: "What is 6 * 7?" } });
      expect(turn.isError).toBeFalsy();
      expect(textOf(turn)).toBe("The client's model says 42.");
      const threadId = (turn.structuredContent as { thread_id: string }).thread_id;
      const stored = await client.callTool({ name: "conversation_get", arguments: { thread_id: threadId } });
      expect(textOf(stored)).toBe("user: What is 6 * 7?\nassistant: The client's model says 42.");
    } finally {
      await client.close();
    }
    expect(model.asked).toHaveLength(1);
    expect(JSON.stringify(model.asked[0]?.messages)).toContain("What is 6 * 7?");
    // The first call was answered with input_required; the retry carried the answer and the sealed state.
    const calls = exchanges.filter((exchange) => exchange.body.includes('"tools/call"'));
    const retries = calls.filter((exchange) => exchange.body.includes('"requestState"'));
    expect(retries).toHaveLength(1);
    expect(retries[0]?.body).toContain('"inputResponses"');
  });

  it("refuses a retry that carries no answer to the sampling request, before anything runs", async () => {
    const { exchanges, client } = await samplingClient("late but right");
    try {
      await client.callTool({ name: "agent_chat", arguments: { message: "hello" } });
    } finally {
      await client.close();
    }
    const retry = exchanges.find((exchange) => exchange.body.includes('"requestState"'));
    if (!retry) throw new Error("no retry was sent");
    const body = JSON.parse(retry.body) as { params: Record<string, unknown> };
    const headers: Record<string, string> = {};
    retry.headers.forEach((value, name) => {
      headers[name] = value;
    });
    // The answers are read before the turn is touched: a retry without them is refused as such.
    const unanswered = await postMcp(
      server.url,
      { ...body, params: { ...body.params, inputResponses: {} } },
      headers,
    );
    const answer = (await unanswered.json()) as {
      result?: { isError?: boolean; structuredContent?: { error?: { code?: string } } };
    };
    expect(answer.result?.isError).toBe(true);
    expect(answer.result?.structuredContent?.error?.code).toBe("INPUT_RESPONSE_INVALID");
  });
});

const redisUp = await requireService({ name: "Redis", url: REDIS_URL });
const postgresUp = await requireService({ name: "PostgreSQL", url: DATABASE_URL });

describe.skipIf(!redisUp || !postgresUp)("a paused turn resumed on another instance (ADR 0185)", () => {
  const table = `authz_modern_test_${randomBytes(6).toString("hex")}`;
  afterAll(async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      await client.query(`DROP TABLE IF EXISTS "${table}", "${table}_changes", "${table}_version"`);
    } finally {
      await client.end();
    }
  });

  it("pauses on one instance and resumes from the shared checkpoint on the other", async () => {
    const env = {
      ...sharedRedisEnv("mcp-http-modern-test"),
      CHECKPOINTER_BACKEND: "postgres",
      DATABASE_URL,
      AUTHZ_BACKEND: "embedded",
      AUTHZ_TUPLE_TABLE: table,
      MCP_REQUEST_STATE_KEY: REQUEST_STATE_KEY,
    };
    const [first, second] = await Promise.all([startTestServer(env), startTestServer(env)]);
    try {
      const token = await login(first.url, "alice", "alice-pw");
      const balancer = roundRobinFetch([first.url, second.url]);
      const bodies: string[] = [];
      const fetcher: typeof fetch = (input, init) => {
        bodies.push(typeof init?.body === "string" ? init.body : "");
        return balancer.fetch(input, init);
      };
      const model = clientModel("Answered across instances.");
      const { client } = await connect(first.url, token, {
        protocol: "2026-07-28",
        capabilities: { sampling: {} },
        fetch: fetcher,
      });
      client.setRequestHandler("sampling/createMessage", model.answer);
      try {
        const turn = await client.callTool({ name: "agent_chat", arguments: { message: "Across?" } });
        expect(textOf(turn)).toBe("Answered across instances.");
      } finally {
        await client.close();
      }
      const calls = bodies.flatMap((body, index) => (body.includes('"tools/call"') ? [index] : []));
      expect(calls).toHaveLength(2);
      const [paused, resumed] = calls.map((index) => balancer.sent[index]);
      expect(bodies[calls[1] ?? -1]).toContain('"requestState"');
      expect(new Set([paused, resumed])).toEqual(new Set([first.url, second.url]));
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
