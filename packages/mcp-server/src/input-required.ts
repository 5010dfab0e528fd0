import type { ApprovalDecisions, TurnPause, TurnResume } from "@mcp-langgraph/agent-graph";
import type { SamplingRequest, SamplingResponse } from "@mcp-langgraph/llm-factory";
import {
  type CreateMessageRequestParams,
  type InputRequests,
  type InputRequiredResult,
  inputRequired,
  inputResponse,
  type RequestStateCodec,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { z } from "zod";
import { McpServerError } from "./errors.js";
import { approvalMessage } from "./upstreams/approval.js";

/**
 * What agent_chat seals into the `requestState` of an input_required result (ADR 0185). The codec
 * binds it to the user and the method and gives it an expiry; the payload binds it to the
 * conversation and to the checkpoint where the run waits, so it resumes that pause and nothing else.
 */
const pausedTurnStateSchema = z.object({
  tool: z.literal("agent_chat"),
  /** The caller's thread id (not the conversation key), as agent_chat's `thread_id` names it. */
  thread: z.string(),
  checkpoint: z.string(),
  kind: z.enum(["approval", "sampling"]),
  /** Approval: the tool-call ids, in the order of the `approve-<i>` input requests. */
  calls: z.array(z.string()).optional(),
});
export type PausedTurnState = z.infer<typeof pausedTurnStateSchema>;

/** The value the model node interrupts with when the client's model must answer (askCaller). */
export interface SamplingInterrupt {
  sampling: SamplingRequest;
}

const approvalKey = (index: number) => `approve-${index}`;
const SAMPLING_KEY = "sampling";

/** The paused turn this retried call continues, or undefined for a first call (no state echoed). */
export function pausedTurnOf(ctx: ServerContext, threadId: string | undefined): PausedTurnState | undefined {
  const raw = ctx.mcpReq.requestState<unknown>();
  if (raw === undefined) return undefined;
  const parsed = pausedTurnStateSchema.safeParse(raw);
  if (!parsed.success) {
    throw new McpServerError("REQUEST_STATE_INVALID", "The requestState was not issued for agent_chat.");
  }
  if (threadId !== undefined && parsed.data.thread !== threadId) {
    throw new McpServerError(
      "REQUEST_STATE_INVALID",
      "The requestState belongs to another conversation than thread_id names.",
    );
  }
  return parsed.data;
}

/**
 * The input_required result for a turn that paused: a form elicitation per tool call awaiting
 * approval (tool and arguments, as on sessions), or the model's sampling request.
 */
export async function askForInput(
  pause: TurnPause,
  threadId: string,
  codec: RequestStateCodec<unknown>,
  ctx: ServerContext,
  samplingTools: boolean,
): Promise<InputRequiredResult> {
  const state: PausedTurnState = {
    tool: "agent_chat",
    thread: threadId,
    checkpoint: pause.checkpointId,
    kind: "sampling",
  };
  const inputRequests: InputRequests = {};
  const approvals = (
    pause.value as { approvals?: { id: string; name: string; args: Record<string, unknown> }[] }
  ).approvals;
  const sampling = (pause.value as Partial<SamplingInterrupt>).sampling;
  if (Array.isArray(approvals)) {
    state.kind = "approval";
    state.calls = approvals.map((call) => call.id);
    approvals.forEach((call, index) => {
      inputRequests[approvalKey(index)] = inputRequired.elicit({
        mode: "form",
        message: approvalMessage(call),
        requestedSchema: { type: "object", properties: {} },
      });
    });
  } else if (sampling) {
    // Tool use in sampling is a separate client capability; without it the client's model answers in text.
    const { tools, toolChoice, ...plain } = sampling;
    inputRequests[SAMPLING_KEY] = inputRequired.createMessage(
      (samplingTools ? sampling : plain) as CreateMessageRequestParams,
    );
  } else {
    throw new McpServerError(
      "INPUT_RESPONSE_INVALID",
      "The turn paused for an input this server cannot ask for.",
    );
  }
  return inputRequired({ inputRequests, requestState: await codec.mint(state, ctx) });
}

/**
 * The answer to resume the paused turn with, from the retried call's input responses. An answer
 * missing or of the wrong kind is refused, and the turn stays paused for a correct retry.
 */
export function resumeOf(state: PausedTurnState, ctx: ServerContext): TurnResume {
  const responses = ctx.mcpReq.inputResponses;
  if (state.kind === "sampling") {
    const answer = inputResponse(responses, SAMPLING_KEY);
    if (answer.kind !== "sampling") throw missing(SAMPLING_KEY);
    return { value: answer.result as SamplingResponse, checkpointId: state.checkpoint };
  }
  const decisions: ApprovalDecisions = {};
  (state.calls ?? []).forEach((callId, index) => {
    const answer = inputResponse(responses, approvalKey(index));
    if (answer.kind !== "elicit") throw missing(approvalKey(index));
    // Only an explicit accept runs the call (ADR 0142).
    decisions[callId] =
      answer.action === "accept"
        ? { approved: true }
        : { approved: false, reason: answer.action === "decline" ? "declined" : "cancelled" };
  });
  return { value: decisions, checkpointId: state.checkpoint };
}

const missing = (key: string) =>
  new McpServerError(
    "INPUT_RESPONSE_INVALID",
    `The retried call carries no answer to the input request '${key}'; retry with it and the same requestState.`,
  );
