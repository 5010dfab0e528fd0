import { randomBytes, randomUUID } from "node:crypto";
import { createOfflineChatModel } from "@mcp-langgraph/llm-factory";
import { requireService } from "@mcp-langgraph/tooling/integration";
import pg from "pg";
import { afterAll, describe, expect, it, vi } from "vitest";
import { type ClosableCheckpointer, createAgent, createCheckpointer, isAgentError } from "../src/index.ts";
import { describeAgentContract } from "./agent-contract.ts";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const available = await requireService({ name: "Postgres", url: DATABASE_URL });

/** Savers over one fresh schema; each stands for another process sharing the database. */
function postgresSchema() {
  const schema = `agent_contract_${randomBytes(6).toString("hex")}`;
  const opened: ClosableCheckpointer[] = [];
  return {
    async open() {
      const saver = await createCheckpointer({
        backend: "postgres",
        connectionString: DATABASE_URL,
        schema,
        poolSize: 4,
      });
      opened.push(saver);
      return saver;
    },
    async closeAll() {
      await Promise.all(opened.map((saver) => saver.close()));
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

describeAgentContract("the Postgres checkpointer", async () => postgresSchema(), { skip: !available });

describe.skipIf(!available)("conversation reads on Postgres", () => {
  const database = postgresSchema();
  afterAll(() => database.closeAll());

  it("ping answers true while Postgres answers, false (never a throw) when it cannot", async () => {
    const saver = await database.open();
    expect(await saver.ping({ signal: AbortSignal.timeout(5_000) })).toBe(true);
    expect(await saver.ping({ signal: AbortSignal.abort() })).toBe(false);
    const other = postgresSchema();
    const closed = await other.open();
    await other.closeAll();
    expect(await closed.ping()).toBe(false);
  });

  it("refuses a conversation cache: other processes write the threads", async () => {
    const saver = await database.open();
    let error: unknown;
    try {
      createAgent({ model: createOfflineChatModel(), checkpointer: saver, conversationCache: {} });
    } catch (thrown) {
      error = thrown;
    }
    expect(isAgentError(error) && error.code).toBe("AGENT_INPUT_INVALID");
  });

  it("reads every time from the database, so another process's turn shows at once", async () => {
    const [here, elsewhere] = [await database.open(), await database.open()];
    const reads = vi.spyOn(here, "getTuple");
    const reader = createAgent({ model: createOfflineChatModel(), checkpointer: here });
    const writer = createAgent({ model: createOfflineChatModel(), checkpointer: elsewhere });
    const threadId = `thread-${randomUUID()}`;
    await writer.chat({ threadId, message: "hello" });
    expect(await reader.getConversation(threadId)).toHaveLength(2);
    expect(await reader.getConversation(threadId)).toHaveLength(2);
    await writer.chat({ threadId, message: "what is 6*7?" });
    expect(await reader.getConversation(threadId)).toEqual(await writer.getConversation(threadId));
    expect(await reader.getConversation(threadId)).toHaveLength(6);
    expect(await reader.searchConversations([threadId], "6*7")).toHaveLength(2);
    expect(reads).toHaveBeenCalledTimes(5);
  });
});
