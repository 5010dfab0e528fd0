// Spans through the HTTP app, exported by the same provider and batch processor the app uses
// with OTEL_EXPORTER_OTLP_ENDPOINT, into an in-memory exporter instead of OTLP.
import { noopLogger } from "@mcp-langgraph/core";
import { openAIWire, scripted, startLoopbackServer } from "@mcp-langgraph/testkit/llm-loopback";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/config.ts";
import { type RunningHttpServer, startHttpServer } from "../src/server.ts";
import { connect, INITIALIZE, login, postMcp, USERS } from "./helpers.ts";

const exporter = new InMemorySpanExporter();
let llm: Awaited<ReturnType<typeof startLoopbackServer>>;
let server: RunningHttpServer;

beforeAll(async () => {
  llm = await startLoopbackServer(scripted(openAIWire, ["tool", "ok"]));
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    LOCAL_USERS: USERS,
    LLM_PROVIDER: "openai",
    MODEL_NAME: "gpt-4o-mini",
    OPENAI_API_KEY: "sk-tracing-test-key",
    OPENAI_BASE_URL: `${llm.url}/v1`,
    // Never reached: the exporter below replaces the OTLP one.
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
    OTEL_BSP_SCHEDULE_DELAY: "20",
  });
  server = await startHttpServer(config, noopLogger, { traceExporter: exporter });
});

afterAll(async () => {
  await server?.close();
  await llm?.close();
});

const named = (spans: ReadableSpan[], name: string) => spans.filter((span) => span.name === name);
const parentOf = (span: ReadableSpan | undefined) => span?.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan | undefined) => span?.spanContext().spanId;

describe("tracing through the HTTP app", () => {
  it("chains HTTP request → tool call → agent turn → model calls, calculator and authz checks", async () => {
    const token = await login(server.url, "alice", "alice-pw");
    const { client } = await connect(server.url, token);
    const result = await client.callTool({
      name: "agent_chat",
      arguments: { message: "what is 2+2? my password is hunter2" },
    });
    await client.close();
    expect(result.isError).toBeFalsy();

    let tool: ReadableSpan | undefined;
    await vi.waitFor(() => {
      [tool] = named(exporter.getFinishedSpans(), "tools/call agent_chat");
      expect(tool).toBeDefined();
      expect(
        named(exporter.getFinishedSpans(), "POST /mcp").some((span) => idOf(span) === parentOf(tool)),
      ).toBe(true);
    });
    const spans = exporter.getFinishedSpans();
    const http = spans.find((span) => idOf(span) === parentOf(tool));
    expect(http?.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/mcp",
      "http.response.status_code": 200,
    });
    expect(tool?.attributes).toMatchObject({
      "mcp.method.name": "tools/call",
      "gen_ai.tool.name": "agent_chat",
    });

    const [turn] = named(spans, "invoke_agent mcp-langgraph");
    expect(parentOf(turn)).toBe(idOf(tool));
    const chats = named(spans, "chat gpt-4o-mini");
    expect(chats).toHaveLength(2);
    for (const chat of chats) {
      expect(parentOf(chat)).toBe(idOf(turn));
      expect(chat.attributes).toMatchObject({
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
      });
    }
    expect(chats[0]?.attributes["gen_ai.usage.input_tokens"]).toBe(9);
    const [calculator] = named(spans, "execute_tool calculator");
    expect(parentOf(calculator)).toBe(idOf(turn));

    // The tool grant is checked in the tool call, the conversation's ownership in the turn.
    const checks = named(spans, "authz.check");
    const grant = checks.find((span) => parentOf(span) === idOf(tool));
    expect(grant?.attributes).toMatchObject({
      "authz.relation": "executor",
      "authz.object.type": "tool",
      "authz.allowed": true,
    });

    // Everything in one trace; nothing of the message, the reply, credentials or the user's name.
    const trace = spans.filter((span) => span.spanContext().traceId === tool?.spanContext().traceId);
    expect(trace.length).toBeGreaterThanOrEqual(6);
    const text = JSON.stringify(spans.map((span) => [span.name, span.attributes, span.events]));
    for (const secret of ["hunter2", "2+2", "Hello from loopback", "sk-tracing-test-key", "alice", token]) {
      expect(text).not.toContain(secret);
    }
  });

  it("continues the caller's trace from its traceparent header", async () => {
    const token = await login(server.url, "bob", "bob-pw");
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const parentId = "00f067aa0ba902b7";
    const response = await postMcp(server.url, INITIALIZE, {
      authorization: `Bearer ${token}`,
      traceparent: `00-${traceId}-${parentId}-01`,
    });
    expect(response.status).toBe(200);
    await vi.waitFor(() => {
      const span = exporter
        .getFinishedSpans()
        .find((candidate) => candidate.spanContext().traceId === traceId && candidate.name === "POST /mcp");
      expect(parentOf(span)).toBe(parentId);
    });
  });

  it("marks a 4xx request span without an error status, and names unmatched routes by method only", async () => {
    const response = await fetch(`${server.url}/no/such/path?secret=abc`);
    expect(response.status).toBe(404);
    await vi.waitFor(() => {
      const span = exporter
        .getFinishedSpans()
        .find((candidate) => candidate.attributes["http.response.status_code"] === 404);
      expect(span?.name).toBe("GET");
      expect(span?.status.code).toBe(0);
      expect(JSON.stringify(span?.attributes)).not.toContain("secret");
    });
  });
});
