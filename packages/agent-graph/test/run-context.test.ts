import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";
import { END, getConfig, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { createOfflineChatModel } from "@mcp-langgraph/llm-factory";
import { afterEach, describe, expect, it } from "vitest";
import { createAgent, restoreRunContext, useLightweightRunContext } from "../src/index.ts";

/** A graph whose node reports what the async-local store and `getConfig()` hold while it runs. */
function probeGraph() {
  const seen: { store: string; threadId: unknown }[] = [];
  const graph = new StateGraph(MessagesAnnotation)
    .addNode("probe", async () => {
      const store = AsyncLocalStorageProviderSingleton.getInstance().getStore() as object | undefined;
      seen.push({ store: store?.constructor?.name ?? "none", threadId: getConfig().configurable?.thread_id });
      return {};
    })
    .addEdge(START, "probe")
    .addEdge("probe", END)
    .compile();
  return { graph, seen };
}

/** The run a tracer hands LangChain to carry the config (LangChain's own path, not ours). */
class TracedRun {
  extra: Record<string | symbol, unknown> = {};
}

/** Looks like LangChain's LangSmith tracer to the run-context check (it is matched by name). */
class FakeTracer extends BaseCallbackHandler {
  name = "langchain_tracer";
  getRunTreeWithTracingConfig() {
    return new TracedRun();
  }
}

afterEach(() => restoreRunContext());

describe("useLightweightRunContext", () => {
  it("by default LangChain builds a LangSmith RunTree per runnable even with tracing off", async () => {
    const { graph, seen } = probeGraph();
    await graph.invoke({ messages: [] }, { configurable: { thread_id: "t-default" } });
    expect(seen).toEqual([{ store: "RunTree", threadId: "t-default" }]);
  });

  it("carries the runnable config in a plain store: getConfig() still sees it, no RunTree is built", async () => {
    useLightweightRunContext();
    const { graph, seen } = probeGraph();
    await graph.invoke({ messages: [] }, { configurable: { thread_id: "t-lean" } });
    expect(seen).toEqual([{ store: "Object", threadId: "t-lean" }]);
  });

  it("leaves runs with a LangChain tracer among their callbacks to LangChain", async () => {
    useLightweightRunContext();
    const { graph, seen } = probeGraph();
    await graph.invoke(
      { messages: [] },
      { configurable: { thread_id: "t-traced" }, callbacks: [new FakeTracer()] },
    );
    expect(seen).toEqual([{ store: "TracedRun", threadId: "t-traced" }]);
  });

  it("the agent answers the same with it installed (a calculator turn)", async () => {
    useLightweightRunContext();
    const reply = await createAgent({ model: createOfflineChatModel() }).chat({
      threadId: "lean-agent",
      message: "what is 6*7?",
    });
    expect(reply.reply).toContain("42");
    expect(reply.messages.map((message) => message.role)).toEqual(["user", "assistant", "tool", "assistant"]);
  });
});
