// ADR 0185: a turn that stops for its caller's input (a deferred approval, or the caller's own
// interrupt) ends paused at a checkpoint, and a later turn resumes it from exactly there.
import { tool } from "@langchain/core/tools";
import { createOfflineChatModel, SamplingChatModel, type SamplingResponse } from "@mcp-langgraph/llm-factory";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type ApprovalInterrupt, askCaller, createAgent, isAgentError } from "../src/index.ts";

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

const deferred = {
  required: (name: string) => name === "calculator",
  ask: async () => ({ approved: false as const, reason: "must not be asked in the call" }),
  deferred: true,
};

const approvalsOf = (value: unknown) => (value as ApprovalInterrupt | undefined)?.approvals ?? [];

async function pausedForApproval(threadId: string) {
  const { calculator, runs } = countingCalculator();
  const agent = createAgent({ model: createOfflineChatModel(), tools: [calculator] });
  const paused = await agent.chat({ threadId, message: "what is 6 * 7?", approval: deferred });
  return { agent, runs, paused };
}

describe("a deferred approval", () => {
  it("ends the turn paused with the call to approve, and runs it once resumed with an approval", async () => {
    const { agent, runs, paused } = await pausedForApproval("defer-accept");
    expect(paused.reply).toBe("");
    const approvals = approvalsOf(paused.pause?.value);
    expect(approvals).toEqual([
      { id: expect.any(String), name: "calculator", args: { expression: "6 * 7" } },
    ]);
    expect(runs).toEqual([]);
    const id = approvals[0]?.id ?? "";
    const reply = await agent.chat({
      threadId: "defer-accept",
      message: "what is 6 * 7?",
      approval: deferred,
      resume: { value: { [id]: { approved: true } }, checkpointId: paused.pause?.checkpointId ?? "" },
    });
    expect(reply.pause).toBeUndefined();
    expect(runs).toEqual(["6 * 7"]);
    expect(reply.reply).toContain("42");
    // The question is stored once: the resume adds no message of its own.
    const roles = (await agent.getConversation("defer-accept"))?.map((message) => message.role);
    expect(roles).toEqual(["user", "assistant", "tool", "assistant"]);
  });

  it("leaves a declined call unrun and tells the model why", async () => {
    const { agent, runs, paused } = await pausedForApproval("defer-decline");
    const id = approvalsOf(paused.pause?.value)[0]?.id ?? "";
    const reply = await agent.chat({
      threadId: "defer-decline",
      message: "what is 6 * 7?",
      approval: deferred,
      resume: {
        value: { [id]: { approved: false, reason: "declined" } },
        checkpointId: paused.pause?.checkpointId ?? "",
      },
    });
    expect(runs).toEqual([]);
    expect(reply.reply).toContain("Not run: the user did not approve this call of calculator (declined)");
  });

  it("refuses a replayed resume and changes nothing", async () => {
    const { agent, runs, paused } = await pausedForApproval("defer-replay");
    const id = approvalsOf(paused.pause?.value)[0]?.id ?? "";
    const resume = { value: { [id]: { approved: true } }, checkpointId: paused.pause?.checkpointId ?? "" };
    await agent.chat({ threadId: "defer-replay", message: "x", approval: deferred, resume });
    const before = await agent.getConversation("defer-replay");
    const replay = agent.chat({ threadId: "defer-replay", message: "x", approval: deferred, resume });
    await expect(replay).rejects.toSatisfy(
      (error) => isAgentError(error) && error.code === "AGENT_RESUME_STALE",
    );
    expect(runs).toEqual(["6 * 7"]);
    expect(await agent.getConversation("defer-replay")).toEqual(before);
  });

  it("is abandoned by a new message: the call is closed unrun, and the old pause can no longer be resumed", async () => {
    const { agent, runs, paused } = await pausedForApproval("defer-abandon");
    const id = approvalsOf(paused.pause?.value)[0]?.id ?? "";
    const next = await agent.chat({ threadId: "defer-abandon", message: "hello again" });
    expect(next.pause).toBeUndefined();
    const stored = await agent.getConversation("defer-abandon");
    expect(stored?.map((message) => message.content)).toContain(
      "Not run: the previous turn ended before this tool call completed.",
    );
    const late = agent.chat({
      threadId: "defer-abandon",
      message: "x",
      approval: deferred,
      resume: { value: { [id]: { approved: true } }, checkpointId: paused.pause?.checkpointId ?? "" },
    });
    await expect(late).rejects.toSatisfy(
      (error) => isAgentError(error) && error.code === "AGENT_RESUME_STALE",
    );
    expect(runs).toEqual([]);
  });
});

describe("a model whose completions the caller supplies (askCaller)", () => {
  it("pauses at each model call with the request and resumes with the caller's completion", async () => {
    const model = new SamplingChatModel({
      sample: async (request) => askCaller<SamplingResponse>({ sampling: request }),
    });
    const agent = createAgent({ model: createOfflineChatModel() });
    const first = await agent.chat({ threadId: "asked", message: "say hi", model });
    const asked = first.pause?.value as { sampling: { messages: { content: unknown }[] } };
    expect(JSON.stringify(asked.sampling.messages)).toContain("say hi");
    const reply = await agent.chat({
      threadId: "asked",
      message: "say hi",
      model,
      resume: {
        value: { role: "assistant", content: { type: "text", text: "hi from the client" }, model: "client" },
        checkpointId: first.pause?.checkpointId ?? "",
      },
    });
    expect(reply.pause).toBeUndefined();
    expect(reply.reply).toBe("hi from the client");
  });
});
