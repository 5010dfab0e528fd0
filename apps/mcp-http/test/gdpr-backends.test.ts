import { OwnPostgresServer, requirePostgresBinaries } from "@mcp-langgraph/testkit/postgres";
import { REDIS_URL, redisKeyspace } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, INITIALIZE, login, postMcp, startTestServer, textOf } from "./helpers.ts";

const canRun = requirePostgresBinaries() && (await requireService({ name: "Redis", url: REDIS_URL }));

describe.skipIf(!canRun)("GDPR erase with Postgres checkpoints and tuples, Redis sessions and keys", () => {
  // A private Postgres this test may stop: the erase must meet an outage half-way.
  let postgres: OwnPostgresServer;
  let server: RunningHttpServer;
  const keyspace = redisKeyspace("gdpr");

  beforeAll(async () => {
    postgres = await OwnPostgresServer.start();
    server = await startTestServer({
      API_KEYS: "on",
      SESSION_BACKEND: "redis",
      REDIS_URL,
      SESSION_KEY_PREFIX: keyspace.uniquePrefix(),
      CHECKPOINTER_BACKEND: "postgres",
      DATABASE_URL: postgres.url,
      USER_DATA_TIMEOUT_MS: "2000",
    });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await Promise.allSettled([postgres?.dispose(), keyspace.cleanup()]);
  });

  const call = (token: string, method: string, path: string) =>
    fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });

  async function chat(token: string, threadId: string, message: string) {
    const { client } = await connect(server.url, token);
    try {
      return await client.callTool({ name: "agent_chat", arguments: { message, thread_id: threadId } });
    } finally {
      await client.close();
    }
  }

  async function read(token: string, threadId: string) {
    const { client } = await connect(server.url, token);
    try {
      return await client.callTool({ name: "conversation_get", arguments: { thread_id: threadId } });
    } finally {
      await client.close();
    }
  }

  it("answers 503 with Retry-After while Postgres is down, keeps the token for the retry, and the retry erases", async () => {
    const alice = await login(server.url, "alice", "alice-pw");
    const bob = await login(server.url, "bob", "bob-pw");
    expect((await chat(alice, "alice-pg", "hello from alice-marker")).isError).toBeFalsy();
    expect((await chat(bob, "bob-pg", "hello from bob-marker")).isError).toBeFalsy();
    const created = await fetch(`${server.url}/auth/api-keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
      body: "{}",
    });
    const { api_key: aliceKey } = (await created.json()) as { api_key: string };

    const exported = await call(alice, "GET", "/api/v1/users/me/export");
    expect(exported.status).toBe(200);
    const doc = (await exported.json()) as { conversations: { thread_id: string }[]; api_keys: unknown[] };
    expect(doc.conversations.map((conversation) => conversation.thread_id)).toEqual(["alice-pg"]);
    expect(doc.api_keys).toHaveLength(1);

    await postgres.stop();
    let failed: Response;
    try {
      failed = await call(alice, "DELETE", "/api/v1/users/me");
    } finally {
      await postgres.start();
    }
    expect(failed.status).toBe(503);
    expect(Number(failed.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await failed.json()) as { error: string }).error).toBe("temporarily_unavailable");

    // Login sessions go last, so the same token retries; the pools reconnect to the restarted server.
    let retried: Response | undefined;
    for (let attempt = 0; attempt < 20 && retried?.status !== 200; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 500));
      retried = await call(alice, "DELETE", "/api/v1/users/me");
    }
    expect(retried?.status).toBe(200);

    expect((await call(alice, "GET", "/api/v1/users/me/export")).status).toBe(401);
    expect((await postMcp(server.url, INITIALIZE, { authorization: `Bearer ${aliceKey}` })).status).toBe(401);
    const fresh = await login(server.url, "alice", "alice-pw");
    expect((await read(fresh, "alice-pg")).isError).toBe(true);
    const empty = (await (await call(fresh, "GET", "/api/v1/users/me/export")).json()) as {
      conversations: unknown[];
      authorization_tuples: unknown[];
    };
    expect(empty.conversations).toEqual([]);
    expect(empty.authorization_tuples).toEqual([]);

    const bobs = await read(bob, "bob-pg");
    expect(bobs.isError).toBeFalsy();
    expect(textOf(bobs)).toContain("bob-marker");
  }, 120_000);
});
