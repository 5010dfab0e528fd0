import { resultText } from "@mcp-langgraph/tooling/testing";
import type { Client } from "@modelcontextprotocol/client";
import { expect } from "vitest";

/**
 * What every transport of the app must answer to bad calls: an unknown tool is a JSON-RPC
 * invalid-params error naming it; arguments that fail the schema and an unsafe thread id are tool
 * errors saying what is wrong. Shared so the HTTP and stdio apps are held to the same answers.
 */
export async function expectBadCallsRefused(client: Client): Promise<void> {
  await expect(client.callTool({ name: "no_such_tool", arguments: {} })).rejects.toMatchObject({
    code: -32602,
    message: expect.stringContaining("Tool no_such_tool not found"),
  });
  const invalid = await client.callTool({ name: "agent_chat", arguments: { message: 42 } });
  expect(invalid.isError).toBe(true);
  expect(resultText(invalid)).toMatch(
    /^Input validation error: Invalid arguments for tool agent_chat: message: /,
  );
  const badThread = await client.callTool({
    name: "conversation_get",
    arguments: { thread_id: "../../etc/passwd" },
  });
  expect(badThread.isError).toBe(true);
  expect(resultText(badThread)).toMatch(/thread_id must be 1-128 characters/);
}
