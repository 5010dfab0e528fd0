import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ChatOpenAI } from "@langchain/openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AgentEvent, createAgent, isAgentError } from "../src/index.ts";

/**
 * A loopback server speaking OpenAI's chat-completions wire format, so the agent
 * drives a real HTTP client (ChatOpenAI) end to end: tool calls in, tool results
 * out, and an abort that must reach the socket.
 */
interface CompletionRequest {
  messages: { role: string; content: unknown }[];
  stream?: boolean;
}
type Handler = (body: CompletionRequest, res: ServerResponse) => void;

let server: Server;
let baseURL: string;
let handler: Handler;
const requests: CompletionRequest[] = [];

beforeAll(async () => {
  server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    requests.push(body);
    handler(body, res);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterEach(() => {
  requests.length = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function completion(message: Record<string, unknown>, finishReason: string) {
  return JSON.stringify({
    id: "chatcmpl-test",
    object: "chat.completion",
    created: 1_700_000_000,
    model: "gpt-test",
    choices: [{ index: 0, message: { role: "assistant", ...message }, finish_reason: finishReason }],
    usage: { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 },
  });
}

/** Asks for the calculator, then answers with its result; every completion has the same id. */
const calculatorRoundTrip: Handler = (body, res) => {
  res.setHeader("content-type", "application/json");
  const last = body.messages.at(-1);
  if (last?.role === "tool") {
    res.end(completion({ content: `It is ${String(last.content)}.` }, "stop"));
    return;
  }
  res.end(
    completion(
      {
        content: null,
        tool_calls: [
          {
            id: "call_1",
            type: "function",
            function: { name: "calculator", arguments: JSON.stringify({ expression: "6*7" }) },
          },
        ],
      },
      "tool_calls",
    ),
  );
};

/** The same conversation as calculatorRoundTrip, streamed as server-sent chat.completion.chunk events. */
const streamedCalculatorRoundTrip: Handler = (body, res) => {
  res.setHeader("content-type", "text/event-stream");
  const send = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    res.write(
      `data: ${JSON.stringify({
        id: "chatcmpl-stream",
        object: "chat.completion.chunk",
        created: 1_700_000_000,
        model: "gpt-test",
        choices: [{ index: 0, delta, finish_reason: finishReason }],
      })}\n\n`,
    );
  const last = body.messages.at(-1);
  if (last?.role === "tool") {
    send({ role: "assistant", content: "" });
    for (const piece of ["It ", "is ", String(last.content), "."]) send({ content: piece });
    send({}, "stop");
  } else {
    send({
      role: "assistant",
      content: null,
      tool_calls: [
        { index: 0, id: "call_1", type: "function", function: { name: "calculator", arguments: "" } },
      ],
    });
    send({ tool_calls: [{ index: 0, function: { arguments: '{"expression":' } }] });
    send({ tool_calls: [{ index: 0, function: { arguments: '"6*7"}' } }] });
    send({}, "tool_calls");
  }
  res.end("data: [DONE]\n\n");
};

function openAiModel() {
  return new ChatOpenAI({ model: "gpt-test", apiKey: "test-key", maxRetries: 0, configuration: { baseURL } });
}

describe("agent with a real HTTP chat model (loopback OpenAI wire format)", () => {
  it("runs the calculator round trip through OpenAI tool calls", async () => {
    handler = calculatorRoundTrip;
    const result = await createAgent({ model: openAiModel() }).chat({
      threadId: "http-1",
      message: "what is 6*7?",
    });
    expect(result.reply).toBe("It is 42.");
    expect(result.usage).toEqual({ inputTokens: 22, outputTokens: 10 });
    expect(requests).toHaveLength(2);
    expect(requests[1]?.messages.map((message) => message.role)).toEqual([
      "system",
      "user",
      "assistant",
      "tool",
    ]);
  });

  it("regression: a server reusing completion ids overwrote the earlier assistant message", async () => {
    handler = calculatorRoundTrip;
    const result = await createAgent({ model: openAiModel() }).chat({
      threadId: "http-3",
      message: "what is 6*7?",
    });
    expect(result.messages.map((message) => message.role)).toEqual([
      "user",
      "assistant",
      "tool",
      "assistant",
    ]);
    expect(result.messages[1]?.toolCalls).toEqual([{ name: "calculator", args: { expression: "6*7" } }]);
  });

  it("streams tokens and assembles streamed tool-call arguments from a real streaming client", async () => {
    handler = (body, res) => (body.stream ? streamedCalculatorRoundTrip : calculatorRoundTrip)(body, res);
    const events: AgentEvent[] = [];
    const agent = createAgent({ model: openAiModel() });
    for await (const event of agent.streamChat({ threadId: "http-5", message: "what is 6*7?" }))
      events.push(event);
    expect(requests.map((request) => request.stream)).toEqual([true, true]);
    expect(events.slice(0, 2)).toEqual([
      { type: "tool_call", name: "calculator", args: { expression: "6*7" } },
      { type: "tool_result", name: "calculator", content: "42" },
    ]);
    expect(
      events.filter((event) => event.type === "token").map((event) => event.type === "token" && event.text),
    ).toEqual(["It ", "is ", "42", "."]);
    const last = events.at(-1);
    expect(last?.type === "reply" && last.reply.reply).toBe("It is 42.");
  });

  it("reports a provider failure as AGENT_FAILED without the provider's text, keeping the raw error as cause", async () => {
    handler = (_body, res) => {
      res.statusCode = 500;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ error: { message: "internal detail sk-live-secret", type: "server_error" } }));
    };
    const error = await createAgent({ model: openAiModel() })
      .chat({ threadId: "http-4", message: "hello" })
      .catch((caught: unknown) => caught);
    expect(isAgentError(error) && error.code).toBe("AGENT_FAILED");
    expect((error as Error).message).not.toContain("sk-live-secret");
    expect(String((error as Error).cause)).toContain("500");
  });

  it("aborts the in-flight LLM request when the caller cancels", async () => {
    let requestClosed!: () => void;
    const closed = new Promise<void>((resolve) => {
      requestClosed = resolve;
    });
    let requestArrived!: () => void;
    const arrived = new Promise<void>((resolve) => {
      requestArrived = resolve;
    });
    handler = (_body, res) => {
      // Never answer: only the client giving up can end this request.
      res.on("close", requestClosed);
      requestArrived();
    };
    const controller = new AbortController();
    const turn = createAgent({ model: openAiModel() }).chat({
      threadId: "http-2",
      message: "hello",
      signal: controller.signal,
    });
    await arrived;
    controller.abort();
    const error = await turn.catch((caught: unknown) => caught);
    expect(isAgentError(error) && error.code).toBe("AGENT_CANCELLED");
    await closed;
  });
});
