// Issue 11, item 5: AGENT_VERIFY=on judges each answer and refines it below the threshold.
import {
  type LoopbackServer,
  openAIChatRequest,
  openAIWire,
  type RecordedRequest,
  type Reply,
  replyingWith,
  startLoopbackServer,
  textOf,
} from "@mcp-langgraph/testkit/llm-loopback";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, login, textOf as resultText, startTestServer } from "./helpers.ts";

const isJudgeRequest = (request: RecordedRequest) => openAIChatRequest(request).tools.includes("verdict");
const isRefineRequest = (request: RecordedRequest) =>
  textOf(openAIChatRequest(request).messages.at(-1)?.content).startsWith("A reviewer scored");

const verdict = (score: number): Reply => ({
  parts: [],
  toolCall: { id: `verdict-${score}`, name: "verdict", args: { score, feedback: "give the unit" } },
  inputTokens: 20,
  outputTokens: 6,
});

let llm: LoopbackServer | undefined;
let app: RunningHttpServer | undefined;
afterEach(async () => {
  await app?.close();
  await llm?.close();
  app = llm = undefined;
});

/** The model answers "draft", each rewrite "refined #n"; as judge it plays `scores` in order (the last repeats). */
async function startApp(scores: number[], env: Record<string, string>) {
  let judged = 0;
  let refined = 0;
  llm = await startLoopbackServer(
    replyingWith(openAIWire, (request) => {
      if (isJudgeRequest(request)) return verdict(scores[Math.min(judged++, scores.length - 1)] ?? 1);
      const answer = isRefineRequest(request) ? `refined #${++refined}` : "draft";
      return { parts: [answer], inputTokens: 10, outputTokens: 5 };
    }),
  );
  app = await startTestServer({
    LLM_PROVIDER: "openai",
    MODEL_NAME: "gpt-4o-mini",
    OPENAI_API_KEY: "sk-test",
    OPENAI_BASE_URL: `${llm.url}/v1`,
    ...env,
  });
  return { llm, app };
}

async function ask(app: RunningHttpServer, message: string) {
  const { client } = await connect(app.url, await login(app.url, "alice", "alice-pw"));
  try {
    const result = await client.callTool({ name: "agent_chat", arguments: { message } });
    const threadId = (result.structuredContent as { thread_id: string }).thread_id;
    const read = await client.callTool({ name: "conversation_get", arguments: { thread_id: threadId } });
    return { result, conversation: (read.structuredContent as { messages: unknown[] }).messages };
  } finally {
    await client.close();
  }
}

describe("agent_chat with AGENT_VERIFY=on", () => {
  it("refines once after a low score and stops at a high one", async () => {
    const { llm, app } = await startApp([0.3, 0.9], { AGENT_VERIFY: "on" });
    const { result, conversation } = await ask(app, "how far is the moon?");
    expect(result.isError).toBeFalsy();
    expect(resultText(result)).toBe("refined #1");
    expect(result.structuredContent).toMatchObject({
      reply: "refined #1",
      verification: { scores: [0.3, 0.9], refinements: 1 },
    });
    expect(llm.requests.filter(isJudgeRequest)).toHaveLength(2);
    expect(llm.requests.filter(isRefineRequest)).toHaveLength(1);
    expect(conversation).toEqual([
      { role: "user", content: "how far is the moon?" },
      { role: "assistant", content: "refined #1" },
    ]);
  });

  it("refines at most AGENT_MAX_REFINEMENTS times", async () => {
    const { llm, app } = await startApp([0.1], { AGENT_VERIFY: "on", AGENT_MAX_REFINEMENTS: "1" });
    const { result } = await ask(app, "question");
    expect(result.structuredContent).toMatchObject({
      reply: "refined #1",
      verification: { scores: [0.1], refinements: 1 },
    });
    expect(llm.requests.filter(isRefineRequest)).toHaveLength(1);
  });

  it("honours AGENT_VERIFY_THRESHOLD", async () => {
    const { llm, app } = await startApp([0.5], { AGENT_VERIFY: "on", AGENT_VERIFY_THRESHOLD: "0.4" });
    const { result } = await ask(app, "question");
    expect(result.structuredContent).toMatchObject({
      reply: "draft",
      verification: { scores: [0.5], refinements: 0 },
    });
    expect(llm.requests.filter(isRefineRequest)).toHaveLength(0);
  });

  it("answers with the draft when the judge fails", async () => {
    llm = await startLoopbackServer(
      replyingWith(openAIWire, (request) =>
        isJudgeRequest(request) ? { status: 400 } : { parts: ["draft"], inputTokens: 1, outputTokens: 1 },
      ),
    );
    app = await startTestServer({
      LLM_PROVIDER: "openai",
      MODEL_NAME: "gpt-4o-mini",
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: `${llm.url}/v1`,
      AGENT_VERIFY: "on",
    });
    const { result } = await ask(app, "question");
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      reply: "draft",
      verification: { scores: [], refinements: 0 },
    });
  });
});

describe("agent_chat with verification off (the default)", () => {
  it("makes no judge call and reports no verification", async () => {
    const { llm, app } = await startApp([0.1], {});
    const { result } = await ask(app, "question");
    expect(result.structuredContent).toEqual({
      thread_id: expect.any(String),
      reply: "draft",
      created: true,
      usage: { input_tokens: 10, output_tokens: 5, total_tokens: 15 },
    });
    expect(llm.requests).toHaveLength(1);
    expect(llm.requests.filter(isJudgeRequest)).toHaveLength(0);
  });
});
