import {
  anthropicWire,
  type LoopbackServer,
  openAIWire,
  scripted,
  startLoopbackServer,
  type WireFormat,
} from "@mcp-langgraph/testkit/llm-loopback";
import { SpanStatusCode } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { createChatModel, type ModelFallback, type ModelRetry } from "../src/index.ts";

const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serveScript(wire: WireFormat, actions: Parameters<typeof scripted>[1]) {
  const server = await startLoopbackServer(scripted(wire, actions));
  servers.push(server);
  return server;
}

function memoryTracer() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, tracer: provider.getTracer("llm-test") };
}

const fast = { retryBaseDelayMs: 5, timeoutMs: 5_000 };

describe("retry and fallback hooks", () => {
  it("tell of each retry and each fallback with provider, model and code", async () => {
    const failing = await serveScript(openAIWire, [{ status: 500 }, { status: 503 }]);
    const working = await serveScript(anthropicWire, ["ok"]);
    const retries: ModelRetry[] = [];
    const fallbacks: ModelFallback[] = [];
    const model = await createChatModel({
      ...openAIWire.options(failing.url),
      ...fast,
      maxRetries: 1,
      fallbacks: [anthropicWire.options(working.url)],
      onRetry: (retry) => retries.push(retry),
      onFallback: (fallback) => fallbacks.push(fallback),
    });
    await model.invoke("hi");
    expect(retries).toEqual([
      {
        provider: "openai",
        model: "gpt-4o-mini",
        code: "LLM_UNAVAILABLE",
        retry: 1,
        delayMs: expect.any(Number),
      },
    ]);
    expect(fallbacks).toEqual([
      {
        provider: "openai",
        model: "gpt-4o-mini",
        // The last attempt's failure: a 503 is an overloaded provider.
        code: "LLM_OVERLOADED",
        next: { provider: "anthropic", model: expect.any(String) },
      },
    ]);
  });

  it("a throwing hook does not fail the call", async () => {
    const failing = await serveScript(openAIWire, [{ status: 500 }]);
    const working = await serveScript(openAIWire, ["ok"]);
    const model = await createChatModel({
      ...openAIWire.options(failing.url),
      ...fast,
      maxRetries: 1,
      fallbacks: [openAIWire.options(working.url)],
      onRetry: () => {
        throw new Error("metrics broke");
      },
      onFallback: () => {
        throw new Error("metrics broke");
      },
    });
    expect((await model.invoke("hi")).content).toBe("Hello from loopback");
  });
});

describe("model call spans", () => {
  it("one client span per call, with gen_ai attributes, usage, and retries and fallbacks as events", async () => {
    const failing = await serveScript(openAIWire, [{ status: 500 }, { status: 500 }]);
    const working = await serveScript(anthropicWire, ["ok"]);
    const { exporter, tracer } = memoryTracer();
    const model = await createChatModel({
      ...openAIWire.options(failing.url),
      ...fast,
      maxRetries: 1,
      fallbacks: [anthropicWire.options(working.url)],
      tracer,
    });
    await model.invoke("the user's private question");
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span?.name).toBe("chat gpt-4o-mini");
    expect(span?.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.system": "openai",
      "gen_ai.request.model": "gpt-4o-mini",
      "gen_ai.response.provider": "anthropic",
      "gen_ai.usage.input_tokens": expect.any(Number),
      "gen_ai.usage.output_tokens": expect.any(Number),
    });
    expect(span?.events.map((event) => event.name)).toEqual(["gen_ai.retry", "gen_ai.fallback"]);
    expect(span?.events[1]?.attributes).toMatchObject({ "error.type": "LLM_UNAVAILABLE" });
    const everything = JSON.stringify([span?.attributes, span?.events]);
    expect(everything).not.toContain("private question");
    expect(everything).not.toContain("Hello from loopback");
    expect(everything).not.toContain("sk-");
  });

  it("marks a failed call with its error code, and traces streams too", async () => {
    const failing = await serveScript(openAIWire, [{ status: 400 }]);
    const { exporter, tracer } = memoryTracer();
    const model = await createChatModel({ ...openAIWire.options(failing.url), ...fast, tracer });
    await expect(model.invoke("hi")).rejects.toThrow();
    const working = await serveScript(openAIWire, ["ok"]);
    const streaming = await createChatModel({ ...openAIWire.options(working.url), ...fast, tracer });
    let text = "";
    for await (const chunk of await streaming.stream("hi")) text += chunk.text;
    expect(text).toBe("Hello from loopback");
    const [failed, streamed] = exporter.getFinishedSpans();
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes["error.type"]).toMatch(/^LLM_/);
    expect(streamed?.status.code).toBe(SpanStatusCode.UNSET);
    expect(streamed?.attributes["gen_ai.response.model"]).toBe("gpt-4o-mini");
  });
});
