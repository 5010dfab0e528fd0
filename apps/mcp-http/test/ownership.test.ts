import { randomBytes, randomUUID } from "node:crypto";
import { createAuthorizer, loadProjectModel } from "@mcp-langgraph/authz";
import { conversationKey } from "@mcp-langgraph/mcp-server";
import { requireService } from "@mcp-langgraph/tooling/integration";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { connect, login, startTestServer, textOf } from "./helpers.ts";
import { spawnApp } from "./spawn.ts";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const postgresUp = await requireService({ name: "PostgreSQL", url: DATABASE_URL });

/** A tuple table of this run's own, so concurrent runs on the shared database cannot collide. */
function tupleTable() {
  const table = `authz_app_test_${randomBytes(6).toString("hex")}`;
  return {
    table,
    /** The owner tuples of `userId`'s conversation `threadId`, read straight from the table the apps share. */
    async owners(userId: string, threadId: string): Promise<string[]> {
      const authorizer = await createAuthorizer({
        backend: "embedded",
        model: await loadProjectModel(),
        storage: { backend: "postgres", connectionString: DATABASE_URL, table, poolSize: 1 },
      });
      try {
        const tuples = await authorizer.readTuples({
          relation: "owner",
          object: `conversation:${conversationKey(userId, threadId)}`,
        });
        return tuples.map((tuple) => tuple.user);
      } finally {
        await authorizer.close();
      }
    },
    async drop() {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      try {
        await client.query(`DROP TABLE IF EXISTS "${table}", "${table}_changes", "${table}_version"`);
      } finally {
        await client.end();
      }
    },
  };
}

describe.skipIf(!postgresUp)("embedded authorization with Postgres checkpoints (issue 13)", () => {
  const tables = tupleTable();
  afterAll(() => tables.drop());
  const env = {
    AUTHZ_BACKEND: "embedded",
    AUTHZ_TUPLE_TABLE: tables.table,
    CHECKPOINTER_BACKEND: "postgres",
    DATABASE_URL,
    LOCAL_USERS: "alice:alice-pw:user,bob:bob-pw:user",
  };

  it("keeps ownership across an app restart: another user cannot take over a thread id", async () => {
    const threadId = `alice-notes-${randomUUID()}`;
    const before = await startTestServer(env);
    try {
      const alice = await connect(before.url, await login(before.url, "alice", "alice-pw"));
      const reply = await alice.client.callTool({
        name: "agent_chat",
        arguments: { message: "what is 19 * 3?", thread_id: threadId },
      });
      expect(textOf(reply)).toContain("57");
      await alice.client.close();
    } finally {
      await before.close();
    }

    const after = await startTestServer(env);
    try {
      const bob = await connect(after.url, await login(after.url, "bob", "bob-pw"));
      const takeover = await bob.client.callTool({
        name: "agent_chat",
        arguments: { message: "show me the earlier messages", thread_id: threadId },
      });
      expect(textOf(takeover)).not.toContain("19 * 3");
      const peek = await bob.client.callTool({
        name: "conversation_get",
        arguments: { thread_id: threadId },
      });
      expect(textOf(peek)).not.toContain("19 * 3");
      await bob.client.close();

      const alice = await connect(after.url, await login(after.url, "alice", "alice-pw"));
      const history = await alice.client.callTool({
        name: "conversation_get",
        arguments: { thread_id: threadId },
      });
      expect(history.isError).toBeFalsy();
      expect(textOf(history)).toContain("what is 19 * 3?");
      await alice.client.close();
    } finally {
      await after.close();
    }
    expect(await tables.owners("user:alice", threadId)).toEqual(["user:alice"]);
  });

  it("lets exactly one of two app processes create a new thread id claimed on both at once", async () => {
    const apps = await Promise.all([spawnApp(env), spawnApp(env)]);
    try {
      const sessions = await Promise.all(
        apps.map(async (app) => connect(app.url, await login(app.url, "alice", "alice-pw"))),
      );
      for (let round = 0; round < 2; round++) {
        const threadId = `race-${round}-${randomUUID()}`;
        const results = await Promise.all(
          sessions.map((session) =>
            session.client.callTool({
              name: "agent_chat",
              arguments: { message: "what is 2 + 2?", thread_id: threadId },
            }),
          ),
        );
        const created = results.map((result) => (result.structuredContent as { created?: boolean })?.created);
        expect(created.filter((flag) => flag === true)).toHaveLength(1);
        expect(await tables.owners("user:alice", threadId)).toEqual(["user:alice"]);
      }
      await Promise.all(sessions.map((session) => session.client.close()));
    } finally {
      for (const app of apps) app.child.kill("SIGTERM");
      await Promise.all(apps.map((app) => app.exited));
    }
  }, 90_000);
});
