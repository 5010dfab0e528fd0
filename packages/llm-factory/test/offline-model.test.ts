import { AIMessage, type AIMessageChunk, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { agentLoop } from "@mcp-langgraph/testkit/llm-loopback";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  createChatModel,
  createOfflineChatModel,
  findArithmeticExpression,
  OFFLINE_NOTICE,
  streamText,
} from "../src/index.ts";

// The tests pin the model's behaviour, not a calculator: known expressions map to known results.
const KNOWN_RESULTS: Record<string, string> = { "(2+3)*4": "20", "12 / 4 - 1": "2" };
const calculator = tool(async ({ expression }) => KNOWN_RESULTS[expression] ?? "unknown", {
  name: "calculator",
  description: "Evaluates an arithmetic expression",
  schema: z.object({ expression: z.string() }),
});

describe("findArithmeticExpression", () => {
  it.each([
    ["what is (2+3)*4?", "(2+3)*4"],
    ["12 / 4 - 1", "12 / 4 - 1"],
    ["please compute 7*6.", "7*6"],
    ["(about 2+2)", "2+2"],
  ])("finds the expression in %j", (text, expected) => {
    expect(findArithmeticExpression(text)).toBe(expected);
  });

  it.each(["hello there", "I have 3 apples", "version 2.0"])("finds none in %j", (text) => {
    expect(findArithmeticExpression(text)).toBeUndefined();
  });
});

describe("offline chat model", () => {
  it("is what createChatModel returns with no provider", async () => {
    const model = await createChatModel();
    expect(model._llmType()).toBe("offline");
    const offline = await createChatModel({ provider: "offline" });
    expect(offline._llmType()).toBe("offline");
  });

  it("answers deterministically, says it is offline and reports usage", async () => {
    const model = createOfflineChatModel();
    const first = await model.invoke([new HumanMessage("tell me about the weather")]);
    const second = await model.invoke([new HumanMessage("tell me about the weather")]);
    expect(first.content).toBe(second.content);
    expect(first.content).toContain(OFFLINE_NOTICE);
    expect(first.content).toContain("tell me about the weather");
    expect(first.usage_metadata?.input_tokens).toBeGreaterThan(0);
    expect(first.usage_metadata?.output_tokens).toBeGreaterThan(0);
    expect(first.usage_metadata?.total_tokens).toBe(
      (first.usage_metadata?.input_tokens ?? 0) + (first.usage_metadata?.output_tokens ?? 0),
    );
  });

  it("does not call a calculator it was not given", async () => {
    const reply = await createOfflineChatModel().invoke("what is (2+3)*4?");
    expect(reply.tool_calls ?? []).toHaveLength(0);
    expect(reply.content).toContain(OFFLINE_NOTICE);
  });

  it("calls the bound calculator tool for an arithmetic question", async () => {
    const model = createOfflineChatModel().bindTools([calculator]);
    const reply = await model.invoke([new HumanMessage("what is (2+3)*4?")]);
    expect(reply.tool_calls).toEqual([
      expect.objectContaining({ name: "calculator", args: { expression: "(2+3)*4" } }),
    ]);
  });

  it("accepts OpenAI-format tool definitions too", async () => {
    const model = createOfflineChatModel().bindTools([
      { type: "function", function: { name: "calculator", parameters: { type: "object" } } },
    ]);
    const reply = await model.invoke("12 / 4 - 1");
    expect(reply.tool_calls?.[0]?.args).toEqual({ expression: "12 / 4 - 1" });
  });

  it("answers a tool result with a sentence containing it", async () => {
    const reply = await createOfflineChatModel().invoke([
      new HumanMessage("what is (2+3)*4?"),
      new AIMessage({
        content: "",
        tool_calls: [{ id: "c1", name: "calculator", args: { expression: "(2+3)*4" } }],
      }),
      new ToolMessage({ content: "20", tool_call_id: "c1", name: "calculator" }),
    ]);
    expect(reply.content).toContain("(2+3)*4 is 20");
    expect(reply.content).toContain(OFFLINE_NOTICE);
  });

  it("streams token by token and the chunks add up to the invoke answer", async () => {
    const model = createOfflineChatModel();
    const chunks: AIMessageChunk[] = [];
    for await (const chunk of await model.stream("stream me a reply please")) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(3);
    const streamed = chunks.map((chunk) => chunk.content).join("");
    const invoked = await model.invoke("stream me a reply please");
    expect(streamed).toBe(invoked.content);
    const usage = chunks.find((chunk) => chunk.usage_metadata)?.usage_metadata;
    expect(usage).toEqual(invoked.usage_metadata);
  });

  it("streams plain text tokens through streamText", async () => {
    const tokens: string[] = [];
    for await (const token of streamText(createOfflineChatModel(), "echo this")) tokens.push(token);
    expect(tokens.length).toBeGreaterThan(3);
    expect(tokens.every((token) => typeof token === "string" && token.length > 0)).toBe(true);
    expect(tokens.join("")).toContain("echo this");
  });

  it("streams a tool call as tool call chunks", async () => {
    const model = createOfflineChatModel().bindTools([calculator]);
    let merged: AIMessageChunk | undefined;
    for await (const chunk of await model.stream("what is (2+3)*4?"))
      merged = merged ? merged.concat(chunk) : chunk;
    expect(merged?.tool_calls).toEqual([
      expect.objectContaining({ name: "calculator", args: { expression: "(2+3)*4" } }),
    ]);
  });

  it("emits LangChain stream events", async () => {
    const model = createOfflineChatModel();
    const tokens: string[] = [];
    for await (const event of model.streamEvents("hello offline world", { version: "v2" })) {
      if (event.event === "on_chat_model_stream") tokens.push(String(event.data.chunk.content));
    }
    expect(tokens.join("")).toContain(OFFLINE_NOTICE);
  });

  it("stops streaming when the caller aborts", async () => {
    const controller = new AbortController();
    const stream = await createOfflineChatModel().stream("a fairly long message to echo back", {
      signal: controller.signal,
    });
    const seen: string[] = [];
    await expect(async () => {
      for await (const chunk of stream) {
        seen.push(String(chunk.content));
        controller.abort();
      }
    }).rejects.toThrow();
    expect(seen).toHaveLength(1);
  });

  it("drives a LangGraph agent ⇄ tools loop to the calculator's answer", async () => {
    const graph = agentLoop(createOfflineChatModel(), [calculator]);
    const result = await graph.invoke({ messages: [new HumanMessage("what is (2+3)*4?")] });
    const kinds = result.messages.map((message) => message.getType());
    expect(kinds).toEqual(["human", "ai", "tool", "ai"]);
    expect(result.messages.at(-1)?.content).toContain("(2+3)*4 is 20");
  });
});
