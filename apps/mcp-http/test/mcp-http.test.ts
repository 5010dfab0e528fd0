import { AGENT_TOOL_NAMES } from "@mcp-langgraph/mcp-server";
import { expectBadCallsRefused } from "@mcp-langgraph/testkit/mcp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, INITIALIZE, login, postMcp, startTestServer, textOf } from "./helpers.ts";

let server: RunningHttpServer;
let aliceToken: string;
let bobToken: string;
let carolToken: string;

beforeAll(async () => {
  server = await startTestServer();
  [aliceToken, bobToken, carolToken] = await Promise.all([
    login(server.url, "alice", "alice-pw"),
    login(server.url, "bob", "bob-pw"),
    login(server.url, "carol", "carol-pw"),
  ]);
});
afterAll(async () => {
  await server?.close();
});

describe("health and discovery", () => {
  it("answers liveness and readiness without a token", async () => {
    const live = await fetch(`${server.url}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${server.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: "ready",
      checks: { sessionStore: true, authorizer: true, checkpointer: true },
    });
  });

  it("publishes the public signing keys and the protected-resource metadata", async () => {
    const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as {
      keys: { d?: string }[];
    };
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect(jwks.keys.every((key) => key.d === undefined)).toBe(true);
    const metadata = (await (await fetch(`${server.url}/.well-known/oauth-protected-resource`)).json()) as {
      resource: string;
    };
    expect(metadata.resource).toMatch(/\/mcp$/);
  });
});

describe("login", () => {
  it("issues a bearer token for valid credentials", async () => {
    const response = await fetch(`${server.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "alice", password: "alice-pw" }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.token_type).toBe("Bearer");
    expect(typeof body.access_token).toBe("string");
    expect(body.expires_in).toBeGreaterThan(0);
  });

  it("refuses a wrong password and an unknown user with the same answer", async () => {
    const attempt = (username: string, password: string) =>
      fetch(`${server.url}/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password }),
      });
    const [wrongPassword, unknownUser] = await Promise.all([
      attempt("alice", "nope"),
      attempt("mallory", "nope"),
    ]);
    expect(wrongPassword.status).toBe(401);
    expect(unknownUser.status).toBe(401);
    expect(await wrongPassword.json()).toEqual(await unknownUser.json());
  });

  it("rejects a malformed login body with 400", async () => {
    const response = await fetch(`${server.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(response.status).toBe(400);
  });
});

describe("authentication of /mcp", () => {
  it("answers 401 with a WWW-Authenticate challenge when no token is sent", async () => {
    const response = await postMcp(server.url, INITIALIZE);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(
      /^Bearer resource_metadata="http:.*oauth-protected-resource"/,
    );
  });

  it("answers 401 invalid_token for a forged or garbled token", async () => {
    const [header, payload] = aliceToken.split(".");
    const forged = `${header}.${payload}.${"A".repeat(86)}`;
    for (const token of [forged, "not-a-jwt", `${aliceToken}x`]) {
      const response = await postMcp(server.url, INITIALIZE, { authorization: `Bearer ${token}` });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
  });

  it("answers 401 once the login session behind a token has expired", async () => {
    const shortLived = await startTestServer({ SESSION_TTL_SECONDS: "1" });
    try {
      const token = await login(shortLived.url, "alice", "alice-pw");
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const response = await postMcp(shortLived.url, INITIALIZE, { authorization: `Bearer ${token}` });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
    } finally {
      await shortLived.close();
    }
  });

  it("stops accepting a token once its login session is logged out", async () => {
    const token = await login(server.url, "bob", "bob-pw");
    expect((await postMcp(server.url, INITIALIZE, { authorization: `Bearer ${token}` })).status).toBe(200);
    const logout = await fetch(`${server.url}/auth/logout`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(logout.status).toBe(204);
    expect((await postMcp(server.url, INITIALIZE, { authorization: `Bearer ${token}` })).status).toBe(401);
  });
});

describe("the agent over MCP", () => {
  it("lists the agent tools and runs the agent through the calculator", async () => {
    const { client } = await connect(server.url, aliceToken);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual([...AGENT_TOOL_NAMES].sort());

      const result = await client.callTool({
        name: "agent_chat",
        arguments: { message: "What is (6 + 1) * 6?" },
      });
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toContain("42");
      const threadId = (result.structuredContent as { thread_id: string }).thread_id;

      const follow = await client.callTool({
        name: "agent_chat",
        arguments: { message: "and 2^10?", thread_id: threadId },
      });
      expect(textOf(follow)).toContain("1024");

      const conversation = await client.callTool({
        name: "conversation_get",
        arguments: { thread_id: threadId },
      });
      const transcript = textOf(conversation);
      expect(transcript).toContain("What is (6 + 1) * 6?");
      expect(transcript).toContain("and 2^10?");

      const search = await client.callTool({ name: "conversation_search", arguments: { query: "2^10" } });
      expect(textOf(search)).toContain(threadId);
    } finally {
      await client.close();
    }
  });

  it("keeps conversations private to their owner", async () => {
    const alice = await connect(server.url, aliceToken);
    const bob = await connect(server.url, bobToken);
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

      // Thread ids are per user: the same id starts Bob's own conversation and tells him nothing of Alice's.
      const write = await bob.client.callTool({
        name: "agent_chat",
        arguments: { message: "hijack", thread_id: threadId },
      });
      expect(write.structuredContent).toMatchObject({ thread_id: threadId, created: true });
      expect(textOf(write)).not.toContain("31337");

      const search = await bob.client.callTool({
        name: "conversation_search",
        arguments: { query: "31337" },
      });
      expect(textOf(search)).not.toContain(threadId);

      const still = await alice.client.callTool({
        name: "conversation_get",
        arguments: { thread_id: threadId },
      });
      expect(textOf(still)).not.toContain("hijack");
    } finally {
      await Promise.all([alice.client.close(), bob.client.close()]);
    }
  });

  it("refuses a tool the user may not execute, writes nothing, and keeps serving", async () => {
    const carol = await connect(server.url, carolToken);
    const alice = await connect(server.url, aliceToken);
    try {
      const denied = await carol.client.callTool({
        name: "agent_chat",
        arguments: { message: "1+1", thread_id: "carol-first-thread" },
      });
      expect(denied.isError).toBe(true);
      expect(textOf(denied)).toMatch(/not allowed/);
      // The denied call claimed nothing: the thread id is still free for someone else.
      const claimed = await alice.client.callTool({
        name: "agent_chat",
        arguments: { message: "1+1", thread_id: "carol-first-thread" },
      });
      expect(claimed.isError).toBeFalsy();
      expect((claimed.structuredContent as { created: boolean }).created).toBe(true);
    } finally {
      await Promise.all([carol.client.close(), alice.client.close()]);
    }
  });

  it("refuses another user's MCP session id with 404", async () => {
    const alice = await connect(server.url, aliceToken);
    try {
      const sessionId = alice.transport.sessionId;
      expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const hijack = await postMcp(
        server.url,
        { jsonrpc: "2.0", id: 9, method: "tools/list" },
        {
          authorization: `Bearer ${bobToken}`,
          "mcp-session-id": sessionId ?? "",
          "mcp-protocol-version": "2025-11-25",
        },
      );
      expect(hijack.status).toBe(404);
      const owner = await alice.client.listTools();
      expect(owner.tools.length).toBe(3);
    } finally {
      await alice.client.close();
    }
  });
});

describe("bad input", () => {
  const auth = () => ({ authorization: `Bearer ${aliceToken}` });

  it("answers malformed JSON with 400 and JSON-RPC -32700", async () => {
    const response = await postMcp(server.url, '{"jsonrpc": "2.0", "id": 1, "method": ', auth());
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });

  it("answers a request that is not JSON-RPC with 400", async () => {
    const response = await postMcp(server.url, { hello: "world" }, auth());
    expect(response.status).toBe(400);
  });

  it("answers an oversized body with 413", async () => {
    const small = await startTestServer({ MAX_BODY_BYTES: "2048" });
    try {
      const token = await login(small.url, "alice", "alice-pw");
      const big = { ...INITIALIZE, params: { ...INITIALIZE.params, padding: "x".repeat(4096) } };
      const response = await postMcp(small.url, big, { authorization: `Bearer ${token}` });
      expect(response.status).toBe(413);
    } finally {
      await small.close();
    }
  });

  it("reports an unknown tool as JSON-RPC -32602 and schema-violating arguments as isError results, and keeps serving", async () => {
    const { client } = await connect(server.url, aliceToken);
    try {
      await expectBadCallsRefused(client);
      expect((await client.listTools()).tools.length).toBe(3);
    } finally {
      await client.close();
    }
  });

  it("rejects a request without a session id that is not an initialize", async () => {
    const response = await postMcp(server.url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, auth());
    expect(response.status).toBe(400);
  });
});

describe("Host and Origin validation", () => {
  it("answers 403 to a foreign Host header (DNS rebinding)", async () => {
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${server.url}/health/live`);
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, headers: { host: "evil.example" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it("answers 403 to a foreign Origin and accepts a loopback one", async () => {
    const foreign = await postMcp(server.url, INITIALIZE, {
      authorization: `Bearer ${aliceToken}`,
      origin: "https://evil.example",
    });
    expect(foreign.status).toBe(403);
    const local = await postMcp(server.url, INITIALIZE, {
      authorization: `Bearer ${aliceToken}`,
      origin: "http://localhost:6274",
    });
    expect(local.status).toBe(200);
  });
});
