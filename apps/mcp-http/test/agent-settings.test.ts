import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  anthropicWire,
  type LoopbackServer,
  openAIWire,
  scripted,
  startLoopbackServer,
  TEXT_REPLY,
  TOOL_REPLY,
} from "@mcp-langgraph/testkit/llm-loopback";
import { afterAll, describe, expect, it } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, login, startTestServer, textOf } from "./helpers.ts";

// Issue 11, item 9: the agent's settings by environment and the turn's token usage, through the
// HTTP app and the official MCP client, with loopback models speaking the vendors' wire formats.

const directory = mkdtempSync(join(tmpdir(), "mcp-http-agent-settings-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const openAI = (url: string) => ({
  LLM_PROVIDER: "openai",
  MODEL_NAME: "gpt-4o-mini",
  OPENAI_API_KEY: "sk-app-test",
  OPENAI_BASE_URL: `${url}/v1`,
});

/** Starts a loopback model and the app on it, runs `body`, and closes both. */
async function withApp(
  model: LoopbackServer,
  env: Record<string, string>,
  body: (app: RunningHttpServer) => Promise<void>,
): Promise<void> {
  try {
    const app = await startTestServer(env);
    try {
      await body(app);
    } finally {
      await app.close();
    }
  } finally {
    await model.close();
  }
}

async function chat(app: RunningHttpServer, message: string) {
  const { client } = await connect(app.url, await login(app.url, "alice", "alice-pw"));
  try {
    return await client.callTool({ name: "agent_chat", arguments: { message } });
  } finally {
    await client.close();
  }
}

/** The system message of a recorded OpenAI chat request. */
const systemOf = (body: unknown) =>
  (body as { messages?: { role: string; content: unknown }[] }).messages?.find((m) => m.role === "system")
    ?.content;

describe("agent_chat reports the turn's token usage in structuredContent", () => {
  it.each([
    ["OpenAI", openAIWire, openAI],
    [
      "Anthropic",
      anthropicWire,
      (url: string) => ({
        LLM_PROVIDER: "anthropic",
        MODEL_NAME: "claude-sonnet-4-5",
        ANTHROPIC_API_KEY: "sk-ant-test",
        ANTHROPIC_BASE_URL: url,
      }),
    ],
  ] as const)("sums every model step of the turn (%s wire)", async (_name, wire, providerEnv) => {
    const model = await startLoopbackServer(scripted(wire, ["tool", "ok"]));
    await withApp(model, providerEnv(model.url), async (app) => {
      const result = await chat(app, "add two and two");
      expect(result.isError).toBeFalsy();
      const input = TOOL_REPLY.inputTokens + TEXT_REPLY.inputTokens;
      const output = TOOL_REPLY.outputTokens + TEXT_REPLY.outputTokens;
      expect(result.structuredContent).toMatchObject({
        reply: "Hello from loopback",
        usage: { input_tokens: input, output_tokens: output, total_tokens: input + output },
      });
      expect(model.requests).toHaveLength(2);
    });
  });

  it("declares usage in agent_chat's outputSchema", async () => {
    const app = await startTestServer();
    try {
      const { client } = await connect(app.url, await login(app.url, "alice", "alice-pw"));
      const { tools } = await client.listTools();
      await client.close();
      const schema = tools.find((tool) => tool.name === "agent_chat")?.outputSchema as {
        properties?: Record<string, { properties?: Record<string, unknown> }>;
        required?: string[];
      };
      expect(Object.keys(schema.properties?.usage?.properties ?? {}).sort()).toEqual([
        "input_tokens",
        "output_tokens",
        "total_tokens",
      ]);
      expect(schema.required).not.toContain("usage");
    } finally {
      await app.close();
    }
  });
});

describe("agent settings by environment", () => {
  it("SYSTEM_PROMPT replaces the agent's system prompt", async () => {
    const model = await startLoopbackServer(scripted(openAIWire, ["ok"]));
    await withApp(
      model,
      { ...openAI(model.url), SYSTEM_PROMPT: "You answer like a pirate." },
      async (app) => {
        expect((await chat(app, "hello")).isError).toBeFalsy();
        expect(systemOf(model.requests[0]?.body)).toBe("You answer like a pirate.");
      },
    );
  });

  it("SYSTEM_PROMPT_FILE reads the prompt from a file at start-up", async () => {
    const file = join(directory, "prompt.md");
    writeFileSync(file, "You are the support desk of Example Corp.\nBe brief.\n");
    const model = await startLoopbackServer(scripted(openAIWire, ["ok"]));
    await withApp(model, { ...openAI(model.url), SYSTEM_PROMPT_FILE: file }, async (app) => {
      expect((await chat(app, "hello")).isError).toBeFalsy();
      expect(systemOf(model.requests[0]?.body)).toBe("You are the support desk of Example Corp.\nBe brief.");
    });
  });

  it.each([
    ["a missing", () => join(directory, "no-such-prompt.md"), /cannot be read/],
    [
      "an empty",
      () => {
        const empty = join(directory, "empty.md");
        writeFileSync(empty, "  \n");
        return empty;
      },
      /is empty/,
    ],
  ])(
    "SYSTEM_PROMPT_FILE naming %s file stops the start with CONFIG_INVALID",
    async (_name, file, problem) => {
      const path = file();
      const error = await startTestServer({ SYSTEM_PROMPT_FILE: path }).then(
        () => undefined,
        (thrown: unknown) => thrown as Error & { code?: string },
      );
      expect(error?.code).toBe("CONFIG_INVALID");
      expect(error?.message).toContain(path);
      expect(error?.message).toMatch(problem);
    },
  );

  it("AGENT_MAX_STEPS ends a turn whose model keeps calling tools, after that many model calls", async () => {
    const model = await startLoopbackServer(scripted(openAIWire, ["tool"]));
    await withApp(model, { ...openAI(model.url), AGENT_MAX_STEPS: "2" }, async (app) => {
      const result = await chat(app, "add two and two forever");
      expect(result.isError).toBe(true);
      expect(result.structuredContent).toMatchObject({ error: { code: "AGENT_STEP_LIMIT" } });
      expect(model.requests).toHaveLength(2);
    });
  });

  it("AGENT_TURN_TIMEOUT_MS ends a turn whose model never answers with AGENT_TIMEOUT", async () => {
    const model = await startLoopbackServer(scripted(openAIWire, ["hang"]));
    await withApp(
      model,
      { ...openAI(model.url), AGENT_TURN_TIMEOUT_MS: "300", MODEL_TIMEOUT_MS: "60000" },
      async (app) => {
        const result = await chat(app, "hello");
        expect(result.isError).toBe(true);
        expect(result.structuredContent).toMatchObject({ error: { code: "AGENT_TIMEOUT" } });
        expect(textOf(result)).toContain("300 ms");
      },
    );
  });
});
