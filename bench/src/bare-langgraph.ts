/**
 * Child entry: the bare LangGraph floor. What any server that runs a LangGraph agent must spend at
 * least: a one-node StateGraph(MessagesAnnotation) whose node calls ChatOpenAI with one bound tool,
 * a MemorySaver checkpointer, N concurrent `graph.invoke` on distinct threads; no HTTP, no MCP, no
 * auth. It runs in its own process so the bench reads its CPU from /proc alone, like the app's.
 *
 *   env MODEL_URL (the loopback model's /v1 base URL)
 */
import { HumanMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { END, MemorySaver, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { ChatOpenAI } from "@langchain/openai";
import { z } from "zod";
import { serveParent } from "./children.ts";

const baseURL = process.env.MODEL_URL;
if (!baseURL) throw new Error("MODEL_URL is required");

const echo = tool(async ({ text }) => text, {
  name: "echo",
  description: "Echoes its text.",
  schema: z.object({ text: z.string() }),
});
const model = new ChatOpenAI({ model: "gpt-4o-mini", apiKey: "x", configuration: { baseURL } }).bindTools([
  echo,
]);
const graph = new StateGraph(MessagesAnnotation)
  .addNode("agent", async (state) => ({ messages: [await model.invoke(state.messages)] }))
  .addEdge(START, "agent")
  .addEdge("agent", END)
  .compile({ checkpointer: new MemorySaver() });

export interface BareRun {
  n: number;
  wallMs: number;
  ok: number;
  failures: Record<string, number>;
}

let runs = 0;

/** N concurrent invocations, each on a thread of its own; a call that fails is counted, not thrown. */
async function run(n: number): Promise<BareRun> {
  const run = ++runs;
  const failures: Record<string, number> = {};
  let ok = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      try {
        await graph.invoke(
          { messages: [new HumanMessage(`hello ${i}`)] },
          { configurable: { thread_id: `bare-${run}-${i}` }, signal: AbortSignal.timeout(120_000) },
        );
        ok++;
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).name ?? "Error";
        failures[code] = (failures[code] ?? 0) + 1;
      }
    }),
  );
  return { n, wallMs: performance.now() - started, ok, failures };
}

serveParent({ run: (n) => run(Number(n)) }, { pid: process.pid });
