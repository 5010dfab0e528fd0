import { generateKeyPairSync, randomUUID } from "node:crypto";
import { roundRobinFetch } from "@mcp-langgraph/testkit/http-app";
import { REDIS_URL } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, INITIALIZE, login, postMcp, textOf, USERS } from "./helpers.ts";
import { type SpawnedApp, spawnApp } from "./spawn.ts";

const redisUp = await requireService({ name: "Redis", url: REDIS_URL });

const TOOLS_LIST = { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} };

/** A raw request on an existing session: the JSON-RPC answer's status and, when 200, its SSE data. */
async function onSession(url: string, token: string, sessionId: string, body: unknown = TOOLS_LIST) {
  const response = await postMcp(url, body, {
    authorization: `Bearer ${token}`,
    "mcp-session-id": sessionId,
    "mcp-protocol-version": "2025-11-25",
  });
  return { status: response.status, text: await response.text() };
}

async function openSession(url: string, token: string): Promise<string> {
  const response = await postMcp(url, INITIALIZE, { authorization: `Bearer ${token}` });
  expect(response.status).toBe(200);
  await response.text();
  const sessionId = response.headers.get("mcp-session-id");
  expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return sessionId as string;
}

describe.skipIf(!redisUp)(
  "MCP sessions in Redis (SESSION_BACKEND=redis): any instance serves any session",
  () => {
    let apps: SpawnedApp[];
    let urls: [string, string, string];
    let alice: string;
    let bob: string;
    const clients: Client[] = [];

    beforeAll(async () => {
      const env = {
        LOCAL_USERS: USERS,
        SESSION_BACKEND: "redis",
        REDIS_URL,
        SESSION_KEY_PREFIX: `mcp-http-test:${randomUUID()}:`,
        LOCAL_SIGNING_KEY: JSON.stringify(
          generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }),
        ),
        TOKEN_ISSUER: "http://mcp.test",
        TOKEN_AUDIENCE: "http://mcp.test/mcp",
        MCP_MAX_SESSIONS_PER_USER: "3",
      };
      apps = await Promise.all([spawnApp(env), spawnApp(env), spawnApp(env)]);
      urls = apps.map((app) => app.url) as [string, string, string];
      [alice, bob] = await Promise.all([
        login(urls[0], "alice", "alice-pw"),
        login(urls[1], "bob", "bob-pw"),
      ]);
    }, 60_000);

    afterEach(async () => {
      await Promise.allSettled(clients.splice(0).map((client) => client.close()));
    });

    afterAll(async () => {
      await Promise.allSettled(
        (apps ?? []).map(async (app) => {
          app.child.kill("SIGTERM");
          await app.exited;
        }),
      );
    });

    it("drives one session with every request on the next instance: tools, an agent turn, DELETE everywhere", async () => {
      const balancer = roundRobinFetch(urls);
      const { client, transport } = await connect(urls[0], alice, { fetch: balancer.fetch });
      clients.push(client);
      const sessionId = transport.sessionId as string;

      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain("agent_chat");
      const turn = await client.callTool({
        name: "agent_chat",
        arguments: { message: "What is (6 + 1) * 6?" },
      });
      expect(turn.isError).toBeFalsy();
      expect(textOf(turn)).toContain("42");
      // The protocol version negotiated on the first instance holds on the others (no 400 for its header).
      expect((await client.listTools()).tools.length).toBe(tools.length);
      expect(new Set(balancer.sent).size).toBe(3);

      // Every instance serves it, the ones that rebuilt it included.
      for (const url of urls) expect((await onSession(url, alice, sessionId)).status).toBe(200);

      await transport.terminateSession();
      for (const url of urls) {
        const after = await onSession(url, alice, sessionId);
        expect(after.status).toBe(404);
        expect(after.text).toContain("Session not found");
      }
    });

    it("never answers another user: the same 404 as an unknown id, on the opening instance and the others", async () => {
      const sessionId = await openSession(urls[0], alice);
      for (const url of urls) {
        const stolen = await onSession(url, bob, sessionId);
        expect(stolen.status).toBe(404);
        expect(stolen.text).toContain("Session not found");
        // Nor a DELETE: the owner's session goes on.
        const response = await fetch(`${url}/mcp`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${bob}`, "mcp-session-id": sessionId },
        });
        expect(response.status).toBe(404);
      }
      expect((await onSession(urls[2], alice, sessionId)).status).toBe(200);
      for (const unknown of ["x".repeat(43), "not-an-id"]) {
        expect((await onSession(urls[1], alice, unknown)).status).toBe(404);
      }
    });

    it("keeps a user under MCP_MAX_SESSIONS_PER_USER across instances, least recently used closed first", async () => {
      const carol = await login(urls[2], "carol", "carol-pw");
      const first = await openSession(urls[0], carol);
      const second = await openSession(urls[1], carol);
      const third = await openSession(urls[2], carol);
      // The first is used again (on another instance): the second is now the least recently used.
      expect((await onSession(urls[1], carol, first)).status).toBe(200);
      const fourth = await openSession(urls[0], carol);
      for (const url of urls) expect((await onSession(url, carol, second)).status).toBe(404);
      for (const id of [first, third, fourth]) expect((await onSession(urls[2], carol, id)).status).toBe(200);
    });

    it("an initialize the transport refuses keeps no session: it counts toward no cap", async () => {
      const kept = await openSession(urls[0], bob);
      for (const url of [...urls, urls[0]]) {
        // Accepts only JSON: 406 after the session was registered, which then goes again.
        const refused = await fetch(`${url}/mcp`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${bob}`,
            "content-type": "application/json",
            accept: "application/json",
          },
          body: JSON.stringify(INITIALIZE),
        });
        expect(refused.status).toBe(406);
        expect(refused.headers.get("mcp-session-id")).toBeNull();
      }
      // Four refused opens with a cap of three would have evicted it had they been kept.
      expect((await onSession(urls[1], bob, kept)).status).toBe(200);
    });
  },
);
