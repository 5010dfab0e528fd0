import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { resultText as textOf } from "@mcp-langgraph/tooling/testing";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { afterAll, describe, expect, it } from "vitest";

const stdioMain = fileURLToPath(new URL("../dist/main.mjs", import.meta.url));
const directory = mkdtempSync(join(tmpdir(), "mcp-stdio-sqlite-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function connectStdio(env: Record<string, string>) {
  const client = new Client({ name: "stdio-sqlite-test", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [stdioMain],
      env: { PATH: process.env.PATH ?? "", ...env },
      stderr: "pipe",
    }),
  );
  return client;
}

describe("the stdio binary with CHECKPOINTER_BACKEND=sqlite", () => {
  it("finds its conversation again after a restart (with the agent settings set) and reports token usage", async () => {
    const env = {
      CHECKPOINTER_BACKEND: "sqlite",
      SQLITE_PATH: join(directory, "stdio.sqlite"),
      AGENT_MAX_STEPS: "3",
      SYSTEM_PROMPT: "Be brief.",
    };
    const first = await connectStdio(env);
    const reply = await first.callTool({
      name: "agent_chat",
      arguments: { message: "what is 19 * 3?", thread_id: "kept" },
    });
    expect(textOf(reply)).toContain("57");
    // The offline model reports estimated usage, so the field is there.
    expect(reply.structuredContent).toMatchObject({ usage: { total_tokens: expect.any(Number) } });
    await first.close();

    const second = await connectStdio(env);
    try {
      const history = await second.callTool({ name: "conversation_get", arguments: { thread_id: "kept" } });
      expect(history.isError).toBeFalsy();
      expect(textOf(history)).toContain("what is 19 * 3?");
    } finally {
      await second.close();
    }
  }, 60_000);
});
