import type { Logger } from "@mcp-langgraph/core";
import { codeOf } from "@mcp-langgraph/testkit/errors";
import {
  type Action,
  openAIChatRequest,
  type RecordedRequest,
  type Reply,
  textOf,
} from "@mcp-langgraph/testkit/llm-loopback";
import { describe, expect, it } from "vitest";
import { type AgentOptions, createAgent, isAgentError, JUDGE_PROMPT } from "../src/index.ts";
import { openAILoopbackModels } from "./openai-loopback-model.ts";

const isJudgeRequest = (request: RecordedRequest) => openAIChatRequest(request).tools.includes("verdict");
const isRefineRequest = (request: RecordedRequest) =>
  textOf(openAIChatRequest(request).messages.at(-1)?.content).startsWith("A reviewer scored");

const text = (answer: string, tokens = 5): Reply => ({
  parts: [answer],
  inputTokens: 10,
  outputTokens: tokens,
});
const verdict = (score: number, feedback = "be more specific"): Reply => ({
  parts: [],
  toolCall: { id: `v-${score}`, name: "verdict", args: { score, feedback } },
  inputTokens: 20,
  outputTokens: 6,
});

const startOpenAIModel = openAILoopbackModels();

/** The agent answers "draft", each refine pass "refined #n"; the judge plays `verdicts` in order (last repeats). */
async function startAgent(verdicts: (Reply | Action)[], options: Partial<AgentOptions> = {}) {
  let judged = 0;
  let refined = 0;
  const { llm, model } = await startOpenAIModel((request) => {
    if (isJudgeRequest(request)) return verdicts[Math.min(judged++, verdicts.length - 1)] ?? verdict(1);
    if (isRefineRequest(request)) return text(`refined #${++refined}`);
    return text("draft");
  });
  const warnings: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    error() {},
    warn: (_fields, message) => warnings.push(message),
  };
  const agent = createAgent({ model, logger, ...options });
  return { agent, llm, warnings };
}

describe("verification", () => {
  it("refines once after a low score, and stops at a high one", async () => {
    const { agent, llm } = await startAgent([verdict(0.2, "name the unit"), verdict(0.9)], {
      verification: { threshold: 0.7, maxRefinements: 2 },
    });
    const reply = await agent.chat({ threadId: "t1", message: "how far is the moon?" });
    expect(reply.reply).toBe("refined #1");
    expect(reply.verification).toEqual({ scores: [0.2, 0.9], refinements: 1 });
    expect(llm.requests.filter(isJudgeRequest)).toHaveLength(2);

    const [firstJudge] = llm.requests.filter(isJudgeRequest);
    const judged = openAIChatRequest(firstJudge);
    expect(judged.system).toBe(JUDGE_PROMPT);
    expect(textOf(judged.messages[1]?.content)).toBe("QUESTION:\nhow far is the moon?\n\nANSWER:\ndraft");
    const refine = openAIChatRequest(llm.requests.find(isRefineRequest));
    expect(textOf(refine.messages.at(-1)?.content)).toContain("Feedback: name the unit");
    expect(refine.messages.at(-2)).toMatchObject({ role: "assistant", content: "draft" });

    // The thread holds the answer the user got, not the draft; nothing of the review is stored.
    const conversation = await agent.getConversation("t1");
    expect(conversation?.map(({ role, content }) => ({ role, content }))).toEqual([
      { role: "user", content: "how far is the moon?" },
      { role: "assistant", content: "refined #1" },
    ]);
    // Every call of the turn is counted: draft 10+5, two verdicts 20+6 each, one rewrite 10+5.
    expect(reply.usage).toEqual({ inputTokens: 60, outputTokens: 22 });
  });

  it("refines at most maxRefinements times, and does not judge the last rewrite", async () => {
    const { agent, llm } = await startAgent([verdict(0.1)], { verification: { maxRefinements: 2 } });
    const reply = await agent.chat({ threadId: "t2", message: "question" });
    expect(reply.reply).toBe("refined #2");
    expect(reply.verification).toEqual({ scores: [0.1, 0.1], refinements: 2 });
    expect(llm.requests.filter(isJudgeRequest)).toHaveLength(2);
    expect(llm.requests.filter(isRefineRequest)).toHaveLength(2);
  });

  it("with maxRefinements 0 only scores the answer", async () => {
    const { agent, llm } = await startAgent([verdict(0.1)], { verification: { maxRefinements: 0 } });
    const reply = await agent.chat({ threadId: "t3", message: "question" });
    expect(reply).toMatchObject({ reply: "draft", verification: { scores: [0.1], refinements: 0 } });
    expect(llm.requests.filter(isRefineRequest)).toHaveLength(0);
  });

  it("is off by default: no judge call, no verification in the reply", async () => {
    const { agent, llm } = await startAgent([verdict(0.1)]);
    const reply = await agent.chat({ threadId: "t4", message: "question" });
    expect(reply.reply).toBe("draft");
    expect(reply.verification).toBeUndefined();
    expect(llm.requests).toHaveLength(1);
  });

  it.each<[string, Reply | Action]>([
    ["a provider error", { status: 400 }],
    ["a malformed response", "malformed"],
    ["a verdict outside 0..1", verdict(7)],
    ["a text answer instead of a verdict", text("looks fine")],
  ])("keeps the answer when the judge fails with %s", async (_name, failure) => {
    const { agent, warnings } = await startAgent([failure], { verification: {} });
    const reply = await agent.chat({ threadId: "t5", message: "question" });
    expect(reply).toMatchObject({ reply: "draft", verification: { scores: [], refinements: 0 } });
    expect(warnings).toEqual(["agent: verification step failed; keeping the current answer"]);
  });

  it("keeps the draft when the refine pass fails", async () => {
    let calls = 0;
    const { model } = await startOpenAIModel((request) => {
      calls++;
      if (isJudgeRequest(request)) return verdict(0.1);
      if (isRefineRequest(request)) return { status: 400 };
      return text("draft");
    });
    const agent = createAgent({ model, verification: {} });
    const reply = await agent.chat({ threadId: "t6", message: "question" });
    expect(reply).toMatchObject({ reply: "draft", verification: { scores: [0.1], refinements: 0 } });
    expect(calls).toBe(3);
  });

  it("streams the answer's tokens, never the judge's", async () => {
    // A judge answering in text (no verdict) would stream that text if its call were not tagged internal.
    const { agent } = await startAgent([text("JUDGE-TEXT")], { verification: {} });
    const events: string[] = [];
    for await (const event of agent.streamChat({ threadId: "t7", message: "question" })) {
      if (event.type === "token") events.push(event.text);
    }
    expect(events.join("")).toBe("draft");
  });

  it("cancels a turn whose judge is still thinking", async () => {
    const { llm: server, model } = await startOpenAIModel((request) =>
      isJudgeRequest(request) ? "hang" : text("draft"),
    );
    const agent = createAgent({ model, verification: {} });
    const controller = new AbortController();
    const turn = agent.chat({ threadId: "t8", message: "question", signal: controller.signal });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (server.requests.some(isJudgeRequest)) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    controller.abort();
    expect(await codeOf(turn, isAgentError)).toBe("AGENT_CANCELLED");
    await server.waitForClientAborts(1);
  });
});
