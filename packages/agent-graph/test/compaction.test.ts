import type { Logger } from "@mcp-langgraph/core";
import {
  openAIChatRequest,
  type RecordedRequest,
  sentChars,
  TEXT_REPLY,
  TOOL_REPLY,
  textOf,
} from "@mcp-langgraph/testkit/llm-loopback";
import { describe, expect, it } from "vitest";
import { SUMMARY_HEADING } from "../src/context-window.ts";
import { createAgent, SUMMARY_PROMPT } from "../src/index.ts";
import { openAILoopbackModels } from "./openai-loopback-model.ts";

const CONTEXT_TOKENS = 1_000;
const isSummaryRequest = (request: RecordedRequest) =>
  openAIChatRequest(request).system.startsWith(SUMMARY_PROMPT);

const startOpenAIModel = openAILoopbackModels();

/**
 * A model playing both parts: the summariser (answers "summary #n") and the agent, which calls
 * the calculator for a question and answers once it has the result.
 */
async function startModel(summariser: "ok" | "fail" = "ok") {
  let summaries = 0;
  return startOpenAIModel((request, index) => {
    if (isSummaryRequest(request)) {
      if (summariser === "fail") return { status: 400 };
      summaries++;
      return { parts: [`summary #${summaries}`], inputTokens: 50, outputTokens: 4 };
    }
    const last = openAIChatRequest(request).messages.at(-1);
    // A fresh call id each time, as real providers give (LangGraph's ToolNode skips answered ids).
    return last?.role === "tool"
      ? TEXT_REPLY
      : { ...TOOL_REPLY, toolCall: { ...TOOL_REPLY.toolCall!, id: `call_${index}` } };
  });
}

function recordingLogger() {
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];
  const ignore = () => {};
  const logger: Logger = {
    debug: ignore,
    info: ignore,
    error: ignore,
    warn: (fields, message) => warnings.push({ fields, message }),
  };
  return { logger, warnings };
}

const question = (n: number) => `Question ${n}: what is 2+2? `.padEnd(300, "·");

describe("compaction", () => {
  it("answers on a long thread: the model gets the stored summary and the recent turns, under the budget", async () => {
    const { llm, model } = await startModel();
    const agent = createAgent({ model, contextTokens: CONTEXT_TOKENS });
    // The app's suite goes past 500 messages; 40 turns (160 messages) compact several times here.
    const turns = 40;
    let reply: Awaited<ReturnType<typeof agent.chat>> | undefined;
    for (let n = 0; n < turns; n++) reply = await agent.chat({ threadId: "long", message: question(n) });
    expect(reply?.reply).toBe("Hello from loopback");

    // Every message is kept: user, tool call, tool result and answer for each turn.
    const conversation = await agent.getConversation("long");
    expect(conversation).toHaveLength(turns * 4);
    expect(conversation?.[0]?.content).toBe(question(0));

    const summaryRequests = llm.requests.filter(isSummaryRequest);
    // Incremental: several summaries, each folding the previous one into the next.
    expect(summaryRequests.length).toBeGreaterThan(3);
    expect(summaryRequests.length).toBeLessThan(turns / 2);
    const second = textOf(openAIChatRequest(summaryRequests[1]).messages[1]?.content);
    expect(second).toContain("Summary so far:\nsummary #1");
    expect(second).not.toContain("Question 0:");

    const last = openAIChatRequest(llm.requests.at(-1));
    expect(last.system).toContain(`${SUMMARY_HEADING}\nsummary #${summaryRequests.length}`);
    // The recent turns start at a user message, and the oldest turns are not sent.
    expect(last.messages[1]?.role).toBe("user");
    expect(last.messages.some((m) => textOf(m.content).startsWith("Question 0:"))).toBe(false);
    expect(textOf(last.messages.findLast((m) => m.role === "user")?.content)).toBe(question(turns - 1));
    for (const request of llm.requests.filter((r) => !isSummaryRequest(r))) {
      expect(sentChars(request)).toBeLessThanOrEqual(CONTEXT_TOKENS * 4);
      const { messages } = openAIChatRequest(request);
      // No tool result without the call that asked for it.
      for (const [index, message] of messages.entries()) {
        if (message.role !== "tool") continue;
        const asking = messages.slice(0, index).findLast((m) => m.role === "assistant");
        expect(asking?.tool_calls?.map((call) => call.id)).toContain(message.tool_call_id);
      }
    }
    // Summaries and their tokens are counted in the turn that made them.
    expect(reply?.usage).toBeDefined();
  });

  it("counts the summariser's tokens in the usage of the turn that ran it", async () => {
    const { llm, model } = await startModel();
    const agent = createAgent({ model, contextTokens: CONTEXT_TOKENS });
    for (let n = 0; n < 40; n++) {
      const before = llm.requests.filter(isSummaryRequest).length;
      const reply = await agent.chat({ threadId: "usage", message: question(n) });
      const summaries = llm.requests.filter(isSummaryRequest).length - before;
      // Two agent calls (9+5 and 7+3 tokens) plus each summary call (50+4).
      expect(reply.usage).toEqual({ inputTokens: 16 + 50 * summaries, outputTokens: 8 + 4 * summaries });
    }
    expect(llm.requests.filter(isSummaryRequest).length).toBeGreaterThan(0);
  });

  it("keeps the turn when the summariser fails: newest turns that fit, a warning, a retry next turn", async () => {
    const { llm, model } = await startModel("fail");
    const { logger, warnings } = recordingLogger();
    const agent = createAgent({ model, contextTokens: CONTEXT_TOKENS, logger });
    const turns = 30;
    for (let n = 0; n < turns; n++) {
      const reply = await agent.chat({ threadId: "failing", message: question(n) });
      expect(reply.reply).toBe("Hello from loopback");
    }
    expect(await agent.getConversation("failing")).toHaveLength(turns * 4);
    const failedSummaries = llm.requests.filter(isSummaryRequest).length;
    expect(failedSummaries).toBeGreaterThan(1);
    // At most one attempt per turn: a failure is not retried at the turn's next model call.
    expect(failedSummaries).toBeLessThanOrEqual(turns);
    expect(warnings.length).toBe(failedSummaries);
    expect(warnings[0]?.message).toMatch(/summarising older turns failed/);
    expect(JSON.stringify(warnings)).not.toContain("Question");
    const last = openAIChatRequest(llm.requests.at(-1));
    expect(last.system).not.toContain(SUMMARY_HEADING);
    expect(last.messages[1]?.role).toBe("user");
    expect(sentChars(llm.requests.at(-1))).toBeLessThanOrEqual(CONTEXT_TOKENS * 4);
  });

  it("does not stream summaries as reply tokens", async () => {
    const { llm, model } = await startModel();
    const agent = createAgent({ model, contextTokens: CONTEXT_TOKENS });
    for (let n = 0; n < 12; n++) await agent.chat({ threadId: "stream", message: question(n) });
    const before = llm.requests.filter(isSummaryRequest).length;
    let text = "";
    for (let n = 12; llm.requests.filter(isSummaryRequest).length === before; n++) {
      text = "";
      for await (const event of agent.streamChat({ threadId: "stream", message: question(n) })) {
        if (event.type === "token") text += event.text;
      }
    }
    expect(text).toBe("Hello from loopback");
  });

  it("rejects a context budget that leaves no room for messages", () => {
    expect(() => createAgent({ model: {} as never, contextTokens: 500 })).toThrow();
    expect(() =>
      createAgent({
        model: { invoke() {}, bindTools: () => ({}) } as never,
        contextTokens: 1_000,
        systemPrompt: "x".repeat(4_000),
      }),
    ).toThrow(/leaves .* tokens after the system prompt and tools/);
  });
});
