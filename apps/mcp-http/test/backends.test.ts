import { startFgaDevServer } from "@mcp-langgraph/authz/dev-server";
import { OwnRedisServer, REDIS_URL } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { describe, expect, it } from "vitest";
import { connect, INITIALIZE, login, postMcp, sharedRedisEnv, startTestServer, textOf } from "./helpers.ts";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const redisUp = await requireService({ name: "Redis", url: REDIS_URL });
const postgresUp = await requireService({ name: "PostgreSQL", url: DATABASE_URL });

describe.skipIf(!redisUp)("login sessions in Redis (SESSION_BACKEND=redis)", () => {
  it("shares sessions between instances with one signing key, and logout on one ends the token on both", async () => {
    const env = sharedRedisEnv();
    const [first, second] = await Promise.all([startTestServer(env), startTestServer(env)]);
    try {
      const token = await login(first.url, "alice", "alice-pw");
      const auth = { authorization: `Bearer ${token}` };
      expect((await postMcp(second.url, INITIALIZE, auth)).status).toBe(200);
      const logout = await fetch(`${first.url}/auth/logout`, { method: "POST", headers: auth });
      expect(logout.status).toBe(204);
      expect((await postMcp(second.url, INITIALIZE, auth)).status).toBe(401);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe.skipIf(!redisUp)("a session store that goes down", () => {
  it("answers 503 (fail closed) while Redis is down, never accepting the token", async () => {
    // A redis-server of this test's own (the testkit's spawner): it is killed mid-test.
    const redis = await OwnRedisServer.start();
    try {
      const app = await startTestServer({ SESSION_BACKEND: "redis", REDIS_URL: redis.url });
      try {
        const token = await login(app.url, "alice", "alice-pw");
        const auth = { authorization: `Bearer ${token}` };
        expect((await postMcp(app.url, INITIALIZE, auth)).status).toBe(200);
        await redis.stop();
        const down = await postMcp(app.url, INITIALIZE, auth);
        expect(down.status).toBe(503);
      } finally {
        await app.close();
      }
    } finally {
      await redis.dispose();
    }
  });
});

describe.skipIf(!postgresUp)(
  "OpenFGA API authorization (served by the project's own dev server, not a real OpenFGA) and Postgres checkpoints",
  () => {
    it("keeps conversations and their ownership across an app restart", async () => {
      const fga = await startFgaDevServer({ port: 0 });
      // One store for both runs (as an operator sets OPENFGA_STORE_ID), created through the OpenFGA HTTP API.
      const created = await fetch(`${fga.url}/stores`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "mcp-http-restart-test" }),
      });
      const { id: storeId } = (await created.json()) as { id: string };
      const env = {
        AUTHZ_BACKEND: "openfga",
        OPENFGA_API_URL: fga.url,
        OPENFGA_STORE_ID: storeId,
        CHECKPOINTER_BACKEND: "postgres",
        DATABASE_URL,
        LOCAL_USERS: "alice:alice-pw:user,bob:bob-pw:user",
      };
      try {
        let threadId: string;
        const before = await startTestServer(env);
        try {
          const alice = await connect(before.url, await login(before.url, "alice", "alice-pw"));
          const reply = await alice.client.callTool({
            name: "agent_chat",
            arguments: { message: "what is 19 * 3?" },
          });
          expect(textOf(reply)).toContain("57");
          threadId = (reply.structuredContent as { thread_id: string }).thread_id;
          await alice.client.close();
        } finally {
          await before.close();
        }

        const after = await startTestServer(env);
        try {
          const alice = await connect(after.url, await login(after.url, "alice", "alice-pw"));
          const bob = await connect(after.url, await login(after.url, "bob", "bob-pw"));
          const history = await alice.client.callTool({
            name: "conversation_get",
            arguments: { thread_id: threadId },
          });
          expect(textOf(history)).toContain("what is 19 * 3?");
          const stolen = await bob.client.callTool({
            name: "conversation_get",
            arguments: { thread_id: threadId },
          });
          expect(stolen.isError).toBe(true);
          await Promise.all([alice.client.close(), bob.client.close()]);
        } finally {
          await after.close();
        }
      } finally {
        await fga.close();
      }
    });
  },
);
