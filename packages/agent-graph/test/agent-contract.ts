import { randomUUID } from "node:crypto";
import { tool } from "@langchain/core/tools";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { sleep } from "@mcp-langgraph/core";
import { createOfflineChatModel } from "@mcp-langgraph/llm-factory";
import { codeOf } from "@mcp-langgraph/testkit/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type Agent,
  type AgentEvent,
  type AgentOptions,
  calculatorTool,
  createAgent,
  isAgentError,
} from "../src/index.ts";

/** Opens the store under test; a second open() sees the same threads, as another process would. */
export interface CheckpointerHarness {
  open(): Promise<BaseCheckpointSaver>;
  closeAll(): Promise<void>;
}

const newThreadId = () => `thread-${randomUUID()}`;

/** A calculator that blocks until the run's signal aborts, after calling `onStart`. */
function blockingCalculator(onStart: () => void) {
  return tool(
    async (_input, config) => {
      onStart();
      await sleep(10_000, config.signal);
      return "never";
    },
    { name: "calculator", description: "blocks", schema: z.object({ expression: z.string() }) },
  );
}

function countingModel() {
  const counter = { calls: 0 };
  const model = createOfflineChatModel();
  model.callbacks = [
    {
      handleChatModelStart: () => {
        counter.calls++;
      },
    },
  ];
  return { model, counter };
}

/**
 * The behaviour every checkpointer must give the agent, in the style of
 * LangGraph's checkpoint-validation suite: run it once per implementation.
 */
export function describeAgentContract(
  name: string,
  createHarness: () => Promise<CheckpointerHarness>,
  {
    skip = false,
    agentOptions = {},
  }: {
    skip?: boolean;
    /** Options every agent of the suite gets (e.g. a conversation cache). */
    agentOptions?: Partial<AgentOptions>;
  } = {},
) {
  describe.skipIf(skip)(`Agent contract on ${name}`, () => {
    let harness: CheckpointerHarness;
    let checkpointer: BaseCheckpointSaver;
    const agentWith = (options: Partial<AgentOptions> = {}): Agent =>
      createAgent({ model: createOfflineChatModel(), checkpointer, ...agentOptions, ...options });

    beforeAll(async () => {
      harness = await createHarness();
      checkpointer = await harness.open();
    });
    afterAll(async () => {
      await harness?.closeAll();
    });

    describe("a turn", () => {
      it("runs agent → calculator → agent for 'what is 6*7?' and answers 42", async () => {
        const threadId = newThreadId();
        const result = await agentWith().chat({ threadId, message: "what is 6*7?" });
        expect(result.threadId).toBe(threadId);
        expect(result.reply).toContain("42");
        expect(result.messages.map((message) => message.role)).toEqual([
          "user",
          "assistant",
          "tool",
          "assistant",
        ]);
        expect(result.messages[1]?.toolCalls).toEqual([{ name: "calculator", args: { expression: "6*7" } }]);
        expect(result.messages[2]).toMatchObject({ role: "tool", toolName: "calculator", content: "42" });
        expect(result.messages[3]?.content).toBe(result.reply);
        for (const message of result.messages) expect(Date.parse(message.createdAt ?? "")).not.toBeNaN();
        expect(result.usage?.inputTokens).toBeGreaterThan(0);
        expect(result.usage?.outputTokens).toBeGreaterThan(0);
      });

      it("answers without tools when the message holds no arithmetic", async () => {
        const result = await agentWith().chat({ threadId: newThreadId(), message: "hello there" });
        expect(result.messages.map((message) => message.role)).toEqual(["user", "assistant"]);
        expect(result.reply).toContain("hello there");
      });

      it("feeds a tool error back to the model instead of failing the turn", async () => {
        const result = await agentWith().chat({ threadId: newThreadId(), message: "what is 1/0?" });
        expect(result.messages[2]).toMatchObject({ role: "tool", toolName: "calculator" });
        expect(result.messages[2]?.content).toContain("division by zero");
        expect(result.messages).toHaveLength(4);
      });
    });

    describe("deleteConversation", () => {
      it("removes the thread and its checkpoints, leaves other threads, and is a no-op when repeated", async () => {
        const agent = agentWith();
        const doomed = newThreadId();
        const kept = newThreadId();
        await agent.chat({ threadId: doomed, message: "what is 6*7?" });
        await agent.chat({ threadId: kept, message: "hello there" });
        expect(await agent.getConversation(doomed)).not.toBeNull();

        await agent.deleteConversation(doomed);
        expect(await agent.getConversation(doomed)).toBeNull();
        // Another agent over the same store (another process) sees it gone too.
        const reopened = createAgent({
          model: createOfflineChatModel(),
          checkpointer: await harness.open(),
          ...agentOptions,
        });
        expect(await reopened.getConversation(doomed)).toBeNull();
        expect(await agent.getConversation(kept)).toHaveLength(2);
        // A retried erase deletes nothing more and does not fail.
        await expect(agent.deleteConversation(doomed)).resolves.toBeUndefined();
        // The id starts afresh.
        const again = await agent.chat({ threadId: doomed, message: "hello again" });
        expect(again.messages).toHaveLength(2);
      });

      it("rejects a bad thread id and an aborted signal without deleting", async () => {
        const agent = agentWith();
        const threadId = newThreadId();
        await agent.chat({ threadId, message: "hello there" });
        expect(await codeOf(agent.deleteConversation(""), isAgentError)).toBe("AGENT_INPUT_INVALID");
        expect(
          await codeOf(agent.deleteConversation(threadId, { signal: AbortSignal.abort() }), isAgentError),
        ).toBe("AGENT_CANCELLED");
        expect(await agent.getConversation(threadId)).toHaveLength(2);
      });
    });

    describe("conversation retention", () => {
      /** Two threads, `idle` last active before `cutoff` and `recent` after it. */
      async function idleAndRecent(agent: Agent) {
        const prefix = `idle-${randomUUID()}-`;
        const idle = `${prefix}a`;
        const recent = `${prefix}b`;
        await agent.chat({ threadId: idle, message: "hello there" });
        // The next millisecond: checkpoint times have millisecond resolution.
        const stamped = Date.now();
        while (Date.now() <= stamped) await sleep(1);
        const cutoff = new Date();
        await agent.chat({ threadId: recent, message: "hello there" });
        return { prefix, idle, recent, cutoff };
      }

      it("lists threads by last activity in id order, one bounded page after a cursor", async () => {
        const agent = agentWith();
        const { prefix, idle, recent, cutoff } = await idleAndRecent(agent);
        expect(await agent.listIdleConversations({ before: cutoff, after: prefix, limit: 1 })).toEqual([
          idle,
        ]);
        // The recent thread is never listed, whatever the page.
        const next = await agent.listIdleConversations({ before: cutoff, after: idle, limit: 50 });
        expect(next).not.toContain(recent);
        expect(next.every((threadId) => threadId > idle)).toBe(true);
        const later = new Date(Date.now() + 60_000);
        expect(await agent.listIdleConversations({ before: later, after: idle, limit: 1 })).toEqual([recent]);
      });

      it("deletes a thread only while it is still idle", async () => {
        const agent = agentWith();
        const { idle, recent, cutoff } = await idleAndRecent(agent);
        expect(await agent.deleteIdleConversation(recent, cutoff)).toBe(false);
        expect(await agent.getConversation(recent)).toHaveLength(2);
        expect(await agent.deleteIdleConversation(idle, cutoff)).toBe(true);
        expect(await agent.getConversation(idle)).toBeNull();
        // Gone, or never there: nothing to delete.
        expect(await agent.deleteIdleConversation(idle, cutoff)).toBe(false);
      });

      it("refuses bad queries and aborted calls, deleting nothing", async () => {
        const agent = agentWith();
        const { idle, cutoff } = await idleAndRecent(agent);
        for (const query of [
          { before: cutoff, limit: 0 },
          { before: cutoff, limit: 10_001 },
          { before: cutoff, limit: 1.5 },
          { before: new Date(Number.NaN), limit: 10 },
          { before: "yesterday" as unknown as Date, limit: 10 },
          { before: cutoff, after: 7 as unknown as string, limit: 10 },
        ]) {
          expect(await codeOf(agent.listIdleConversations(query), isAgentError)).toBe("AGENT_INPUT_INVALID");
        }
        expect(
          await codeOf(
            agent.listIdleConversations({ before: cutoff, limit: 1, signal: AbortSignal.abort() }),
            isAgentError,
          ),
        ).toBe("AGENT_CANCELLED");
        expect(await codeOf(agent.deleteIdleConversation(idle, new Date(Number.NaN)), isAgentError)).toBe(
          "AGENT_INPUT_INVALID",
        );
        expect(
          await codeOf(
            agent.deleteIdleConversation(idle, cutoff, { signal: AbortSignal.abort() }),
            isAgentError,
          ),
        ).toBe("AGENT_CANCELLED");
        expect(await agent.getConversation(idle)).toHaveLength(2);
      });
    });

    describe("threads", () => {
      it("persist across calls and across agent instances over the same store", async () => {
        const threadId = newThreadId();
        await agentWith().chat({ threadId, message: "what is 6*7?" });
        const second = await agentWith().chat({ threadId, message: "what is 2+3?" });
        expect(second.reply).toContain("5");
        expect(second.messages).toHaveLength(8);

        const reopened = createAgent({
          model: createOfflineChatModel(),
          checkpointer: await harness.open(),
          ...agentOptions,
        });
        const stored = await reopened.getConversation(threadId);
        expect(stored).toEqual(second.messages);
      });

      it("are independent of each other", async () => {
        const [first, second] = [newThreadId(), newThreadId()];
        const agent = agentWith();
        await agent.chat({ threadId: first, message: "what is 6*7?" });
        await agent.chat({ threadId: second, message: "hello" });
        expect((await agent.getConversation(second))?.map((message) => message.content)).not.toContain("42");
        expect(await agent.getConversation(first)).toHaveLength(4);
      });

      it("getConversation returns null for a thread that does not exist", async () => {
        expect(await agentWith().getConversation(newThreadId())).toBeNull();
      });

      it("reads honour an aborted signal with AGENT_CANCELLED", async () => {
        const agent = agentWith();
        const signal = AbortSignal.abort();
        expect(await codeOf(agent.getConversation(newThreadId(), { signal }), isAgentError)).toBe(
          "AGENT_CANCELLED",
        );
        expect(await codeOf(agent.searchConversations([newThreadId()], "x", { signal }), isAgentError)).toBe(
          "AGENT_CANCELLED",
        );
      });

      it("serializes concurrent turns on one thread instead of forking it", async () => {
        const threadId = newThreadId();
        const agent = agentWith();
        await Promise.all([
          agent.chat({ threadId, message: "what is 1+1?" }),
          agent.chat({ threadId, message: "what is 2+2?" }),
        ]);
        const conversation = await agent.getConversation(threadId);
        expect(conversation?.map((message) => message.role)).toEqual([
          ...["user", "assistant", "tool", "assistant"],
          ...["user", "assistant", "tool", "assistant"],
        ]);
      });
    });

    describe("searchConversations", () => {
      const [mine, alsoMine, someoneElses] = [newThreadId(), newThreadId(), newThreadId()];
      let agent: Agent;
      beforeAll(async () => {
        agent = agentWith();
        await agent.chat({ threadId: mine, message: "Budget for PROJECT Apollo" });
        await agent.chat({ threadId: alsoMine, message: "what is 6*7?" });
        await agent.chat({ threadId: someoneElses, message: "project apollo secrets" });
      });

      it("finds case-insensitive matches in the given threads only", async () => {
        const hits = await agent.searchConversations([mine, alsoMine], "project apollo");
        expect(hits.length).toBeGreaterThan(0);
        expect(hits.every((hit) => hit.threadId === mine)).toBe(true);
        expect(hits[0]).toEqual({
          threadId: mine,
          role: "user",
          content: "Budget for PROJECT Apollo",
          index: 0,
        });
        const conversation = await agent.getConversation(mine);
        for (const hit of hits) expect(conversation?.[hit.index]?.content).toBe(hit.content);
      });

      it("matches tool results and assistant replies too", async () => {
        const hits = await agent.searchConversations([alsoMine], "42");
        expect(hits.map((hit) => hit.role)).toEqual(["tool", "assistant"]);
      });

      it("honours the limit and ignores unknown threads", async () => {
        expect(await agent.searchConversations([mine, someoneElses], "apollo", { limit: 1 })).toHaveLength(1);
        expect(await agent.searchConversations([newThreadId()], "apollo")).toEqual([]);
        expect(await agent.searchConversations([], "apollo")).toEqual([]);
      });

      it("rejects bad arguments with AGENT_INPUT_INVALID", async () => {
        expect(await codeOf(agent.searchConversations([mine], ""), isAgentError)).toBe("AGENT_INPUT_INVALID");
        expect(await codeOf(agent.searchConversations([mine], "x".repeat(1_001)), isAgentError)).toBe(
          "AGENT_INPUT_INVALID",
        );
        expect(await codeOf(agent.searchConversations([mine], "a", { limit: 0 }), isAgentError)).toBe(
          "AGENT_INPUT_INVALID",
        );
        expect(await codeOf(agent.searchConversations([""], "a"), isAgentError)).toBe("AGENT_INPUT_INVALID");
        expect(await codeOf(agent.searchConversations("nope" as never, "a"), isAgentError)).toBe(
          "AGENT_INPUT_INVALID",
        );
        const tooMany = Array.from({ length: 1_001 }, (_, i) => `t${i}`);
        expect(await codeOf(agent.searchConversations(tooMany, "a"), isAgentError)).toBe(
          "AGENT_INPUT_INVALID",
        );
      });
    });

    describe("bad input changes nothing", () => {
      it("rejects an empty, blank or oversized message and a bad thread id", async () => {
        const threadId = newThreadId();
        const agent = agentWith({ maxMessageChars: 20 });
        await agent.chat({ threadId, message: "what is 6*7?" });
        const before = await agent.getConversation(threadId);
        const fresh = newThreadId();
        for (const attempt of [
          agent.chat({ threadId, message: "" }),
          agent.chat({ threadId, message: "   " }),
          agent.chat({ threadId, message: "x".repeat(21) }),
          agent.chat({ threadId, message: 42 as never }),
          agent.chat({ threadId: fresh, message: "x".repeat(21) }),
          agent.chat({ threadId: "", message: "hi" }),
          agent.chat({ threadId: "a\nb", message: "hi" }),
          agent.chat({ threadId: "x".repeat(257), message: "hi" }),
        ]) {
          expect(await codeOf(attempt, isAgentError)).toBe("AGENT_INPUT_INVALID");
        }
        expect(await agent.getConversation(threadId)).toEqual(before);
        expect(await agent.getConversation(fresh)).toBeNull();
      });

      it("compacts a thread past its context budget instead of refusing it, and stores the summary with it", async () => {
        const threadId = newThreadId();
        const seen: string[][] = [];
        const model = createOfflineChatModel();
        model.callbacks = [
          {
            handleChatModelStart: (_llm, [messages]) => {
              seen.push((messages ?? []).map((message) => message.text));
            },
          },
        ];
        const agent = agentWith({ model, contextTokens: 1_000 });
        const long = (n: number) => `turn ${n} `.padEnd(1_200, "-");
        for (let n = 0; n < 6; n++) await agent.chat({ threadId, message: long(n) });
        expect(await agent.getConversation(threadId)).toHaveLength(12);
        const tuple = await checkpointer.getTuple({
          configurable: { thread_id: threadId, checkpoint_ns: "" },
        });
        const summary = tuple?.checkpoint.channel_values.summary as { text: string; messageCount: number };
        expect(summary.text.length).toBeGreaterThan(0);
        expect(summary.messageCount % 2).toBe(0);
        // The last model call saw the stored summary with the system prompt, not the first turn.
        const last = seen.at(-1) ?? [];
        expect(last[0]).toContain(summary.text);
        expect(last.some((text) => text.startsWith("turn 0 "))).toBe(false);
        expect(last.at(-1)).toBe(long(5));
        // Another agent on the same store continues from the stored summary.
        const other = createAgent({ model, checkpointer: await harness.open(), contextTokens: 1_000 });
        await other.chat({ threadId, message: long(6) });
        expect(seen.at(-1)?.[0]).toContain("Summary of the earlier part");
      });

      it("refuses a turn on a thread at its character limit", async () => {
        const threadId = newThreadId();
        const agent = agentWith({ maxHistoryChars: 30 });
        await agent.chat({ threadId, message: "x".repeat(40) });
        const before = await agent.getConversation(threadId);
        expect(await codeOf(agent.chat({ threadId, message: "again" }), isAgentError)).toBe(
          "AGENT_HISTORY_LIMIT",
        );
        expect(await agent.getConversation(threadId)).toEqual(before);
      });

      it("refuses a per-call model that cannot call tools", async () => {
        const threadId = newThreadId();
        const toolless = Object.assign(createOfflineChatModel(), { bindTools: undefined });
        const attempt = agentWith().chat({ threadId, message: "hi", model: toolless as never });
        expect(await codeOf(attempt, isAgentError)).toBe("AGENT_MODEL_UNSUPPORTED");
        expect(await agentWith().getConversation(threadId)).toBeNull();
      });
    });

    describe("streamChat", () => {
      it("yields the tool call, its result, the answer's tokens, then the reply", async () => {
        const threadId = newThreadId();
        const events: AgentEvent[] = [];
        for await (const event of agentWith().streamChat({ threadId, message: "what is 6*7?" }))
          events.push(event);
        expect(events.filter((event) => event.type !== "token")).toEqual([
          { type: "tool_call", name: "calculator", args: { expression: "6*7" } },
          { type: "tool_result", name: "calculator", content: "42" },
          { type: "reply", reply: expect.objectContaining({ threadId }) },
        ]);
        const last = events.at(-1);
        const tokens = events.flatMap((event) => (event.type === "token" ? [event.text] : []));
        expect(tokens.length).toBeGreaterThan(1);
        expect(last?.type === "reply" && last.reply.reply).toBe(tokens.join(""));
        expect(await agentWith().getConversation(threadId)).toEqual(
          last?.type === "reply" && last.reply.messages,
        );
      });

      it("throws the same typed errors as chat", async () => {
        const attempt = (async () => {
          for await (const _ of agentWith().streamChat({ threadId: newThreadId(), message: "" })) {
            // draining
          }
        })();
        expect(await codeOf(attempt, isAgentError)).toBe("AGENT_INPUT_INVALID");
      });

      it("cancels the turn when the consumer stops iterating", async () => {
        const threadId = newThreadId();
        const { model, counter } = countingModel();
        const agent = agentWith({ model, tools: [blockingCalculator(() => {})] });
        for await (const event of agent.streamChat({ threadId, message: "what is 6*7?" })) {
          if (event.type === "tool_call") break;
        }
        // The abandoned turn releases the thread once it has stopped; the next turn then runs normally.
        // Whether the tool-call step was saved depends on when the abort landed, so only the ends are fixed.
        const next = await agentWith().chat({ threadId, message: "hello" });
        const roles = next.messages.map((message) => message.role);
        expect(roles[0]).toBe("user");
        expect(roles.slice(-2)).toEqual(["user", "assistant"]);
        expect(next.messages.map((message) => message.content)).not.toContain("never");
        expect(counter.calls).toBe(1);
      });
    });

    describe("limits and cancellation", () => {
      it("stops at maxSteps with AGENT_STEP_LIMIT, and the next turn closes the unanswered call", async () => {
        const threadId = newThreadId();
        expect(
          await codeOf(agentWith({ maxSteps: 1 }).chat({ threadId, message: "what is 6*7?" }), isAgentError),
        ).toBe("AGENT_STEP_LIMIT");
        const next = await agentWith().chat({ threadId, message: "hello" });
        expect(next.messages.map((message) => message.role)).toEqual([
          ...["user", "assistant", "tool"],
          ...["user", "assistant"],
        ]);
        expect(next.messages[2]).toMatchObject({
          toolName: "calculator",
          content: expect.stringContaining("Not run"),
        });
      });

      it("does nothing for a signal that is already aborted", async () => {
        const threadId = newThreadId();
        const attempt = agentWith().chat({ threadId, message: "what is 6*7?", signal: AbortSignal.abort() });
        expect(await codeOf(attempt, isAgentError)).toBe("AGENT_CANCELLED");
        expect(await agentWith().getConversation(threadId)).toBeNull();
      });

      it("cancels a running turn when the caller aborts: no further model call, the thread stays usable", async () => {
        const threadId = newThreadId();
        const controller = new AbortController();
        const { model, counter } = countingModel();
        const agent = agentWith({ model, tools: [blockingCalculator(() => controller.abort())] });
        const attempt = agent.chat({ threadId, message: "what is 6*7?", signal: controller.signal });
        expect(await codeOf(attempt, isAgentError)).toBe("AGENT_CANCELLED");
        expect(counter.calls).toBe(1);

        const next = await agentWith().chat({ threadId, message: "what is 2+2?" });
        expect(next.reply).toContain("4");
        expect(next.messages.map((message) => message.role)).toEqual([
          ...["user", "assistant", "tool"],
          ...["user", "assistant", "tool", "assistant"],
        ]);
        expect(next.messages[0]).toMatchObject({ role: "user", content: "what is 6*7?" });
        expect(next.messages[2]?.content).toContain("Not run");
      });

      it("ends a turn that outlives turnTimeoutMs with AGENT_TIMEOUT", async () => {
        const agent = agentWith({ turnTimeoutMs: 200, tools: [blockingCalculator(() => {})] });
        expect(
          await codeOf(agent.chat({ threadId: newThreadId(), message: "what is 6*7?" }), isAgentError),
        ).toBe("AGENT_TIMEOUT");
      });

      it("uses a per-call model for that turn only", async () => {
        const { model: override, counter } = countingModel();
        const agent = agentWith({ tools: [calculatorTool] });
        const threadId = newThreadId();
        await agent.chat({ threadId, message: "what is 6*7?", model: override });
        expect(counter.calls).toBe(2);
        await agent.chat({ threadId, message: "hello" });
        expect(counter.calls).toBe(2);
      });
    });
  });
}
