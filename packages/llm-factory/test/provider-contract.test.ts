import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { AIMessageChunk } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { rejectionOf } from "@mcp-langgraph/testkit/errors";
import {
  type Action,
  ALL_WIRES,
  type LoopbackServer,
  scripted,
  startLoopbackServer,
} from "@mcp-langgraph/testkit/llm-loopback";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import {
  type ChatModelOptions,
  closeChatModel,
  createChatModel,
  isLlmError,
  type LlmError,
  type UsageReport,
} from "../src/index.ts";

const calculator = tool(async ({ expression }) => expression, {
  name: "calculator",
  description: "Evaluates an arithmetic expression",
  schema: z.object({ expression: z.string() }),
});

const failure = rejectionOf;

async function collect(stream: AsyncIterable<AIMessageChunk>): Promise<AIMessageChunk[]> {
  const chunks: AIMessageChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

// One contract, every provider: the real @langchain client against a loopback server speaking its wire format.
describe.each(ALL_WIRES.map((wire) => [wire.provider, wire] as const))(
  "provider contract: %s",
  (_name, wire) => {
    let server: LoopbackServer | undefined;
    const models: BaseChatModel[] = [];
    afterEach(async () => {
      await Promise.all(models.splice(0).map((model) => closeChatModel(model)));
      await server?.close();
      server = undefined;
    });

    async function modelFor(actions: Action[], overrides: ChatModelOptions = {}) {
      server = await startLoopbackServer(scripted(wire, actions), { http2: wire.http2 });
      const model = await createChatModel({
        ...wire.options(server.url),
        retryBaseDelayMs: 5,
        timeoutMs: 5_000,
        ...overrides,
      });
      models.push(model);
      return { model, server };
    }

    it("answers with text, token usage and an estimated cost", async () => {
      const reports: UsageReport[] = [];
      const { model } = await modelFor(["ok"], { onUsage: (report) => reports.push(report) });
      const reply = await model.invoke("hi");
      expect(reply.content).toBe("Hello from loopback");
      expect(reply.usage_metadata).toMatchObject({ input_tokens: 7, output_tokens: 3, total_tokens: 10 });
      expect(reply.response_metadata.llm_provider).toBe(wire.provider);
      expect(reports).toEqual([
        expect.objectContaining({
          provider: wire.provider,
          model: wire.model,
          inputTokens: 7,
          outputTokens: 3,
        }),
      ]);
    });

    it("returns tool calls for bound tools", async () => {
      const { model, server } = await modelFor(["tool"]);
      const reply = await model.bindTools?.([calculator]).invoke("what is 2+2?");
      expect(reply?.tool_calls).toEqual([
        expect.objectContaining({ name: "calculator", args: { expression: "2+2" } }),
      ]);
      expect(JSON.stringify(server.requests[0]?.body)).toContain("calculator");
    });

    it.runIf(wire.streams)("streams tokens as an AsyncIterable with usage", async () => {
      const reports: UsageReport[] = [];
      const { model } = await modelFor(["ok"], { onUsage: (report) => reports.push(report) });
      const chunks = await collect(await model.stream("hi"));
      const texts = chunks.map((chunk) => chunk.text).filter(Boolean);
      expect(texts.length).toBeGreaterThanOrEqual(3);
      expect(texts.join("")).toBe("Hello from loopback");
      const merged = chunks.reduce((sum, chunk) => sum.concat(chunk));
      expect(merged.usage_metadata?.output_tokens).toBe(3);
      expect(merged.response_metadata.llm_provider).toBe(wire.provider);
      expect(reports).toEqual([expect.objectContaining({ provider: wire.provider, outputTokens: 3 })]);
      expect(reports[0]?.inputTokens).toBe(merged.usage_metadata?.input_tokens);
    });

    it.runIf(wire.streams)("streams a tool call", async () => {
      const { model } = await modelFor(["tool"]);
      const bound = model.bindTools?.([calculator]);
      let merged: AIMessageChunk | undefined;
      for await (const chunk of await bound!.stream("what is 2+2?"))
        merged = merged ? merged.concat(chunk) : chunk;
      expect(merged?.tool_calls).toEqual([
        expect.objectContaining({ name: "calculator", args: { expression: "2+2" } }),
      ]);
    });

    it("retries a 429 and honours Retry-After", async () => {
      const { model, server } = await modelFor([{ status: 429, headers: { "retry-after": "1" } }, "ok"]);
      const started = performance.now();
      const reply = await model.invoke("hi");
      expect(reply.content).toBe("Hello from loopback");
      expect(server.requests).toHaveLength(2);
      if (wire.carriesRetryAfter) expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    });

    it("reports LLM_RATE_LIMITED with retryAfterMs when retries run out", async () => {
      const { model } = await modelFor([{ status: 429, headers: { "retry-after": "7" } }], { maxRetries: 0 });
      const error = (await failure(model.invoke("hi"))) as LlmError;
      expect(isLlmError(error)).toBe(true);
      expect(error.code).toBe("LLM_RATE_LIMITED");
      if (wire.carriesRetryAfter) expect(error.retryAfterMs).toBe(7_000);
    });

    it("never waits out a Retry-After longer than maxRetryAfterMs", async () => {
      const { model, server } = await modelFor([{ status: 429, headers: { "retry-after": "120" } }, "ok"]);
      if (wire.carriesRetryAfter) {
        // The long wait is known: give up on this model at once (a fallback would take over).
        const error = (await failure(model.invoke("hi"))) as LlmError;
        expect(error.code).toBe("LLM_RATE_LIMITED");
        expect(server.requests).toHaveLength(1);
      } else {
        // The client hides the header (Ollama): the retry runs on the computed backoff, not 120 s.
        expect((await model.invoke("hi")).content).toBe("Hello from loopback");
        expect(server.requests).toHaveLength(2);
      }
    });

    it("treats 529/503 as overloaded: retried, then LLM_OVERLOADED", async () => {
      const overloaded = wire.provider === "anthropic" ? 529 : 503;
      const { model, server } = await modelFor([{ status: overloaded }, "ok"]);
      expect((await model.invoke("hi")).content).toBe("Hello from loopback");
      expect(server.requests).toHaveLength(2);
      await server.close();
      const exhausted = await modelFor([{ status: overloaded }], { maxRetries: 1 });
      const error = (await failure(exhausted.model.invoke("hi"))) as LlmError;
      expect(error.code).toBe("LLM_OVERLOADED");
      expect(exhausted.server.requests).toHaveLength(2);
    });

    it("recovers from a 500 on the next attempt", async () => {
      const { model, server } = await modelFor([{ status: 500 }, "ok"]);
      expect((await model.invoke("hi")).content).toBe("Hello from loopback");
      expect(server.requests).toHaveLength(2);
    });

    it.each([
      [401, "LLM_AUTH"],
      [403, "LLM_AUTH"],
      [404, "LLM_MODEL_NOT_FOUND"],
      [400, "LLM_BAD_REQUEST"],
    ])("never retries HTTP %i (%s)", async (status, code) => {
      const { model, server } = await modelFor([{ status }, "ok"], { maxRetries: 3 });
      const error = (await failure(model.invoke("hi"))) as LlmError;
      expect(error.code).toBe(code);
      expect(server.requests).toHaveLength(1);
    });

    it("times out a hung provider with LLM_TIMEOUT, once, saying so, and closes the connection", async () => {
      const { model, server } = await modelFor(["hang"], { timeoutMs: 300, maxRetries: 2 });
      const startedAt = performance.now();
      const error = (await failure(model.invoke("hi"))) as LlmError;
      const elapsedMs = performance.now() - startedAt;
      expect(error.code).toBe("LLM_TIMEOUT");
      expect(error.message).toBe(
        `${wire.provider} model "${wire.model}" timed out after 300 ms (1 attempt, no fallback)`,
      );
      expect(server.requests).toHaveLength(1);
      // Behavioural bound (one deadline per attempt plus slack), not a speed benchmark.
      expect(elapsedMs).toBeLessThan(server.requests.length * 300 + 1_000);
      await server.waitForClientAborts(1);
    });

    it("reports malformed JSON as LLM_BAD_RESPONSE", async () => {
      const { model } = await modelFor(["malformed"], { maxRetries: 0 });
      const error = (await failure(model.invoke("hi"))) as LlmError;
      expect(isLlmError(error)).toBe(true);
      expect(error.code).toBe("LLM_BAD_RESPONSE");
    });

    it.runIf(wire.streams)(
      "fails a stream cut mid-way with a typed error after the first tokens",
      async () => {
        const { model } = await modelFor(["disconnect"], { maxRetries: 0 });
        const seen: string[] = [];
        const error = await failure(
          (async () => {
            for await (const chunk of await model.stream("hi")) seen.push(chunk.text);
          })(),
        );
        expect(isLlmError(error)).toBe(true);
        expect(seen.join("")).toBe("Hello");
      },
    );

    it("lets the caller cancel: the call rejects and the server sees the connection close", async () => {
      const { model, server } = await modelFor(["hang"]);
      const controller = new AbortController();
      const pending = failure(model.invoke("hi", { signal: controller.signal }));
      while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      controller.abort();
      const error = await pending;
      expect(isLlmError(error)).toBe(false);
      await server.waitForClientAborts(1);
      expect(server.requests).toHaveLength(1);
    });

    // Only the pooled providers have this case (Gemini's SDK takes no fetch, Bedrock opens a session
    // per call: see connection-pools.test.ts), and it is left out rather than reported as skipped.
    if (wire.pooled) {
      it("reuses its kept-alive connection and closes it with closeChatModel", async () => {
        const { model, server } = await modelFor(["ok"]);
        await model.invoke("hi");
        // undici frees the connection just after the answer's body has resolved, not within the same tick.
        await new Promise((resolve) => setTimeout(resolve, 10));
        await model.invoke("hi");
        expect(server.connections).toBe(1);
        expect(server.openConnections).toBe(1);
        await closeChatModel(model);
        await vi.waitFor(() => expect(server.openConnections).toBe(0));
      });
    }

    it.runIf(wire.streams)("lets the caller cancel a stream mid-way and closes the connection", async () => {
      const { model, server } = await modelFor(["stall"]);
      const controller = new AbortController();
      const seen: string[] = [];
      const error = await failure(
        (async () => {
          for await (const chunk of await model.stream("hi", { signal: controller.signal })) {
            seen.push(chunk.text);
            if (seen.join("") === "Hello") controller.abort();
          }
        })(),
      );
      expect(isLlmError(error)).toBe(false);
      await server.waitForClientAborts(1);
    });
  },
);
