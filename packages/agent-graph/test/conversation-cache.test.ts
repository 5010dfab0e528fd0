import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import type { Runnable } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { BaseCheckpointSaver, MemorySaver } from "@langchain/langgraph";
import { sleep } from "@mcp-langgraph/core";
import { createOfflineChatModel } from "@mcp-langgraph/llm-factory";
import { codeOf } from "@mcp-langgraph/testkit/errors";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import {
  conversationChars,
  createConversationCache,
  LruConversationCache,
} from "../src/conversation-cache.ts";
import { type AgentOptions, type Conversation, createAgent, isAgentError } from "../src/index.ts";

const message = (content: string) => Object.freeze({ role: "user" as const, content });
const conversationOf = (...contents: string[]): Conversation => Object.freeze(contents.map(message));

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe("LruConversationCache", () => {
  it("loads a thread once and then serves the same value", async () => {
    const cache = new LruConversationCache({});
    const load = vi.fn(async () => conversationOf("hi"));
    const first = await cache.read("a", load);
    expect(await cache.read("a", load)).toBe(first);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it("keeps no unknown thread: a thread that appears later is read", async () => {
    const cache = new LruConversationCache({});
    expect(await cache.read("a", async () => null)).toBeNull();
    expect(await cache.read("a", async () => conversationOf("now"))).toEqual(conversationOf("now"));
  });

  it("evicts the least recently read thread past maxThreads", async () => {
    const cache = new LruConversationCache({ maxThreads: 2 });
    const loads: string[] = [];
    const read = (threadId: string) =>
      cache.read(threadId, async () => {
        loads.push(threadId);
        return conversationOf(threadId);
      });
    await read("a");
    await read("b");
    await read("a"); // a is now the most recent
    await read("c"); // evicts b
    expect(cache.size.threads).toBe(2);
    await read("a");
    await read("c");
    expect(loads).toEqual(["a", "b", "c"]);
    await read("b");
    expect(loads).toEqual(["a", "b", "c", "b"]);
  });

  it("evicts past maxChars and never keeps a thread larger than maxChars", async () => {
    const small = conversationOf("x".repeat(100));
    const chars = conversationChars(small);
    const cache = new LruConversationCache({ maxChars: chars * 2 });
    const load = vi.fn(async (conversation: Conversation) => conversation);
    await cache.read("a", () => load(small));
    await cache.read("b", () => load(small));
    await cache.read("c", () => load(small));
    expect(cache.size).toEqual({ threads: 2, chars: chars * 2 });
    await cache.read("a", () => load(small)); // evicted: loaded again
    expect(load).toHaveBeenCalledTimes(4);

    const huge = conversationOf("x".repeat(chars * 2));
    await cache.read("huge", () => load(huge));
    await cache.read("huge", () => load(huge));
    expect(load).toHaveBeenCalledTimes(6);
    expect(cache.size.chars).toBeLessThanOrEqual(chars * 2);
  });

  it("counts text, tool names and tool-call arguments against maxChars", () => {
    const plain = conversationChars([{ role: "tool", content: "" }]);
    expect(
      conversationChars([
        { role: "tool", content: "42", toolName: "calculator" },
        { role: "assistant", content: "", toolCalls: [{ name: "calculator", args: { expression: "6*7" } }] },
      ]),
    ).toBe(2 * plain + 2 + "calculator".length * 2 + JSON.stringify({ expression: "6*7" }).length);
  });

  it("drops a thread when a write starts and when it ends, whether it succeeded or failed", async () => {
    const cache = new LruConversationCache({});
    let version = 0;
    const load = vi.fn(async () => conversationOf(`v${version}`));
    await cache.read("a", load);
    await cache.write("a", async () => {
      version++;
    });
    expect(await cache.read("a", load)).toEqual(conversationOf("v1"));
    await expect(
      cache.write("a", async () => {
        version++;
        throw new Error("the turn failed after writing");
      }),
    ).rejects.toThrow("the turn failed");
    expect(await cache.read("a", load)).toEqual(conversationOf("v2"));
    expect(load).toHaveBeenCalledTimes(3);
  });

  it("keeps nothing read while the thread is being written", async () => {
    const cache = new LruConversationCache({});
    const turn = deferred<void>();
    const load = vi.fn(async () => conversationOf("mid-turn"));
    const writing = cache.write("a", () => turn.promise);
    await cache.read("a", load);
    await cache.read("a", load);
    expect(load).toHaveBeenCalledTimes(2);
    turn.resolve();
    await writing;
  });

  it("does not keep a read that started before a write and finished after it", async () => {
    const cache = new LruConversationCache({});
    const stale = deferred<Conversation>();
    const reading = cache.read("a", () => stale.promise);
    await cache.write("a", async () => {});
    stale.resolve(conversationOf("before the write"));
    expect(await reading).toEqual(conversationOf("before the write"));
    expect(await cache.read("a", async () => conversationOf("after the write"))).toEqual(
      conversationOf("after the write"),
    );
  });

  it("does not keep a read that started during a write and finished after it", async () => {
    const cache = new LruConversationCache({});
    const turn = deferred<void>();
    const midTurn = deferred<Conversation>();
    const writing = cache.write("a", () => turn.promise);
    const reading = cache.read("a", () => midTurn.promise);
    turn.resolve();
    await writing;
    midTurn.resolve(conversationOf("mid-turn"));
    await reading;
    expect(await cache.read("a", async () => conversationOf("final"))).toEqual(conversationOf("final"));
  });

  it("rejects bounds that are not positive integers", () => {
    for (const options of [{ maxThreads: 0 }, { maxChars: 0 }, { maxThreads: 1.5 }]) {
      expect(() => new LruConversationCache(options)).toThrow(/conversationCache\.max/);
    }
  });
});

/** Stands for any saver other than MemorySaver (Postgres, Redis…): written by other processes too. */
const sharedSaver = () => Object.create(BaseCheckpointSaver.prototype) as BaseCheckpointSaver;

describe("createConversationCache", () => {
  it("caches on an agent-owned saver by default, and on a given MemorySaver only when asked", () => {
    expect(createConversationCache(undefined, undefined)).toBeInstanceOf(LruConversationCache);
    expect(createConversationCache(false, undefined)).not.toBeInstanceOf(LruConversationCache);
    expect(createConversationCache(undefined, new MemorySaver())).not.toBeInstanceOf(LruConversationCache);
    expect(createConversationCache({}, new MemorySaver())).toBeInstanceOf(LruConversationCache);
  });

  it("refuses a checkpointer other than MemorySaver: other processes may write it", () => {
    let error: unknown;
    try {
      createConversationCache({}, sharedSaver());
    } catch (thrown) {
      error = thrown;
    }
    expect(isAgentError(error) && error.code).toBe("AGENT_INPUT_INVALID");
    expect(createConversationCache(false, sharedSaver())).not.toBeInstanceOf(LruConversationCache);
  });
});

/** Answers the first call with a calculator call, then fails: a provider that went down mid-turn. */
class FailingSecondCall extends BaseChatModel {
  calls = 0;
  _llmType() {
    return "failing-second-call";
  }
  override bindTools() {
    return this as unknown as Runnable<never, never>;
  }
  async _generate(): Promise<ChatResult> {
    if (++this.calls > 1) throw new Error("provider down");
    const message = new AIMessage({
      content: "",
      tool_calls: [{ id: `call-${this.calls}`, name: "calculator", args: { expression: "6*7" } }],
    });
    return { generations: [{ text: "", message }] };
  }
}

/** A calculator that resolves `started` when called, then blocks until the run's signal aborts. */
function blockingCalculator() {
  const started = deferred<void>();
  const blocking = tool(
    async (_input, config) => {
      started.resolve();
      await sleep(10_000, config.signal);
      return "never";
    },
    { name: "calculator", description: "blocks", schema: z.object({ expression: z.string() }) },
  );
  return { blocking, started: started.promise };
}

describe("an agent with a conversation cache", () => {
  /** A cached agent, and an uncached one over the same saver to read the truth from. */
  function setup(options: Partial<AgentOptions> = {}) {
    const saver = new MemorySaver();
    const reads = vi.spyOn(saver, "getTuple");
    const agent = createAgent({
      model: createOfflineChatModel(),
      checkpointer: saver,
      conversationCache: {},
      ...options,
    });
    const truth = createAgent({ model: createOfflineChatModel(), checkpointer: saver });
    /** Checkpoint reads made by `action`. */
    const readsDuring = async (action: () => Promise<unknown>) => {
      const before = reads.mock.calls.length;
      await action();
      return reads.mock.calls.length - before;
    };
    return { agent, truth, readsDuring };
  }

  it("answers a cached read with the same messages as an uncached read, without the checkpointer", async () => {
    const { agent, truth, readsDuring } = setup();
    await agent.chat({ threadId: "t", message: "what is 6*7?" });
    const first = await agent.getConversation("t");
    expect(first).toEqual(await truth.getConversation("t"));
    expect(first?.[1]?.toolCalls).toEqual([{ name: "calculator", args: { expression: "6*7" } }]);
    expect(await readsDuring(() => agent.getConversation("t"))).toBe(0);
    expect(await agent.getConversation("t")).toEqual(first);
  });

  it("serves searchConversations from the same cache", async () => {
    const { agent, truth, readsDuring } = setup();
    await agent.chat({ threadId: "s1", message: "Budget for Apollo" });
    await agent.chat({ threadId: "s2", message: "what is 6*7?" });
    await agent.getConversation("s1");
    await agent.getConversation("s2");
    let hits: unknown;
    expect(
      await readsDuring(async () => {
        hits = await agent.searchConversations(["s1", "s2"], "apollo");
      }),
    ).toBe(0);
    expect(hits).toEqual(await truth.searchConversations(["s1", "s2"], "apollo"));
  });

  it("shows a completed turn to the very next read", async () => {
    const { agent, truth } = setup();
    await agent.chat({ threadId: "t", message: "hello" });
    expect(await agent.getConversation("t")).toHaveLength(2);
    await agent.chat({ threadId: "t", message: "what is 2+3?" });
    const after = await agent.getConversation("t");
    expect(after).toHaveLength(6);
    expect(after).toEqual(await truth.getConversation("t"));
  });

  it("shows a failed turn's saved steps to the very next read", async () => {
    const model = new FailingSecondCall({});
    const { agent, truth } = setup();
    await agent.chat({ threadId: "t", message: "hello" });
    expect(await agent.getConversation("t")).toHaveLength(2);
    expect(await codeOf(agent.chat({ threadId: "t", message: "what is 6*7?", model }), isAgentError)).toBe(
      "AGENT_FAILED",
    );
    const after = await agent.getConversation("t");
    // The question, the model's tool call and the tool's result were saved before the model failed.
    expect(after?.map((entry) => entry.role)).toEqual(["user", "assistant", "user", "assistant", "tool"]);
    expect(after).toEqual(await truth.getConversation("t"));
  });

  it("shows a cancelled turn's saved steps during the turn, at once and after it stopped", async () => {
    const { blocking, started } = blockingCalculator();
    const { agent, truth } = setup({ tools: [blocking] });
    await agent.chat({ threadId: "t", message: "hello" });
    expect(await agent.getConversation("t")).toHaveLength(2);

    const controller = new AbortController();
    const turn = agent.chat({ threadId: "t", message: "what is 6*7?", signal: controller.signal });
    await started;
    // Mid-turn the checkpointer holds the question and the tool call: the read shows them too.
    const during = await agent.getConversation("t");
    expect(during?.map((entry) => entry.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(during).toEqual(await truth.getConversation("t"));

    controller.abort();
    expect(await codeOf(turn, isAgentError)).toBe("AGENT_CANCELLED");
    expect(await agent.getConversation("t")).toEqual(await truth.getConversation("t"));
    // A turn admitted on the thread (then stopped by its onAdmitted) means the cancelled one let go.
    const stopped = agent.chat({
      threadId: "t",
      message: "probe",
      onAdmitted: () => Promise.reject(new Error("probe only")),
    });
    await expect(stopped).rejects.toThrow();
    const settled = await agent.getConversation("t");
    expect(settled).toEqual(await truth.getConversation("t"));
    expect(settled).toHaveLength(4);
  });

  it("keeps at most maxThreads threads, evicting the least recently read", async () => {
    const { agent, readsDuring } = setup({ conversationCache: { maxThreads: 2 } });
    for (const threadId of ["a", "b", "c"]) await agent.chat({ threadId, message: `hello ${threadId}` });
    expect(await readsDuring(() => agent.getConversation("a"))).toBe(1);
    expect(await readsDuring(() => agent.getConversation("b"))).toBe(1);
    expect(await readsDuring(() => agent.getConversation("a"))).toBe(0);
    expect(await readsDuring(() => agent.getConversation("c"))).toBe(1);
    expect(await readsDuring(() => agent.getConversation("a"))).toBe(0);
    expect(await readsDuring(() => agent.getConversation("c"))).toBe(0);
    expect(await readsDuring(() => agent.getConversation("b"))).toBe(1);
  });

  it("hands out frozen messages: a caller cannot change what the next caller reads", async () => {
    const { agent, truth } = setup();
    await agent.chat({ threadId: "t", message: "what is 6*7?" });
    const read = (await agent.getConversation("t")) as unknown as {
      role: string;
      content: string;
      toolCalls?: { args: Record<string, unknown> }[];
    }[];
    expect(() => read.push(read[0]!)).toThrow(TypeError);
    expect(() => read.reverse()).toThrow(TypeError);
    expect(() => {
      read[0]!.content = "rewritten";
    }).toThrow(TypeError);
    expect(() => {
      read[1]!.toolCalls![0]!.args.expression = "1+1";
    }).toThrow(TypeError);
    expect(() => read[1]!.toolCalls!.pop()).toThrow(TypeError);
    expect(await agent.getConversation("t")).toEqual(await truth.getConversation("t"));
  });

  it("hands out frozen messages without a cache too, so callers see one behaviour", async () => {
    const { truth } = setup();
    await truth.chat({ threadId: "t", message: "hello" });
    const read = await truth.getConversation("t");
    expect(Object.isFrozen(read)).toBe(true);
    expect(read?.every((entry) => Object.isFrozen(entry))).toBe(true);
  });

  it("is refused on a checkpointer that is not a MemorySaver", () => {
    let error: unknown;
    try {
      createAgent({ model: createOfflineChatModel(), checkpointer: sharedSaver(), conversationCache: {} });
    } catch (thrown) {
      error = thrown;
    }
    expect(isAgentError(error) && error.code).toBe("AGENT_INPUT_INVALID");
  });
});
