import { HumanMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { rejectionOf } from "@mcp-langgraph/testkit/errors";
import {
  type Action,
  agentLoop,
  anthropicWire,
  azureWire,
  geminiWire,
  type LoopbackHandler,
  type LoopbackServer,
  openAIWire,
  scripted,
  startLoopbackServer,
  TEXT_REPLY,
  type WireFormat,
} from "@mcp-langgraph/testkit/llm-loopback";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createChatModel, createProviderGuards, isLlmError, type LlmError } from "../src/index.ts";

const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(handler: LoopbackHandler) {
  const server = await startLoopbackServer(handler);
  servers.push(server);
  return server;
}

const serveScript = (wire: WireFormat, actions: Action[]) => serve(scripted(wire, actions));

/** Answers after `delayMs`, recording the most requests it ever had in flight. */
function slowOpenAI(delayMs: number) {
  const state = { inFlight: 0, maxInFlight: 0 };
  const handler: LoopbackHandler = async (request, response) => {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    state.inFlight--;
    openAIWire.reply(request, response, TEXT_REPLY);
  };
  return { state, handler };
}

const failure = (promise: Promise<unknown>) => rejectionOf<LlmError>(promise);

const fast = { retryBaseDelayMs: 5, timeoutMs: 5_000 };

describe("fallback chain", () => {
  it("falls back to the next provider with that provider's own key and URL", async () => {
    const failing = await serveScript(openAIWire, [{ status: 500 }]);
    const working = await serveScript(anthropicWire, ["ok"]);
    const model = await createChatModel({
      ...openAIWire.options(failing.url),
      ...fast,
      maxRetries: 1,
      fallbacks: [anthropicWire.options(working.url)],
    });
    const reply = await model.invoke("hi");
    expect(reply.content).toBe("Hello from loopback");
    expect(reply.response_metadata.llm_provider).toBe("anthropic");
    expect(failing.requests).toHaveLength(2);
    expect(working.requests).toHaveLength(1);
    expect(working.requests[0]?.headers["x-api-key"]).toBe("sk-ant-test");
    expect(JSON.stringify(working.requests[0]?.headers)).not.toContain("sk-openai-test");
    expect(openAIWire.keyOf(failing.requests[0]!)).toBe("Bearer sk-openai-test");
  });

  it("logs retries and fallbacks with provider, model and code, never keys", async () => {
    const entries: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const record = (level: string) => (fields: Record<string, unknown>, message: string) =>
      entries.push({ level, fields, message });
    const logger = {
      debug: record("debug"),
      info: record("info"),
      warn: record("warn"),
      error: record("error"),
    };
    const failing = await serveScript(openAIWire, [{ status: 500 }]);
    const working = await serveScript(anthropicWire, ["ok"]);
    const model = await createChatModel({
      ...openAIWire.options(failing.url),
      ...fast,
      maxRetries: 1,
      logger,
      fallbacks: [anthropicWire.options(working.url)],
    });
    await model.invoke("hi");
    expect(entries.map(({ level, message }) => `${level}: ${message}`)).toEqual([
      "info: LLM call failed; retrying",
      "warn: LLM call failed; falling back to the next model",
    ]);
    expect(entries[1]?.fields).toEqual({ provider: "openai", model: "gpt-4o-mini", code: "LLM_UNAVAILABLE" });
    expect(JSON.stringify(entries)).not.toContain("sk-");
  });

  it("inherits generic settings but never the primary's key or base URL", async () => {
    const primary = await serveScript(openAIWire, [{ status: 503 }]);
    const secondary = await serveScript(openAIWire, ["ok"]);
    const model = await createChatModel({
      ...openAIWire.options(primary.url),
      ...fast,
      maxRetries: 0,
      maxTokens: 77,
      fallbacks: [{ provider: "openai-compatible", model: "local-model", baseUrl: `${secondary.url}/v1` }],
    });
    await model.invoke("hi");
    const request = secondary.requests[0]!;
    expect((request.body as { max_tokens?: number }).max_tokens).toBe(77);
    expect(request.headers.authorization).not.toContain("sk-openai-test");
  });

  it("falls back in a stream that fails before its first chunk", async () => {
    const failing = await serveScript(openAIWire, [{ status: 500 }]);
    const working = await serveScript(anthropicWire, ["ok"]);
    const model = await createChatModel({
      ...openAIWire.options(failing.url),
      ...fast,
      maxRetries: 0,
      fallbacks: [anthropicWire.options(working.url)],
    });
    let text = "";
    for await (const chunk of await model.stream("hi")) text += chunk.text;
    expect(text).toBe("Hello from loopback");
  });

  it("does not splice in another model after a stream has started", async () => {
    const cut = await serveScript(openAIWire, ["disconnect"]);
    const working = await serveScript(anthropicWire, ["ok"]);
    const model = await createChatModel({
      ...openAIWire.options(cut.url),
      ...fast,
      fallbacks: [anthropicWire.options(working.url)],
    });
    let text = "";
    const error = await failure(
      (async () => {
        for await (const chunk of await model.stream("hi")) text += chunk.text;
      })(),
    );
    expect(isLlmError(error)).toBe(true);
    expect(text).toBe("Hello");
    expect(working.requests).toHaveLength(0);
  });

  it("reports LLM_UNAVAILABLE with every model's failure when all fail", async () => {
    const down = await serveScript(openAIWire, [{ status: 500 }]);
    const unauthorised = await serveScript(anthropicWire, [{ status: 401 }]);
    const model = await createChatModel({
      ...openAIWire.options(down.url),
      ...fast,
      maxRetries: 1,
      fallbacks: [anthropicWire.options(unauthorised.url)],
    });
    const error = await failure(model.invoke("hi"));
    expect(error.code).toBe("LLM_UNAVAILABLE");
    expect(error.message).toBe(
      'all 2 models failed: openai model "gpt-4o-mini" failed with LLM_UNAVAILABLE (2 attempts); ' +
        'anthropic model "claude-3-5-haiku-latest" failed with LLM_AUTH (1 attempt)',
    );
    expect(error.details).toEqual({
      attempts: 3,
      models: [
        { provider: "openai", model: "gpt-4o-mini", code: "LLM_UNAVAILABLE", attempts: 2 },
        { provider: "anthropic", model: "claude-3-5-haiku-latest", code: "LLM_AUTH", attempts: 1 },
      ],
    });
    expect(error.cause).toBeInstanceOf(AggregateError);
    expect(error.message).not.toContain("sk-");
  });

  it("stops the chain when the caller cancels", async () => {
    const hanging = await serveScript(openAIWire, ["hang"]);
    const working = await serveScript(anthropicWire, ["ok"]);
    const model = await createChatModel({
      ...openAIWire.options(hanging.url),
      ...fast,
      fallbacks: [anthropicWire.options(working.url)],
    });
    const controller = new AbortController();
    const pending = failure(model.invoke("hi", { signal: controller.signal }));
    while (hanging.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    expect(isLlmError(await pending)).toBe(false);
    await hanging.waitForClientAborts(1);
    expect(working.requests).toHaveLength(0);
  });
});

describe("timeouts", () => {
  // Small deadlines, retries allowed and a long backoff: a retry after a timeout would show in the
  // requests the server saw, in the attempts reported and in the time the call took.
  const deadline = { timeoutMs: 200, maxRetries: 2, retryBaseDelayMs: 2_000 };

  async function timedFailure(promise: Promise<unknown>) {
    const startedAt = performance.now();
    const error = await failure(promise);
    return { error, elapsedMs: performance.now() - startedAt };
  }

  /** The behavioural bound of a call that timed out: one deadline per attempt plus 1 s of slack. */
  const budgetMs = (attempts: number, timeoutMs: number) => attempts * timeoutMs + 1_000;

  it("ends a hung call with LLM_TIMEOUT naming the deadline and the attempts, without retrying it", async () => {
    const hanging = await serveScript(openAIWire, ["hang"]);
    const model = await createChatModel({ ...openAIWire.options(hanging.url), ...deadline });
    const { error, elapsedMs } = await timedFailure(model.invoke("hi"));
    expect(error.code).toBe("LLM_TIMEOUT");
    expect(error.message).toBe('openai model "gpt-4o-mini" timed out after 200 ms (1 attempt, no fallback)');
    expect(error.details).toEqual({
      provider: "openai",
      model: "gpt-4o-mini",
      timeoutMs: 200,
      attempts: 1,
      models: [
        { provider: "openai", model: "gpt-4o-mini", code: "LLM_TIMEOUT", attempts: 1, timeoutMs: 200 },
      ],
    });
    expect(hanging.requests).toHaveLength(1);
    expect(elapsedMs).toBeLessThan(budgetMs(hanging.requests.length, 200));
    await hanging.waitForClientAborts(1);
  });

  it("counts the attempts spent on fast failures before the timeout", async () => {
    const server = await serveScript(openAIWire, [{ status: 503 }, "hang"]);
    const model = await createChatModel({
      ...openAIWire.options(server.url),
      ...deadline,
      retryBaseDelayMs: 5,
    });
    const { error, elapsedMs } = await timedFailure(model.invoke("hi"));
    expect(error.code).toBe("LLM_TIMEOUT");
    expect(error.message).toBe(
      'openai model "gpt-4o-mini" timed out after 200 ms (2 attempts, the last timed out, no fallback)',
    );
    expect(error.details).toMatchObject({ timeoutMs: 200, attempts: 2 });
    expect(server.requests).toHaveLength(2);
    expect(elapsedMs).toBeLessThan(budgetMs(2, 200));
  });

  it("times out a stream that never sends its first chunk the same way", async () => {
    const hanging = await serveScript(openAIWire, ["hang"]);
    const model = await createChatModel({ ...openAIWire.options(hanging.url), ...deadline });
    const { error, elapsedMs } = await timedFailure(
      (async () => {
        for await (const _chunk of await model.stream("hi"));
      })(),
    );
    expect(error.code).toBe("LLM_TIMEOUT");
    expect(error.message).toBe('openai model "gpt-4o-mini" timed out after 200 ms (1 attempt, no fallback)');
    expect(hanging.requests).toHaveLength(1);
    expect(elapsedMs).toBeLessThan(budgetMs(1, 200));
  });

  it("moves on to the next model at a timeout and reports LLM_TIMEOUT when every model timed out", async () => {
    const first = await serveScript(openAIWire, ["hang"]);
    const second = await serveScript(anthropicWire, ["hang"]);
    const model = await createChatModel({
      ...openAIWire.options(first.url),
      ...deadline,
      fallbacks: [anthropicWire.options(second.url)],
    });
    const { error, elapsedMs } = await timedFailure(model.invoke("hi"));
    expect(error.code).toBe("LLM_TIMEOUT");
    expect(error.message).toBe(
      'all 2 models failed: openai model "gpt-4o-mini" timed out after 200 ms (1 attempt); ' +
        'anthropic model "claude-3-5-haiku-latest" timed out after 200 ms (1 attempt)',
    );
    expect(error.details).toEqual({
      timeoutMs: 200,
      attempts: 2,
      models: [
        { provider: "openai", model: "gpt-4o-mini", code: "LLM_TIMEOUT", attempts: 1, timeoutMs: 200 },
        {
          provider: "anthropic",
          model: "claude-3-5-haiku-latest",
          code: "LLM_TIMEOUT",
          attempts: 1,
          timeoutMs: 200,
        },
      ],
    });
    expect(error.cause).toBeInstanceOf(AggregateError);
    expect([first.requests.length, second.requests.length]).toEqual([1, 1]);
    expect(elapsedMs).toBeLessThan(budgetMs(2, 200));
  });

  it("states the timeouts in the aggregate error when the chain mixes failures", async () => {
    const hanging = await serveScript(openAIWire, ["hang"]);
    const unauthorised = await serveScript(anthropicWire, [{ status: 401 }]);
    const model = await createChatModel({
      ...openAIWire.options(hanging.url),
      ...deadline,
      fallbacks: [anthropicWire.options(unauthorised.url)],
    });
    const error = await failure(model.invoke("hi"));
    expect(error.code).toBe("LLM_UNAVAILABLE");
    expect(error.message).toBe(
      'all 2 models failed: openai model "gpt-4o-mini" timed out after 200 ms (1 attempt); ' +
        'anthropic model "claude-3-5-haiku-latest" failed with LLM_AUTH (1 attempt)',
    );
    expect(error.details?.models).toEqual([
      { provider: "openai", model: "gpt-4o-mini", code: "LLM_TIMEOUT", attempts: 1, timeoutMs: 200 },
      { provider: "anthropic", model: "claude-3-5-haiku-latest", code: "LLM_AUTH", attempts: 1 },
    ]);
  });
});

describe("circuit breaker", () => {
  it("opens after repeated failures, fails fast without calling, then probes again", async () => {
    let healthy = false;
    const server = await serve((request, response) =>
      healthy ? openAIWire.reply(request, response, TEXT_REPLY) : openAIWire.error(response, 500),
    );
    const model = await createChatModel({
      ...openAIWire.options(server.url),
      ...fast,
      maxRetries: 0,
      circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 200 },
    });
    expect((await failure(model.invoke("hi"))).details?.status).toBe(500);
    expect((await failure(model.invoke("hi"))).details?.status).toBe(500);
    const fastFailure = await failure(model.invoke("hi"));
    expect(fastFailure.code).toBe("LLM_UNAVAILABLE");
    expect(fastFailure.details?.circuit).toBe("open");
    expect(server.requests).toHaveLength(2);
    healthy = true;
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await model.invoke("hi")).content).toBe("Hello from loopback");
    expect(server.requests).toHaveLength(3);
  });

  it("is not opened by the caller's own mistakes (401)", async () => {
    const server = await serveScript(openAIWire, [{ status: 401 }]);
    const model = await createChatModel({
      ...openAIWire.options(server.url),
      ...fast,
      circuitBreaker: { failureThreshold: 1 },
    });
    await failure(model.invoke("hi"));
    expect((await failure(model.invoke("hi"))).code).toBe("LLM_AUTH");
    expect(server.requests).toHaveLength(2);
  });

  it("sends an open circuit's calls straight to the fallback", async () => {
    const down = await serveScript(openAIWire, [{ status: 500 }]);
    const working = await serveScript(anthropicWire, ["ok"]);
    const model = await createChatModel({
      ...openAIWire.options(down.url),
      ...fast,
      maxRetries: 0,
      circuitBreaker: { failureThreshold: 1, resetTimeoutMs: 60_000 },
      fallbacks: [anthropicWire.options(working.url)],
    });
    await model.invoke("hi");
    await model.invoke("hi");
    expect(down.requests).toHaveLength(1);
    expect(working.requests).toHaveLength(2);
  });
});

describe("bulkhead", () => {
  it("caps concurrent requests per provider", async () => {
    const { state, handler } = slowOpenAI(150);
    const server = await serve(handler);
    const model = await createChatModel({ ...openAIWire.options(server.url), ...fast, maxConcurrency: 2 });
    const replies = await Promise.all(Array.from({ length: 6 }, () => model.invoke("hi")));
    expect(replies.every((reply) => reply.content === "Hello from loopback")).toBe(true);
    expect(state.maxInFlight).toBe(2);
  });

  it("fails fast with LLM_OVERLOADED when the wait queue is full", async () => {
    const { handler } = slowOpenAI(100);
    const server = await serve(handler);
    const model = await createChatModel({
      ...openAIWire.options(server.url),
      ...fast,
      maxConcurrency: 1,
      maxQueue: 1,
    });
    const results = await Promise.allSettled([model.invoke("a"), model.invoke("b"), model.invoke("c")]);
    const rejected = results.filter((result) => result.status === "rejected");
    expect(rejected).toHaveLength(1);
    const reason = (rejected[0] as PromiseRejectedResult).reason as LlmError;
    expect(reason.code).toBe("LLM_OVERLOADED");
    expect(reason.details?.local).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  it("is shared by models built with the same guards", async () => {
    const { state, handler } = slowOpenAI(60);
    const server = await serve(handler);
    const guards = createProviderGuards();
    const options = { ...openAIWire.options(server.url), ...fast, maxConcurrency: 1, guards };
    const [first, second] = await Promise.all([createChatModel(options), createChatModel(options)]);
    await Promise.all([first.invoke("a"), second.invoke("b"), first.invoke("c")]);
    expect(state.maxInFlight).toBe(1);
  });

  it("is per endpoint: Azure models on two endpoints do not share a slot", async () => {
    const [first, second] = await Promise.all([serve(slowOpenAI(60).handler), serve(slowOpenAI(60).handler)]);
    const shared = { ...fast, maxConcurrency: 1, maxQueue: 0, maxRetries: 0, guards: createProviderGuards() };
    const models = await Promise.all(
      [first, second].map((server) => createChatModel({ ...azureWire.options(server.url), ...shared })),
    );
    const replies = await Promise.all(models.map((model) => model.invoke("hi")));
    expect(replies.map((reply) => reply.content)).toEqual(["Hello from loopback", "Hello from loopback"]);
  });

  it("frees the slot of a caller that gave up while queued", async () => {
    const { handler } = slowOpenAI(50);
    const server = await serve(handler);
    const model = await createChatModel({ ...openAIWire.options(server.url), ...fast, maxConcurrency: 1 });
    const controller = new AbortController();
    const running = model.invoke("first");
    const queued = failure(model.invoke("queued", { signal: controller.signal }));
    controller.abort();
    expect(isLlmError(await queued)).toBe(false);
    await running;
    expect((await model.invoke("after")).content).toBe("Hello from loopback");
    expect(server.requests.map((request) => JSON.stringify(request.body))).not.toContain("queued");
  });
});

describe("LangChain integration", () => {
  it("emits each streamed token once in stream events (no duplicate inner run)", async () => {
    const server = await serveScript(openAIWire, ["ok"]);
    const model = await createChatModel({ ...openAIWire.options(server.url), ...fast });
    const tokens: string[] = [];
    for await (const event of model.streamEvents("hi", { version: "v2" })) {
      if (event.event === "on_chat_model_stream") tokens.push(String(event.data.chunk.content));
    }
    expect(tokens.join("")).toBe("Hello from loopback");
  });

  it("drives a LangGraph agent ⇄ tools loop against a loopback OpenAI server", async () => {
    const server = await serveScript(openAIWire, ["tool", "ok"]);
    const calculator = tool(async () => "4", {
      name: "calculator",
      description: "Evaluates an arithmetic expression",
      schema: z.object({ expression: z.string() }),
    });
    const base = await createChatModel({ ...openAIWire.options(server.url), ...fast });
    const graph = agentLoop(base, [calculator]);
    const result = await graph.invoke({ messages: [new HumanMessage("what is 2+2?")] });
    expect(result.messages.map((message) => message.getType())).toEqual(["human", "ai", "tool", "ai"]);
    const secondRequest = server.requests[1]?.body as { messages: { role: string; content: string }[] };
    expect(secondRequest.messages.at(-1)).toMatchObject({ role: "tool", content: "4" });
  });

  it("does not fail a call because the usage hook throws", async () => {
    const server = await serveScript(openAIWire, ["ok"]);
    const model = await createChatModel({
      ...openAIWire.options(server.url),
      ...fast,
      onUsage: () => {
        throw new Error("metrics backend down");
      },
    });
    expect((await model.invoke("hi")).content).toBe("Hello from loopback");
  });
});

describe("stream deadlines", () => {
  it("ends a stalled stream with LLM_TIMEOUT and closes its request", async () => {
    const stalled = await serveScript(openAIWire, ["stall"]);
    const model = await createChatModel({ ...openAIWire.options(stalled.url), ...fast, timeoutMs: 300 });
    let text = "";
    const error = await failure(
      (async () => {
        for await (const chunk of await model.stream("hi")) text += chunk.text;
      })(),
    );
    expect(error.code).toBe("LLM_TIMEOUT");
    expect(error.message).toBe('openai model "gpt-4o-mini" timed out after 300 ms (1 attempt, mid-answer)');
    expect(error.details).toMatchObject({ timeoutMs: 300, attempts: 1 });
    expect(text).toBe("Hello");
    await stalled.waitForClientAborts(1);
  });

  it("frees the bulkhead slot of a stream its consumer abandoned without closing", async () => {
    const server = await serveScript(openAIWire, ["stall", "ok"]);
    const shared = {
      ...openAIWire.options(server.url),
      ...fast,
      maxConcurrency: 1,
      guards: createProviderGuards(),
    };
    const streaming = await createChatModel({ ...shared, timeoutMs: 300 });
    const patient = await createChatModel({ ...shared, timeoutMs: 5_000 });
    const iterator = (await streaming.stream("first"))[Symbol.asyncIterator]();
    await iterator.next();
    // The consumer never calls next() or return() again; the next call waits for the slot.
    expect((await patient.invoke("second")).content).toBe("Hello from loopback");
    await server.waitForClientAborts(1);
  });
});

describe("regressions", () => {
  it("a failed Gemini stream leaves no unhandled rejection behind (google-genai drops its summary promise)", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const server = await serveScript(geminiWire, ["disconnect"]);
      const model = await createChatModel({ ...geminiWire.options(server.url), ...fast, maxRetries: 0 });
      expect(isLlmError(await failure(model.invoke("hi")))).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});

describe("structured output", () => {
  it("parses and validates a tool-call answer through the resilient routes", async () => {
    const server = await serve((request, response) =>
      openAIWire.reply(request, response, {
        parts: [],
        toolCall: { id: "call_1", name: "capital", args: { city: "Paris" } },
        inputTokens: 5,
        outputTokens: 4,
      }),
    );
    const model = await createChatModel({ ...openAIWire.options(server.url), ...fast });
    const structured = model.withStructuredOutput(z.object({ city: z.string() }), { name: "capital" });
    expect(await structured.invoke("capital of France?")).toEqual({ city: "Paris" });
    expect(JSON.stringify(server.requests[0]?.body)).toContain('"capital"');
  });

  it("rejects an answer that does not match the schema", async () => {
    const server = await serve((request, response) =>
      openAIWire.reply(request, response, {
        parts: [],
        toolCall: { id: "call_1", name: "capital", args: { city: 42 } },
        inputTokens: 5,
        outputTokens: 4,
      }),
    );
    const model = await createChatModel({ ...openAIWire.options(server.url), ...fast });
    const structured = model.withStructuredOutput(z.object({ city: z.string() }), { name: "capital" });
    await expect(structured.invoke("capital of France?")).rejects.toThrow();
  });
});
