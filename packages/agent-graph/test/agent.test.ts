import { tool } from "@langchain/core/tools";
import { CodedError, sleep } from "@mcp-langgraph/core";
import { createOfflineChatModel } from "@mcp-langgraph/llm-factory";
import { codeOf } from "@mcp-langgraph/testkit/errors";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type AgentEvent, createAgent, isAgentError } from "../src/index.ts";
import { GatedModel } from "./gated-model.ts";

function syncCodeOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return isAgentError(error) ? error.code : "not an AgentError";
  }
}

/** A calculator that resolves `started` when called, then blocks until the run's signal aborts. */
function blockingCalculator() {
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const blocking = tool(
    async (_input, config) => {
      markStarted();
      await sleep(10_000, config.signal);
      return "never";
    },
    { name: "calculator", description: "blocks", schema: z.object({ expression: z.string() }) },
  );
  return { blocking, started };
}

describe("createAgent options", () => {
  it.each([
    [{ maxSteps: 0 }],
    [{ maxSteps: 1.5 }],
    [{ maxMessageChars: -1 }],
    [{ contextTokens: 999 }],
    [{ verification: { threshold: 1.5 } }],
    [{ verification: { threshold: Number.NaN } }],
    [{ verification: { maxRefinements: -1 } }],
    [{ verification: { maxRefinements: 11 } }],
    [{ turnTimeoutMs: 0 }],
    [{ maxConcurrentTurns: 0 }],
    [{ maxQueuedTurns: -1 }],
    [{ maxTurnsPerUser: 0 }],
  ])("rejects %j with AGENT_INPUT_INVALID", (options) => {
    expect(syncCodeOf(() => createAgent({ model: createOfflineChatModel(), ...options }))).toBe(
      "AGENT_INPUT_INVALID",
    );
  });

  it("rejects a missing model and a model that cannot call tools", () => {
    expect(syncCodeOf(() => createAgent({} as never))).toBe("AGENT_INPUT_INVALID");
    const toolless = Object.assign(createOfflineChatModel(), { bindTools: undefined });
    expect(syncCodeOf(() => createAgent({ model: toolless as never }))).toBe("AGENT_MODEL_UNSUPPORTED");
  });

  it("uses the system prompt it is given", async () => {
    const seen: string[] = [];
    const model = createOfflineChatModel();
    model.callbacks = [
      {
        handleChatModelStart: (_llm, [messages]) => {
          seen.push(String(messages?.[0]?.content));
        },
      },
    ];
    await createAgent({ model, systemPrompt: "Answer like a pirate." }).chat({
      threadId: "p",
      message: "hi",
    });
    expect(seen).toEqual(["Answer like a pirate."]);
  });
});

describe("turn admission", () => {
  it("fails fast with AGENT_BUSY when every slot and queue place is taken", async () => {
    const { blocking, started } = blockingCalculator();
    const agent = createAgent({
      model: createOfflineChatModel(),
      tools: [blocking],
      maxConcurrentTurns: 1,
      maxQueuedTurns: 1,
    });
    const controller = new AbortController();
    const running = agent.chat({ threadId: "busy-a", message: "what is 1+1?", signal: controller.signal });
    await started;
    const queued = agent.chat({ threadId: "busy-b", message: "hello", signal: controller.signal });
    expect(await codeOf(agent.chat({ threadId: "busy-c", message: "hello" }), isAgentError)).toBe(
      "AGENT_BUSY",
    );
    expect(await agent.getConversation("busy-c")).toBeNull();
    controller.abort();
    expect(await codeOf(running, isAgentError)).toBe("AGENT_CANCELLED");
    expect(await codeOf(queued, isAgentError)).toBe("AGENT_CANCELLED");
  });

  it("refuses a user past maxTurnsPerUser with a retryable AGENT_BUSY while another user gets in", async () => {
    const { blocking, started } = blockingCalculator();
    const agent = createAgent({ model: createOfflineChatModel(), tools: [blocking], maxTurnsPerUser: 1 });
    const controller = new AbortController();
    const running = agent.chat({
      threadId: "greedy-1",
      message: "what is 1+1?",
      userId: "user:greedy",
      signal: controller.signal,
    });
    await started;
    let claimed = false;
    const refused = await agent
      .chat({
        threadId: "greedy-2",
        message: "hello",
        userId: "user:greedy",
        onAdmitted: async () => {
          claimed = true;
        },
      })
      .catch((error: unknown) => error);
    expect(isAgentError(refused) && refused.code).toBe("AGENT_BUSY");
    expect((refused as Error).message).toMatch(/per-user limit.*retry in about \d+ s/);
    expect((refused as { details?: unknown }).details).toMatchObject({
      limit: "maxTurnsPerUser",
      max: 1,
      retryable: true,
      retryAfterMs: expect.any(Number),
    });
    // The refused turn claimed and wrote nothing.
    expect(claimed).toBe(false);
    expect(await agent.getConversation("greedy-2")).toBeNull();
    // Another user is admitted while the greedy one holds its only place.
    const polite = await agent.chat({ threadId: "polite", message: "hello", userId: "user:polite" });
    expect(polite.reply).not.toBe("");
    controller.abort();
    expect(await codeOf(running, isAgentError)).toBe("AGENT_CANCELLED");
  });

  it("runs onAdmitted before the turn touches its thread, and a throw there ends the turn", async () => {
    const agent = createAgent({ model: createOfflineChatModel() });
    // A typed error (as an authorization failure is) reaches the caller as it is.
    const denied = new CodedError("test", "DENIED", "not yours");
    await expect(
      agent.chat({ threadId: "claimed", message: "hi", onAdmitted: () => Promise.reject(denied) }),
    ).rejects.toBe(denied);
    expect(await agent.getConversation("claimed")).toBeNull();
    const order: string[] = [];
    await agent.chat({
      threadId: "claimed",
      message: "hi",
      onAdmitted: async () => {
        order.push(`admitted, thread exists: ${(await agent.getConversation("claimed")) !== null}`);
      },
    });
    expect(order).toEqual(["admitted, thread exists: false"]);
  });

  it("admits far more than 16 concurrent turns by default: they all reach the model together", async () => {
    const turns = 64;
    const model = new GatedModel(turns);
    const agent = createAgent({ model });
    const replies = await Promise.all(
      Array.from({ length: turns }, (_, i) =>
        agent.chat({ threadId: `many-${i}`, message: "hi", userId: `user:${i % 2}` }),
      ),
    );
    expect(replies).toHaveLength(turns);
    expect(model.peakInFlight).toBe(turns);
  });

  it("lets a caller waiting for a busy thread give up without touching it", async () => {
    const { blocking, started } = blockingCalculator();
    const agent = createAgent({ model: createOfflineChatModel(), tools: [blocking] });
    const first = new AbortController();
    const running = agent.chat({ threadId: "locked", message: "what is 1+1?", signal: first.signal });
    await started;
    const second = new AbortController();
    const waiting = agent.chat({ threadId: "locked", message: "second turn", signal: second.signal });
    second.abort();
    expect(await codeOf(waiting, isAgentError)).toBe("AGENT_CANCELLED");
    first.abort();
    expect(await codeOf(running, isAgentError)).toBe("AGENT_CANCELLED");
    const contents = (await agent.getConversation("locked"))?.map((message) => message.content);
    expect(contents).not.toContain("second turn");
  });
});

describe("streamChat with a model that does not stream", () => {
  it("yields the whole answer as one token when the step completes", async () => {
    const model = createOfflineChatModel();
    model.disableStreaming = true;
    const events: AgentEvent[] = [];
    for await (const event of createAgent({ model }).streamChat({
      threadId: "whole",
      message: "what is 6*7?",
    })) {
      events.push(event);
    }
    const last = events.at(-1);
    expect(events.map((event) => event.type)).toEqual(["tool_call", "tool_result", "token", "reply"]);
    expect(events[2]).toEqual({ type: "token", text: last?.type === "reply" ? last.reply.reply : "" });
  });
});
