import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { rejectionOf } from "@mcp-langgraph/testkit/errors";
import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport, McpServer } from "@modelcontextprotocol/server";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  createSamplingChatModel,
  isLlmError,
  type LlmError,
  OFFLINE_NOTICE,
  type SamplingRequest,
  type SamplingResponse,
} from "../src/index.ts";

const calculator = tool(async ({ expression }) => expression, {
  name: "calculator",
  description: "Evaluates an arithmetic expression",
  schema: z.object({ expression: z.string() }),
});

type SamplingHandler = (request: SamplingRequest) => SamplingResponse | Promise<SamplingResponse>;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/**
 * A real MCP client (declaring sampling with tools) and server over the SDK's in-memory
 * transport: the model's `sample` is exactly what the app wires, server.createMessage.
 */
async function connectSamplingClient(handler: SamplingHandler) {
  const seen: SamplingRequest[] = [];
  const server = new McpServer({ name: "llm-factory-test", version: "1.0.0" });
  const client = new Client(
    { name: "sampling-client", version: "1.0.0" },
    { capabilities: { sampling: { tools: {} } } },
  );
  client.setRequestHandler("sampling/createMessage", async (request) => {
    const params = request.params as unknown as SamplingRequest;
    seen.push(params);
    return (await handler(params)) as never;
  });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await Promise.all([client.connect(clientTransport), server.connect(serverTransport)]);
  closers.push(async () => {
    await client.close();
    await server.close();
  });
  const sample = (request: SamplingRequest, { signal }: { signal: AbortSignal }) =>
    server.server.createMessage(request, { signal });
  return { sample, seen };
}

const failure = (promise: Promise<unknown>) => rejectionOf<LlmError>(promise);

describe("MCP sampling model", () => {
  it("answers through the client's model, with the system prompt and token budget", async () => {
    const { sample, seen } = await connectSamplingClient(() => ({
      role: "assistant",
      model: "client-model-1",
      content: { type: "text", text: "Paris." },
      stopReason: "endTurn",
    }));
    const model = await createSamplingChatModel({ sample, maxTokens: 256 });
    const reply = await model.invoke([
      new SystemMessage("Be brief."),
      new HumanMessage("Capital of France?"),
    ]);
    expect(reply.content).toBe("Paris.");
    expect(reply.response_metadata.model_name).toBe("client-model-1");
    expect(reply.usage_metadata?.output_tokens).toBeGreaterThan(0);
    expect(seen[0]).toMatchObject({
      systemPrompt: "Be brief.",
      maxTokens: 256,
      messages: [{ role: "user", content: { type: "text", text: "Capital of France?" } }],
    });
  });

  it("round-trips tool use and tool results in MCP's shape", async () => {
    const { sample, seen } = await connectSamplingClient((request) =>
      request.messages.length === 1
        ? {
            role: "assistant",
            model: "client-model-1",
            stopReason: "toolUse",
            content: [{ type: "tool_use", id: "tu_1", name: "calculator", input: { expression: "6*7" } }],
          }
        : { role: "assistant", model: "client-model-1", content: { type: "text", text: "It is 42." } },
    );
    const model = (await createSamplingChatModel({ sample })).bindTools!([calculator]);
    const first = await model.invoke([new HumanMessage("6*7?")]);
    expect(first.tool_calls).toEqual([
      expect.objectContaining({ id: "tu_1", name: "calculator", args: { expression: "6*7" } }),
    ]);
    expect(seen[0]?.tools).toEqual([
      expect.objectContaining({
        name: "calculator",
        inputSchema: expect.objectContaining({ type: "object" }),
      }),
    ]);
    const second = await model.invoke([
      new HumanMessage("6*7?"),
      new AIMessage({ content: "", tool_calls: first.tool_calls ?? [] }),
      new ToolMessage({ content: "42", tool_call_id: "tu_1" }),
    ]);
    expect(second.content).toBe("It is 42.");
    expect(seen[1]?.messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: { type: "tool_use", id: "tu_1", name: "calculator", input: { expression: "6*7" } },
      },
      {
        role: "user",
        content: [{ type: "tool_result", toolUseId: "tu_1", content: [{ type: "text", text: "42" }] }],
      },
    ]);
  });

  it("times out a client that never answers with LLM_TIMEOUT, without asking again", async () => {
    const { sample, seen } = await connectSamplingClient(() => new Promise<SamplingResponse>(() => {}));
    const model = await createSamplingChatModel({ sample, timeoutMs: 200 });
    expect((await failure(model.invoke("hi"))).code).toBe("LLM_TIMEOUT");
    expect(seen).toHaveLength(1);
  });

  it("hands the caller's abort to the sample function", async () => {
    let sawAbort = false;
    const model = await createSamplingChatModel({
      sample: (_request, { signal }) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener("abort", () => {
            sawAbort = true;
            reject(signal.reason);
          }),
        ),
    });
    const controller = new AbortController();
    const pending = failure(model.invoke("hi", { signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    expect(isLlmError(await pending)).toBe(false);
    expect(sawAbort).toBe(true);
  });

  it("falls back (here: to the offline model) when the client declines to sample", async () => {
    const { sample } = await connectSamplingClient(() => {
      throw new Error("user rejected the sampling request");
    });
    const model = await createSamplingChatModel({
      sample,
      maxRetries: 0,
      fallbacks: [{ provider: "offline" }],
    });
    const reply = await model.invoke("hello");
    expect(reply.content).toContain(OFFLINE_NOTICE);
  });

  it("rejects a result without content as LLM_BAD_RESPONSE", async () => {
    const model = await createSamplingChatModel({
      sample: async () => ({ role: "assistant", model: "x" }) as unknown as SamplingResponse,
      maxRetries: 0,
    });
    expect((await failure(model.invoke("hi"))).code).toBe("LLM_BAD_RESPONSE");
  });

  it("needs a sample function", async () => {
    const error = await failure(createSamplingChatModel({} as never));
    expect(error.code).toBe("LLM_CONFIG");
  });
});
