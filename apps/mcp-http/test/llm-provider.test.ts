// The llm-factory's own loopback servers speak each vendor's wire format to the real @langchain clients.
import {
  type LoopbackServer,
  openAIWire,
  scripted,
  startLoopbackServer,
} from "@mcp-langgraph/testkit/llm-loopback";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, login, startTestServer, textOf } from "./helpers.ts";

let openai: LoopbackServer;
let app: RunningHttpServer;

beforeAll(async () => {
  // First call: the model asks for the calculator; second call: it answers.
  openai = await startLoopbackServer(scripted(openAIWire, ["tool", "ok"]));
  app = await startTestServer({
    LLM_PROVIDER: "openai",
    MODEL_NAME: "gpt-4o-mini",
    OPENAI_API_KEY: "sk-app-test",
    OPENAI_BASE_URL: `${openai.url}/v1`,
  });
});
afterAll(async () => {
  await app?.close();
  await openai?.close();
});

describe("agent_chat with a configured OpenAI provider", () => {
  it("runs the agent loop against the provider's HTTP API", async () => {
    const { client } = await connect(app.url, await login(app.url, "alice", "alice-pw"));
    try {
      const result = await client.callTool({ name: "agent_chat", arguments: { message: "add two and two" } });
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toBe("Hello from loopback");
    } finally {
      await client.close();
    }
    expect(openai.requests).toHaveLength(2);
    const [first, second] = openai.requests;
    expect(first?.headers.authorization).toBe("Bearer sk-app-test");
    expect(JSON.stringify(first?.body)).toContain("calculator");
    // The calculator's result went back to the model as a tool message.
    const messages = (second?.body as { messages?: { role: string; content: unknown }[] } | undefined)
      ?.messages;
    expect(messages?.at(-1)).toMatchObject({ role: "tool", content: "4" });
  });

  it("closes its kept-alive provider connections when it shuts down", async () => {
    const provider = await startLoopbackServer(scripted(openAIWire, ["ok"]), { keepAliveTimeoutMs: 0 });
    const closing = await startTestServer({
      LLM_PROVIDER: "openai",
      MODEL_NAME: "gpt-4o-mini",
      OPENAI_API_KEY: "sk-app-test",
      OPENAI_BASE_URL: `${provider.url}/v1`,
    });
    try {
      const { client } = await connect(closing.url, await login(closing.url, "alice", "alice-pw"));
      await client.callTool({ name: "agent_chat", arguments: { message: "hello" } });
      await client.close();
      expect(provider.openConnections).toBe(1);
      await closing.close();
      await vi.waitFor(() => expect(provider.openConnections).toBe(0));
    } finally {
      await closing.close();
      await provider.close();
    }
  });

  it("refuses to start when the configured provider has no key", async () => {
    await expect(startTestServer({ LLM_PROVIDER: "openai", MODEL_NAME: "gpt-4o-mini" })).rejects.toThrow(
      /OPENAI_API_KEY/,
    );
  });
});

describe("agent_chat with a provider that never answers", () => {
  it("ends with a retryable tool error saying the model timed out, after how long and how many attempts", async () => {
    const hanging = await startLoopbackServer(scripted(openAIWire, ["hang"]));
    const timingOut = await startTestServer({
      LLM_PROVIDER: "openai",
      MODEL_NAME: "gpt-4o-mini",
      OPENAI_API_KEY: "sk-app-test",
      OPENAI_BASE_URL: `${hanging.url}/v1`,
      MODEL_TIMEOUT_MS: "300",
      LLM_MAX_RETRIES: "1",
    });
    try {
      const { client } = await connect(timingOut.url, await login(timingOut.url, "alice", "alice-pw"));
      try {
        const result = await client.callTool({ name: "agent_chat", arguments: { message: "hello" } });
        const message = "The language model timed out after 300 ms (1 attempt); please retry later.";
        expect(result.isError).toBe(true);
        expect(textOf(result)).toBe(message);
        expect(result.structuredContent).toEqual({
          error: { code: "LLM_TIMEOUT", message, retryable: true },
        });
      } finally {
        await client.close();
      }
      // LLM_MAX_RETRIES covers fast failures; a timed-out attempt is not repeated (ADR 0044).
      expect(hanging.requests).toHaveLength(1);
    } finally {
      await timingOut.close();
      await hanging.close();
    }
  });
});
