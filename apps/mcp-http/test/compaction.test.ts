// Issue 11, item 4: a long thread is compacted (older turns summarised by the model), not refused.
import {
  type LoopbackServer,
  openAIChatRequest,
  openAIWire,
  type RecordedRequest,
  replyingWith,
  sentChars,
  startLoopbackServer,
  TEXT_REPLY,
  TOOL_REPLY,
  textOf,
} from "@mcp-langgraph/testkit/llm-loopback";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, login, textOf as resultText, startTestServer } from "./helpers.ts";

const CONTEXT_TOKENS = 1_000;

/** The summariser's request: the running summary and the messages to fold into it. */
const isSummaryRequest = (request: RecordedRequest) =>
  textOf(openAIChatRequest(request).messages[1]?.content).startsWith("Summary so far:");

let llm: LoopbackServer;
let app: RunningHttpServer;
let summaries = 0;

beforeAll(async () => {
  // The model calls the calculator for each question and answers with its result; as summariser it
  // answers "summary #n".
  llm = await startLoopbackServer(
    replyingWith(openAIWire, (request, index) => {
      if (isSummaryRequest(request))
        return { parts: [`summary #${++summaries}`], inputTokens: 40, outputTokens: 3 };
      const last = openAIChatRequest(request).messages.at(-1);
      if (last?.role === "tool") return TEXT_REPLY;
      return { ...TOOL_REPLY, toolCall: { ...TOOL_REPLY.toolCall!, id: `call_${index}` } };
    }),
  );
  app = await startTestServer({
    ...openAIWireEnv(llm.url),
    AGENT_CONTEXT_TOKENS: String(CONTEXT_TOKENS),
    RATE_LIMIT_TOOL_CALLS_PER_MINUTE: "100000",
  });
});
afterAll(async () => {
  await app?.close();
  await llm?.close();
});

function openAIWireEnv(url: string) {
  return {
    LLM_PROVIDER: "openai",
    MODEL_NAME: "gpt-4o-mini",
    OPENAI_API_KEY: "sk-test",
    OPENAI_BASE_URL: `${url}/v1`,
  };
}

const question = (n: number) => `Question ${n}: what is 2+2? `.padEnd(200, ".");

describe("a thread past AGENT_CONTEXT_TOKENS", () => {
  it("answers past 500 messages; the model gets the summary and the recent turns, under the budget; conversation_get keeps every message", async () => {
    const { client } = await connect(app.url, await login(app.url, "alice", "alice-pw"));
    try {
      const first = await client.callTool({ name: "agent_chat", arguments: { message: question(0) } });
      const threadId = (first.structuredContent as { thread_id: string }).thread_id;
      // Four messages a turn (question, tool call, tool result, answer): 126 turns make 504.
      const turns = 126;
      let last = first;
      for (let n = 1; n < turns; n++) {
        last = await client.callTool({
          name: "agent_chat",
          arguments: { message: question(n), thread_id: threadId },
        });
        expect(last.isError).toBeFalsy();
      }
      expect(resultText(last)).toBe("Hello from loopback");

      const read = await client.callTool({ name: "conversation_get", arguments: { thread_id: threadId } });
      const messages = (read.structuredContent as { messages: { role: string; content: string }[] }).messages;
      expect(messages).toHaveLength(turns * 4);
      expect(messages[0]).toEqual({ role: "user", content: question(0) });
      expect(messages.at(-1)).toEqual({ role: "assistant", content: "Hello from loopback" });

      // Summarised incrementally, not on every turn.
      expect(summaries).toBeGreaterThan(3);
      expect(summaries).toBeLessThan(turns / 2);
      const lastRequest = openAIChatRequest(llm.requests.at(-1));
      expect(lastRequest.system).toContain(`summary #${summaries}`);
      expect(lastRequest.messages[1]?.role).toBe("user");
      expect(lastRequest.messages.some((m) => textOf(m.content) === question(0))).toBe(false);
      expect(textOf(lastRequest.messages.findLast((m) => m.role === "user")?.content)).toBe(
        question(turns - 1),
      );
      for (const request of llm.requests.filter((r) => !isSummaryRequest(r))) {
        expect(sentChars(request)).toBeLessThanOrEqual(CONTEXT_TOKENS * 4);
      }
    } finally {
      await client.close();
    }
    // A long thread costs CPU per stored message on each turn (checkpoint encoding), so 126 turns take a while.
  }, 180_000);
});
