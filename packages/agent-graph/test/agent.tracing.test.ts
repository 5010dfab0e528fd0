import { createChatModel } from "@mcp-langgraph/llm-factory";
import { openAIWire, scripted, startLoopbackServer } from "@mcp-langgraph/testkit/llm-loopback";
import { context, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../src/index.ts";

const exporter = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
  "agent-test",
);

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  context.disable();
});

describe("agent turn spans", () => {
  it("a turn is an invoke_agent span; its model calls and tool calls are its children", async () => {
    const llm = await startLoopbackServer(scripted(openAIWire, ["tool", "ok"]));
    try {
      const model = await createChatModel({ ...openAIWire.options(llm.url), tracer });
      const agent = createAgent({ model, tracer });
      const root = tracer.startSpan("caller");
      const reply = await context.with(trace.setSpan(context.active(), root), () =>
        agent.chat({ threadId: "t-trace", message: "what is 2+2, my secret is hunter2?" }),
      );
      root.end();
      expect(reply.reply).toBe("Hello from loopback");

      const spans = exporter.getFinishedSpans();
      const byName = (name: string) => spans.filter((span) => span.name === name);
      const [turn] = byName("invoke_agent mcp-langgraph");
      const [tool] = byName("execute_tool calculator");
      const chats = byName("chat gpt-4o-mini");
      expect(turn?.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      expect(chats).toHaveLength(2);
      for (const chat of chats) expect(chat.parentSpanContext?.spanId).toBe(turn?.spanContext().spanId);
      expect(tool?.parentSpanContext?.spanId).toBe(turn?.spanContext().spanId);
      expect(tool?.attributes).toMatchObject({
        "gen_ai.tool.name": "calculator",
        "gen_ai.tool.call.id": "call_1",
      });
      expect(tool?.status.code).toBe(SpanStatusCode.UNSET);
      expect(turn?.attributes).toMatchObject({
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.usage.input_tokens": 16,
        "gen_ai.usage.output_tokens": 8,
      });
      const text = JSON.stringify(spans.map((span) => [span.attributes, span.events]));
      expect(text).not.toContain("hunter2");
      expect(text).not.toContain("2+2");
      expect(text).not.toContain("Hello from loopback");
    } finally {
      await llm.close();
    }
  });

  it("without a tracer no span is made", async () => {
    exporter.reset();
    const llm = await startLoopbackServer(scripted(openAIWire, ["ok"]));
    try {
      const agent = createAgent({ model: await createChatModel(openAIWire.options(llm.url)) });
      await agent.chat({ threadId: "t-untraced", message: "hi" });
      expect(exporter.getFinishedSpans()).toEqual([]);
    } finally {
      await llm.close();
    }
  });
});
