import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { createOfflineChatModel } from "@mcp-langgraph/llm-factory";
import { describe, expect, it } from "vitest";
import { createAgent } from "../src/index.ts";
import {
  closeUnansweredToolCalls,
  freshenReusedToolCallIds,
  stampCreatedAt,
  toConversationMessages,
} from "../src/messages.ts";

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

describe("freshenReusedToolCallIds", () => {
  const call = (id: string) => ({
    id,
    name: "calculator",
    args: { expression: "1+1" },
    type: "tool_call" as const,
  });

  it("renames only calls whose id already has a result in the thread, in both copies", () => {
    const thread = [
      new HumanMessage("q"),
      new AIMessage({ content: "", tool_calls: [call("call_0")] }),
      new ToolMessage({ content: "2", tool_call_id: "call_0" }),
    ];
    const response = new AIMessage({
      content: "",
      tool_calls: [call("call_0"), call("call_1")],
      additional_kwargs: {
        tool_calls: [{ id: "call_0", type: "function", function: { name: "calculator", arguments: "{}" } }],
      },
    });
    freshenReusedToolCallIds(response, thread);
    const [renamed, kept] = response.tool_calls ?? [];
    expect(renamed?.id).not.toBe("call_0");
    expect(renamed?.id).toMatch(/^call_/);
    expect(response.additional_kwargs.tool_calls?.[0]?.id).toBe(renamed?.id);
    expect(kept?.id).toBe("call_1");
  });

  // Regression: with compaction the offline model (which numbers its calls per request) reused an
  // answered id, LangGraph's ToolNode skipped the call, and the turn ran to its step limit.
  it("lets a compacted thread of tool turns keep answering with the offline model", async () => {
    const agent = createAgent({ model: createOfflineChatModel(), contextTokens: 1_000 });
    for (let n = 0; n < 30; n++) {
      const reply = await agent.chat({ threadId: "offline", message: `what is ${n}+2? `.padEnd(200, ".") });
      expect(reply.reply).toContain(`is ${n + 2}`);
    }
  });
});
