import { createCheckpointer } from "@mcp-langgraph/agent-graph";
import { AuthzError } from "@mcp-langgraph/authz";
import { CodedError } from "@mcp-langgraph/core";
import { createChatModel, LlmError } from "@mcp-langgraph/llm-factory";
import { rejectionOf } from "@mcp-langgraph/testkit/errors";
// The llm-factory's loopback servers play a provider that never answers, so the error under test is
// the one a real model call ends with, not a hand-made imitation of it.
import {
  anthropicWire,
  type LoopbackServer,
  openAIWire,
  scripted,
  startLoopbackServer,
} from "@mcp-langgraph/testkit/llm-loopback";
import { afterEach, describe, expect, it } from "vitest";
import { McpServerError } from "../src/errors.ts";
import { toolError } from "../src/results.ts";

const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function hangingServer() {
  const server = await startLoopbackServer(scripted(openAIWire, ["hang"]));
  servers.push(server);
  return server;
}

const failureOf = rejectionOf;

function toolErrorOf(error: unknown) {
  const reported: unknown[] = [];
  const result = toolError(error, "agent_chat", (_tool, failure) => reported.push(failure));
  const text = (result.content as { type: string; text: string }[]).map((item) => item.text).join("\n");
  return { result, text, reported };
}

describe("toolError for model timeouts", () => {
  it("says the model timed out, after how long and after how many attempts, and marks it retryable", async () => {
    const server = await hangingServer();
    const model = await createChatModel({ ...openAIWire.options(server.url), timeoutMs: 200 });
    const error = await failureOf(model.invoke("hi"));

    const { result, text, reported } = toolErrorOf(error);
    const message = "The language model timed out after 200 ms (1 attempt); please retry later.";
    expect(result.isError).toBe(true);
    expect(text).toBe(message);
    expect(result.structuredContent).toEqual({ error: { code: "LLM_TIMEOUT", message, retryable: true } });
    // Safe to show: nothing about where the model lives or how the server reaches it.
    expect(text).not.toContain(server.url);
    expect(text).not.toContain("sk-");
    expect(text).not.toContain("gpt-4o-mini");
    // The operator still hears about it.
    expect(reported).toEqual([error]);
  });

  it("counts the attempts across a fallback chain in which every model timed out", async () => {
    const first = await hangingServer();
    const second = await startLoopbackServer(scripted(anthropicWire, ["hang"]));
    servers.push(second);
    const model = await createChatModel({
      ...openAIWire.options(first.url),
      timeoutMs: 200,
      fallbacks: [anthropicWire.options(second.url)],
    });
    const error = await failureOf(model.invoke("hi"));

    const { result, text } = toolErrorOf(error);
    expect(text).toBe(
      "The language models timed out after 200 ms (2 attempts across 2 models); please retry later.",
    );
    expect(result.structuredContent).toMatchObject({ error: { code: "LLM_TIMEOUT", retryable: true } });
  });

  it("still says it timed out when the error carries no figures", () => {
    const { text } = toolErrorOf(new LlmError("LLM_TIMEOUT", "the provider client timed out"));
    expect(text).toBe("The language model timed out; please retry later.");
  });

  it("keeps the generic sentence, without retryable, for other model failures", () => {
    const { result, text } = toolErrorOf(
      new LlmError("LLM_AUTH", 'openai model "gpt-4o-mini": authentication failed (HTTP 401)'),
    );
    const message = "The language model is unavailable right now; please retry later.";
    expect(text).toBe(message);
    expect(result.structuredContent).toEqual({ error: { code: "LLM_AUTH", message } });
  });
});

describe("toolError for a checkpoint store outage", () => {
  it("regression: CHECKPOINTER_UNAVAILABLE was reported as an unexpected INTERNAL failure; it is a retryable outage", async () => {
    // A real store failure: a Postgres checkpointer that cannot reach its server.
    const error = await failureOf(
      createCheckpointer({
        backend: "postgres",
        connectionString: "postgres://postgres:hunter2@127.0.0.1:1/test",
        connectTimeoutMs: 200,
      }),
    );

    const { result, text, reported } = toolErrorOf(error);
    const message = "Conversation storage is unavailable right now; please retry later.";
    expect(result.isError).toBe(true);
    expect(text).toBe(message);
    expect(result.structuredContent).toEqual({
      error: { code: "CHECKPOINTER_UNAVAILABLE", message, retryable: true },
    });
    expect(text).not.toContain("hunter2");
    expect(reported).toEqual([error]);
  });
});

describe("toolError for an authorizer that cannot decide", () => {
  const denialOf = (cause: AuthzError) =>
    new McpServerError(
      "AUTHZ_UNAVAILABLE",
      "Authorization is unavailable right now; the request was denied.",
      {
        cause,
      },
    );

  it("marks an outage (the tuple store or OpenFGA down) retryable: the authorizer recovers by itself", () => {
    const { result, reported } = toolErrorOf(denialOf(new AuthzError("AUTHZ_UNAVAILABLE", "store down")));
    expect(result.structuredContent).toEqual({
      error: {
        code: "AUTHZ_UNAVAILABLE",
        message: "Authorization is unavailable right now; the request was denied.",
        retryable: true,
      },
    });
    expect(reported).toHaveLength(1);
  });

  it("does not mark a rejected authorization request retryable: the same request fails again", () => {
    const { result } = toolErrorOf(denialOf(new AuthzError("AUTHZ_VALIDATION", "bad object")));
    expect((result.structuredContent as { error: Record<string, unknown> }).error).not.toHaveProperty(
      "retryable",
    );
  });
});

describe("toolError for shared turn locks (Redis) that fail", () => {
  it("regression: a Redis outage under the turn lock was an unexpected INTERNAL failure; it is a retryable outage", () => {
    // The session package's error as RedisLocks throws it (same family, code and message shape).
    const error = new CodedError("session", "SESSION_UNAVAILABLE", "Redis refused or failed a lock call");
    const { result, text, reported } = toolErrorOf(error);
    expect(result.structuredContent).toEqual({
      error: { code: "SESSION_UNAVAILABLE", message: text, retryable: true },
    });
    expect(text).not.toContain("Redis refused");
    expect(reported).toEqual([error]);
  });

  it("tells a caller whose turn waited too long for the conversation's lock to retry", () => {
    const error = new CodedError("session", "SESSION_LOCK_TIMEOUT", "waited 30000 ms for the lock");
    expect(toolErrorOf(error).result.structuredContent).toMatchObject({
      error: { code: "SESSION_LOCK_TIMEOUT", retryable: true },
    });
  });

  it("keeps other packages' unknown codes INTERNAL", () => {
    const error = new CodedError("session", "SESSION_NOT_FOUND", "no such session");
    expect(toolErrorOf(error).result.structuredContent).toMatchObject({ error: { code: "INTERNAL" } });
  });
});
