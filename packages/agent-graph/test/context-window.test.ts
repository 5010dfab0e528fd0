import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { contextBudget, planCompaction, recentMessages } from "../src/context-window.ts";
import { estimateMessageTokens } from "../src/token-estimate.ts";

/** One turn: a question of `chars` characters, a tool call, its result and an answer. */
function toolTurn(n: number, chars = 200): BaseMessage[] {
  return [
    new HumanMessage({ id: `q${n}`, content: `${n} `.padEnd(chars, "x") }),
    new AIMessage({
      id: `call${n}`,
      content: "",
      tool_calls: [{ id: `c${n}`, name: "calculator", args: { expression: `${n}+1` }, type: "tool_call" }],
    }),
    new ToolMessage({ id: `r${n}`, content: String(n + 1), tool_call_id: `c${n}`, name: "calculator" }),
    new AIMessage({ id: `a${n}`, content: `It is ${n + 1}.` }),
  ];
}

const thread = (turns: number) => Array.from({ length: turns }, (_, n) => toolTurn(n)).flat();
const tokens = (messages: BaseMessage[]) => messages.reduce((sum, m) => sum + estimateMessageTokens(m), 0);

describe("planCompaction", () => {
  const budget = contextBudget(1_000, 0);

  it("plans nothing while the thread fits", () => {
    expect(planCompaction(thread(3), undefined, budget)).toBeUndefined();
  });

  it("cuts only where a user turn starts, leaving the recent turns within half the budget", () => {
    const messages = thread(20);
    const plan = planCompaction(messages, undefined, budget);
    expect(plan).toBeDefined();
    const { from, to } = plan as { from: number; to: number };
    expect(from).toBe(0);
    expect(messages[to]).toBeInstanceOf(HumanMessage);
    expect(tokens(messages.slice(to))).toBeLessThanOrEqual(budget.recentTokens);
    // The earliest such cut: one turn earlier would not fit.
    expect(tokens(messages.slice(to - 4))).toBeGreaterThan(budget.recentTokens);
  });

  it("continues from the stored summary, never re-summarising what it covers", () => {
    const messages = thread(30);
    const plan = planCompaction(messages, { text: "earlier", messageCount: 40 }, budget);
    expect(plan?.from).toBe(40);
    expect(planCompaction(messages, { text: "earlier", messageCount: 104 }, budget)).toBeUndefined();
  });

  it("never cuts into the current turn, however large it is", () => {
    const messages = [...toolTurn(0), ...toolTurn(1, 20_000)];
    expect(planCompaction(messages, undefined, budget)).toEqual({ from: 0, to: 4 });
    expect(planCompaction(toolTurn(0, 20_000), undefined, budget)).toBeUndefined();
  });
});

describe("recentMessages", () => {
  const budget = contextBudget(1_000, 0);

  it("sends everything after the summary when it fits", () => {
    const messages = thread(8);
    expect(recentMessages(messages, { text: "s", messageCount: 4 }, budget)).toEqual({
      messages: messages.slice(4),
      truncated: 0,
    });
  });

  it("falls back to the newest whole turns that fit when the summary has not caught up", () => {
    const messages = thread(30);
    const { messages: sent, truncated } = recentMessages(messages, undefined, budget);
    expect(truncated).toBeGreaterThan(0);
    expect(sent[0]).toBeInstanceOf(HumanMessage);
    expect(tokens(sent)).toBeLessThanOrEqual(budget.available);
    expect(sent.at(-1)).toBe(messages.at(-1));
  });
});
