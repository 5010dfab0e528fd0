import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOfflineChatModel } from "@mcp-langgraph/llm-factory";
import { codeOf } from "@mcp-langgraph/testkit/errors";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { type ClosableCheckpointer, createAgent, createCheckpointer, isAgentError } from "../src/index.ts";
import { describeAgentContract } from "./agent-contract.ts";

const root = mkdtempSync(join(tmpdir(), "agent-sqlite-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let files = 0;

/** Savers over one fresh database file; each open() is another connection, as another process would hold. */
function sqliteFile(path = join(root, `threads-${++files}.sqlite`)) {
  const opened: ClosableCheckpointer[] = [];
  return {
    path,
    async open() {
      const saver = await createCheckpointer({ backend: "sqlite", path });
      opened.push(saver);
      return saver;
    },
    async closeAll() {
      await Promise.all(opened.map((saver) => saver.close()));
    },
  };
}

describeAgentContract("the SQLite checkpointer", async () => sqliteFile());

describe("SQLite checkpointer", () => {
  it.each([
    [{ backend: "sqlite" }],
    [{ backend: "sqlite", path: "" }],
    [{ backend: "sqlite", path: 42 }],
    [{ backend: "sqlite", path: join(root, "x.sqlite"), busyTimeoutMs: 0 }],
    [{ backend: "sqlite", path: join(root, "x.sqlite"), busyTimeoutMs: 1.5 }],
  ])("rejects %j with CHECKPOINTER_CONFIG_INVALID", async (config) => {
    expect(await codeOf(createCheckpointer(config as never), isAgentError)).toBe(
      "CHECKPOINTER_CONFIG_INVALID",
    );
  });

  it("creates the missing directories of its path", async () => {
    const database = sqliteFile(join(root, "nested", "deeper", "threads.sqlite"));
    const saver = await database.open();
    expect(await saver.ping()).toBe(true);
    await database.closeAll();
  });

  it("refuses, at creation and naming the path, a path it cannot write", async () => {
    const notADirectory = join(root, "plain-file");
    writeFileSync(notADirectory, "");
    const path = join(notADirectory, "threads.sqlite");
    const error = await createCheckpointer({ backend: "sqlite", path }).catch((thrown: unknown) => thrown);
    expect(isAgentError(error) && error.code).toBe("CHECKPOINTER_UNAVAILABLE");
    expect((error as Error).message).toContain(path);
  });

  it("refuses a file that is not a SQLite database", async () => {
    const path = join(root, "not-sqlite.sqlite");
    writeFileSync(path, "this is not a database ".repeat(100));
    expect(await codeOf(createCheckpointer({ backend: "sqlite", path }), isAgentError)).toBe(
      "CHECKPOINTER_UNAVAILABLE",
    );
  });

  it("keeps threads across a reopen of the same file (a restart)", async () => {
    const database = sqliteFile();
    const before = createAgent({ model: createOfflineChatModel(), checkpointer: await database.open() });
    await before.chat({ threadId: "kept", message: "what is 6*7?" });
    const transcript = await before.getConversation("kept");
    await database.closeAll();
    const after = createAgent({ model: createOfflineChatModel(), checkpointer: await database.open() });
    expect(await after.getConversation("kept")).toEqual(transcript);
    expect(transcript?.at(-1)?.content).toContain("42");
    await database.closeAll();
  });

  it("ping answers false (never a throw) once closed or when the caller gave up", async () => {
    const database = sqliteFile();
    const saver = await database.open();
    expect(await saver.ping({ signal: AbortSignal.abort() })).toBe(false);
    await saver.close();
    expect(await saver.ping()).toBe(false);
  });

  it("turns a store failure into CHECKPOINTER_UNAVAILABLE for the agent's callers", async () => {
    const database = sqliteFile();
    const saver = await database.open();
    const agent = createAgent({ model: createOfflineChatModel(), checkpointer: saver });
    await agent.chat({ threadId: "closed", message: "hello" });
    await saver.close();
    expect(await codeOf(agent.getConversation("closed"), isAgentError)).toBe("CHECKPOINTER_UNAVAILABLE");
    expect(await codeOf(agent.chat({ threadId: "closed", message: "hello" }), isAgentError)).toBe(
      "CHECKPOINTER_UNAVAILABLE",
    );
  });

  it("a write blocked by another connection's write lock fails typed after busyTimeoutMs, changing nothing", async () => {
    const database = sqliteFile();
    const saver = await createCheckpointer({ backend: "sqlite", path: database.path, busyTimeoutMs: 50 });
    const agent = createAgent({ model: createOfflineChatModel(), checkpointer: saver });
    const other = new Database(database.path);
    other.exec("BEGIN IMMEDIATE");
    try {
      expect(await codeOf(agent.chat({ threadId: "locked", message: "hello" }), isAgentError)).toBe(
        "CHECKPOINTER_UNAVAILABLE",
      );
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    expect(await agent.getConversation("locked")).toBeNull();
    await saver.close();
  });
});
