// The real app process exporting to a loopback OTLP/HTTP receiver, and, with tracing unset, not
// loading the OpenTelemetry SDK at all.
import { fileURLToPath } from "node:url";
import { openAIWire, scripted, startLoopbackServer } from "@mcp-langgraph/testkit/llm-loopback";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "@mcp-langgraph/testkit/otlp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, login } from "./helpers.ts";
import { spawnApp } from "./spawn.ts";

const probe = fileURLToPath(new URL("./fixtures/module-probe.mjs", import.meta.url));
const PROBE_OPTIONS = { NODE_OPTIONS: `--import=${probe}` };
const probed = (stderr: string) => [...stderr.matchAll(/\[module-probe\] (\S+)/g)].map((match) => match[1]);

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

/** One agent_chat (the model asks for the calculator, then answers), then SIGTERM. */
async function chatOnce(env: Record<string, string>) {
  const llm = await startLoopbackServer(scripted(openAIWire, ["tool", "ok"]));
  const app = await spawnApp({
    LOCAL_USERS: "alice:alice-pw:user",
    LLM_PROVIDER: "openai",
    MODEL_NAME: "gpt-4o-mini",
    OPENAI_API_KEY: "sk-otlp-test",
    OPENAI_BASE_URL: `${llm.url}/v1`,
    ...env,
  });
  try {
    const { client } = await connect(app.url, await login(app.url, "alice", "alice-pw"));
    const result = await client.callTool({ name: "agent_chat", arguments: { message: "what is 6 * 7?" } });
    await client.close();
    expect(result.isError).toBeFalsy();
    app.child.kill("SIGTERM");
    expect(await app.exited).toBe(0);
    return app;
  } finally {
    app.child.kill("SIGKILL");
    await llm.close();
  }
}

function expectChain(spans: ReceivedSpan[]) {
  const one = (name: string) => {
    const found = spans.filter((span) => span.name === name);
    expect(found.length, name).toBeGreaterThanOrEqual(1);
    return found[0] as ReceivedSpan;
  };
  const tool = one("tools/call agent_chat");
  const http = spans.find((span) => span.spanId === tool.parentSpanId);
  expect(http?.name).toBe("POST /mcp");
  expect(http?.kind).toBe(2);
  expect(http?.attributes["http.response.status_code"]).toBe(200);
  const turn = one("invoke_agent mcp-langgraph");
  expect(turn.parentSpanId).toBe(tool.spanId);
  const chat = one("chat gpt-4o-mini");
  expect(chat.parentSpanId).toBe(turn.spanId);
  expect(chat.kind).toBe(3);
  expect(chat.attributes).toMatchObject({ "gen_ai.system": "openai", "gen_ai.usage.output_tokens": 5 });
  expect(one("execute_tool calculator").parentSpanId).toBe(turn.spanId);
  expect(spans.some((span) => span.name === "authz.check" && span.parentSpanId === tool.spanId)).toBe(true);
  for (const span of [http, tool, turn, chat]) expect(span?.traceId).toBe(tool.traceId);
}

describe("OTLP export from the app process", () => {
  it("posts protobuf spans to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces with the service name and headers", async () => {
    const app = await chatOnce({
      ...PROBE_OPTIONS,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: "mcp-under-test",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=test",
      OTEL_EXPORTER_OTLP_HEADERS: "x-collector-key=collector-secret-123",
    });
    // Exported at shutdown at the latest (the provider is flushed before the process exits).
    const spans = receiver.spans.filter((span) => span.resource["service.name"] === "mcp-under-test");
    expectChain(spans);
    expect(spans[0]?.resource["deployment.environment"]).toBe("test");
    const request = receiver.requests.find((entry) => entry.headers["x-collector-key"] !== undefined);
    expect(request?.path).toBe("/v1/traces");
    expect(request?.contentType).toBe("application/x-protobuf");
    expect(request?.headers["x-collector-key"]).toBe("collector-secret-123");
    // The positive control of the module-cache check below: configured, the SDK is loaded.
    expect(probed(app.stderr())).toContain("@opentelemetry/sdk-trace-base");
    expect(app.stdout()).not.toContain("collector-secret-123");
  }, 60_000);

  it("speaks OTLP/JSON with OTEL_EXPORTER_OTLP_PROTOCOL=http/json", async () => {
    await chatOnce({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "mcp-json",
    });
    const spans = receiver.spans.filter((span) => span.resource["service.name"] === "mcp-json");
    expectChain(spans);
    expect(receiver.requests.some((entry) => entry.contentType.startsWith("application/json"))).toBe(true);
  }, 60_000);

  it("with OTEL_EXPORTER_OTLP_ENDPOINT unset, never loads the OpenTelemetry SDK", async () => {
    const before = receiver.spans.length;
    const app = await chatOnce(PROBE_OPTIONS);
    const loaded = probed(app.stderr());
    // The probe works (the packages' api is resolved) and saw no SDK module.
    expect(loaded).toContain("@opentelemetry/api");
    expect(loaded.filter((name) => name !== "@opentelemetry/api")).toEqual([]);
    expect(receiver.spans.length).toBe(before);
  }, 60_000);

  it("refuses OTLP over gRPC at start-up, naming the variable", async () => {
    await expect(
      spawnApp({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }),
    ).rejects.toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported/);
  });
});
