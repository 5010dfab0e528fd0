import { tool } from "@langchain/core/tools";
import { createOfflineChatModel } from "@mcp-langgraph/llm-factory";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type ApprovalDecision, createAgent, type ToolApprovalRequest } from "../src/index.ts";

/** A calculator that counts its runs, so a test sees whether a refused call stayed unrun. */
function countingCalculator() {
  const runs: string[] = [];
  const calculator = tool(
    async ({ expression }) => {
      runs.push(expression);
      return "42";
    },
    { name: "calculator", description: "counts", schema: z.object({ expression: z.string() }) },
  );
  return { calculator, runs };
}

function approvalAnswering(decide: (request: ToolApprovalRequest) => Promise<ApprovalDecision>) {
  const asked: ToolApprovalRequest[] = [];
  return {
    asked,
    approval: {
      required: (name: string) => name === "calculator",
      ask: async (request: ToolApprovalRequest) => {
        asked.push(request);
        return decide(request);
      },
    },
  };
}

describe("tool calls that need approval", () => {
  it("pause the turn, ask with the call's name and arguments, and run once approved", async () => {
    const { calculator, runs } = countingCalculator();
    const agent = createAgent({ model: createOfflineChatModel(), tools: [calculator] });
    const { approval, asked } = approvalAnswering(async () => ({ approved: true }));
    const reply = await agent.chat({ threadId: "approved", message: "what is 6 * 7?", approval });
    expect(asked).toEqual([{ id: expect.any(String), name: "calculator", args: { expression: "6 * 7" } }]);
    expect(runs).toEqual(["6 * 7"]);
    expect(reply.reply).toContain("42");
  });

  it("never run a declined call; the model reads why and the turn still answers", async () => {
    const { calculator, runs } = countingCalculator();
    const agent = createAgent({ model: createOfflineChatModel(), tools: [calculator] });
    const { approval } = approvalAnswering(async () => ({ approved: false, reason: "declined" }));
    const reply = await agent.chat({ threadId: "declined", message: "what is 6 * 7?", approval });
    expect(runs).toEqual([]);
    expect(reply.reply).toContain("Not run: the user did not approve this call of calculator (declined)");
    const stored = await agent.getConversation("declined");
    expect(stored?.map((message) => message.role)).toEqual(["user", "assistant", "tool", "assistant"]);
  });

  it("treat an asker that fails as a refusal, not as an error of the turn", async () => {
    const { calculator, runs } = countingCalculator();
    const agent = createAgent({ model: createOfflineChatModel(), tools: [calculator] });
    const { approval } = approvalAnswering(async () => {
      throw new Error("the client went away");
    });
    const reply = await agent.chat({ threadId: "failing", message: "what is 6 * 7?", approval });
    expect(runs).toEqual([]);
    expect(reply.reply).toContain("approval could not be asked for");
  });

  it("leave calls of tools that need no approval alone", async () => {
    const { calculator, runs } = countingCalculator();
    const agent = createAgent({ model: createOfflineChatModel(), tools: [calculator] });
    const approval = { required: () => false, ask: async () => ({ approved: false, reason: "no" }) as const };
    await agent.chat({ threadId: "free", message: "what is 6 * 7?", approval });
    expect(runs).toEqual(["6 * 7"]);
  });

  it("offer a turn's own tools next to the agent's and keep them out of other turns", async () => {
    const { calculator, runs } = countingCalculator();
    const agent = createAgent({ model: createOfflineChatModel(), tools: [] });
    // Without the turn's tools the offline model has no calculator to call and answers in text.
    await agent.chat({ threadId: "plain", message: "what is 6 * 7?" });
    expect(runs).toEqual([]);
    await agent.chat({ threadId: "with-tools", message: "what is 6 * 7?", tools: [calculator] });
    expect(runs).toEqual(["6 * 7"]);
  });
});
