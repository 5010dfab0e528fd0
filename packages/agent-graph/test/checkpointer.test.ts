import { randomBytes } from "node:crypto";
import { MemorySaver } from "@langchain/langgraph";
import { createOfflineChatModel } from "@mcp-langgraph/llm-factory";
import { codeOf } from "@mcp-langgraph/testkit/errors";
import { requireService } from "@mcp-langgraph/tooling/integration";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createAgent, createCheckpointer, isAgentError } from "../src/index.ts";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

describe("createCheckpointer configuration", () => {
  it('builds an in-memory saver for backend "memory"', async () => {
    const saver = await createCheckpointer({ backend: "memory" });
    expect(saver).toBeInstanceOf(MemorySaver);
    await saver.close();
  });

  it.each([
    [{ backend: "redis" }],
    [undefined],
    [{ backend: "postgres", connectionString: "mysql://localhost/db" }],
    [{ backend: "postgres", connectionString: 42 }],
    [{ backend: "postgres", connectionString: DATABASE_URL, schema: 'x"; DROP TABLE users; --' }],
    [{ backend: "postgres", connectionString: DATABASE_URL, schema: "1starts_with_digit" }],
    [{ backend: "postgres", connectionString: DATABASE_URL, schema: "a".repeat(64) }],
    [{ backend: "postgres", connectionString: DATABASE_URL, poolSize: 0 }],
    [{ backend: "postgres", connectionString: DATABASE_URL, queryTimeoutMs: 1.5 }],
  ])("rejects %j with CHECKPOINTER_CONFIG_INVALID", async (config) => {
    expect(await codeOf(createCheckpointer(config as never), isAgentError)).toBe(
      "CHECKPOINTER_CONFIG_INVALID",
    );
  });

  it("fails with CHECKPOINTER_UNAVAILABLE when Postgres cannot be reached", async () => {
    const unreachable = "postgres://postgres@127.0.0.1:1/test";
    const attempt = createCheckpointer({
      backend: "postgres",
      connectionString: unreachable,
      connectTimeoutMs: 500,
    });
    expect(await codeOf(attempt, isAgentError)).toBe("CHECKPOINTER_UNAVAILABLE");
  });

  it("never puts connection details in the error message", async () => {
    const secretUrl = "postgres://postgres:hunter2-secret@127.0.0.1:1/test";
    try {
      await createCheckpointer({ backend: "postgres", connectionString: secretUrl, connectTimeoutMs: 500 });
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain("hunter2");
      expect(JSON.stringify((error as { details?: unknown }).details ?? {})).not.toContain("hunter2");
    }
  });
});

const available = await requireService({ name: "Postgres", url: DATABASE_URL });

describe.skipIf(!available)("Postgres checkpointer against a real server", () => {
  const schema = `agent_ckpt_${randomBytes(6).toString("hex")}`;
  const config = { backend: "postgres", connectionString: DATABASE_URL, schema } as const;

  afterAll(async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it("regression: processes starting at once raced the migrations; setup now runs under an advisory lock", async () => {
    const savers = await Promise.all([
      createCheckpointer(config),
      createCheckpointer(config),
      createCheckpointer(config),
    ]);
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    const { rows } = await client.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
      [schema],
    );
    await client.end();
    expect(rows.map((row) => row.table_name)).toEqual([
      "checkpoint_blobs",
      "checkpoint_migrations",
      "checkpoint_writes",
      "checkpoints",
    ]);
    await Promise.all(savers.map((saver) => saver.close()));
  });

  let locker: pg.Client;
  const lockTables = async (mode = "ACCESS EXCLUSIVE") => {
    locker = new pg.Client({ connectionString: DATABASE_URL });
    await locker.connect();
    await locker.query("BEGIN");
    await locker.query(`LOCK TABLE "${schema}".checkpoints IN ${mode} MODE`);
  };
  const unlockTables = async () => {
    await locker.query("ROLLBACK");
    await locker.end();
  };

  describe("while another session holds the checkpoint tables locked", () => {
    it("a read gives up at the agent's read deadline with AGENT_TIMEOUT", async () => {
      const saver = await createCheckpointer(config);
      const agent = createAgent({ model: createOfflineChatModel(), checkpointer: saver, readTimeoutMs: 300 });
      await lockTables();
      try {
        expect(await codeOf(agent.getConversation("locked-read"), isAgentError)).toBe("AGENT_TIMEOUT");
      } finally {
        await unlockTables();
        await saver.close();
      }
    });

    it("a query gives up at queryTimeoutMs with CHECKPOINTER_UNAVAILABLE", async () => {
      const saver = await createCheckpointer({ ...config, queryTimeoutMs: 300 });
      await lockTables();
      try {
        const read = saver.getTuple({ configurable: { thread_id: "locked-query", checkpoint_ns: "" } });
        expect(await codeOf(read, isAgentError)).toBe("CHECKPOINTER_UNAVAILABLE");
      } finally {
        await unlockTables();
        await saver.close();
      }
    });
  });

  it("regression: Postgres dropping a connection checked out mid-query crashed the process (unhandled 'error'); now the call fails typed and the next one reconnects", async () => {
    const saver = await createCheckpointer({ ...config, poolSize: 2 });
    const thread = (id: string) => ({ configurable: { thread_id: id, checkpoint_ns: "" } });
    // SHARE lets reads through and blocks writes: put() checks a client out of the pool, opens a
    // transaction and waits on the lock there.
    await lockTables("SHARE");
    try {
      const agent = createAgent({ model: createOfflineChatModel(), checkpointer: saver });
      const blocked = codeOf(agent.chat({ threadId: "killed-mid-query", message: "hello" }), isAgentError);
      const killed = await terminateWaitersOn(schema);
      expect(killed).toBeGreaterThan(0);
      expect(await blocked).toBe("CHECKPOINTER_UNAVAILABLE");
    } finally {
      await unlockTables();
    }
    // A client's "error" is emitted after its query is rejected: give it a turn to surface.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await saver.getTuple(thread("killed-mid-query"))).toBeUndefined();
    await saver.close();
  });

  it("works with a pool of one connection (setup locks on its own connection)", async () => {
    const saver = await createCheckpointer({ ...config, poolSize: 1, setupTimeoutMs: 5_000 });
    const agent = createAgent({ model: createOfflineChatModel(), checkpointer: saver });
    expect((await agent.chat({ threadId: "pool-of-one", message: "what is 6*7?" })).reply).toContain("42");
    await saver.close();
  });

  it("turns a store failure into CHECKPOINTER_UNAVAILABLE for the agent's callers", async () => {
    const saver = await createCheckpointer(config);
    const agent = createAgent({ model: createOfflineChatModel(), checkpointer: saver });
    await agent.chat({ threadId: "closed-pool", message: "hello" });
    await saver.close();
    expect(await codeOf(agent.getConversation("closed-pool"), isAgentError)).toBe("CHECKPOINTER_UNAVAILABLE");
    expect(await codeOf(agent.chat({ threadId: "closed-pool", message: "hello" }), isAgentError)).toBe(
      "CHECKPOINTER_UNAVAILABLE",
    );
    expect(await codeOf(agent.searchConversations(["closed-pool"], "hello"), isAgentError)).toBe(
      "CHECKPOINTER_UNAVAILABLE",
    );
  });
});

/**
 * Terminates the backends waiting for a lock on a table of `schema` (ours only: the database is
 * shared with other suites), as a server shutdown would, and returns how many it ended.
 */
async function terminateWaitersOn(schema: string): Promise<number> {
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      const { rows } = await admin.query(
        `SELECT pg_terminate_backend(l.pid) AS ended FROM pg_locks l
           JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND NOT l.granted`,
        [schema],
      );
      if (rows.length > 0) return rows.length;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return 0;
  } finally {
    await admin.end();
  }
}
