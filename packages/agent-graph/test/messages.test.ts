import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { closeUnansweredToolCalls, stampCreatedAt, toConversationMessages } from "../src/messages.ts";

describe("toConversationMessages", () => {
  it("maps roles, joins text content blocks, keeps tool calls and names, and skips system messages", () => {
    const createdAt = new Date("2026-01-02T03:04:05.000Z");
    const conversation = toConversationMessages([
      new SystemMessage("hidden"),
      stampCreatedAt(new HumanMessage("hi"), createdAt),
      new AIMessage({
        content: [
          { type: "text", text: "Let me " },
          { type: "text", text: "check." },
        ],
        tool_calls: [{ id: "c1", name: "calculator", args: { expression: "1+1" } }],
      }),
      new ToolMessage({ content: "2", tool_call_id: "c1", name: "calculator" }),
    ]);
    expect(conversation).toEqual([
      { role: "user", content: "hi", createdAt: "2026-01-02T03:04:05.000Z" },
      {
        role: "assistant",
        content: "Let me check.",
        toolCalls: [{ name: "calculator", args: { expression: "1+1" } }],
      },
      { role: "tool", content: "2", toolName: "calculator" },
    ]);
  });
});

describe("closeUnansweredToolCalls", () => {
  const ask = new AIMessage({
    content: "",
    tool_calls: [
      { id: "a", name: "calculator", args: { expression: "1+1" } },
      { id: "b", name: "calculator", args: { expression: "2+2" } },
    ],
  });

  it("answers only the calls of the last assistant message that have no result", () => {
    const answered = new ToolMessage({ content: "2", tool_call_id: "a", name: "calculator" });
    const closing = closeUnansweredToolCalls([new HumanMessage("q"), ask, answered]);
    expect(closing.map((message) => [message.tool_call_id, message.name, message.status])).toEqual([
      ["b", "calculator", "error"],
    ]);
  });

  it("returns nothing for a thread whose last assistant message asked for no tools", () => {
    expect(closeUnansweredToolCalls([new HumanMessage("q"), new AIMessage("answer")])).toEqual([]);
    expect(closeUnansweredToolCalls([])).toEqual([]);
  });
});
