import { type AIMessage, type BaseMessage, isAIMessage, ToolMessage } from "@langchain/core/messages";
import { interrupt } from "@langchain/langgraph";
import { stampCreatedAt } from "./messages.js";

/** One tool call waiting for a person's decision. */
export interface ToolApprovalRequest {
  /** The model's tool-call id. */
  id: string;
  name: string;
  args: Record<string, unknown>;
}

/** A person's answer; a refusal says why, in words the model reads ("declined", "timed out", ...). */
export type ApprovalDecision = { approved: true } | { approved: false; reason: string };

/** Which tool calls need a person's approval before they run, and how to ask for it. */
export interface ToolApproval {
  required(toolName: string): boolean;
  /**
   * Asks for one call. Decline, cancel, timeout or nobody to ask are decisions, not errors: the
   * call does not run and the model is told why. A throw is treated as a refusal too.
   */
  ask(request: ToolApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision>;
  /**
   * The person is asked outside this call (ADR 0185): the turn ends paused (`AgentReply.pause`
   * carries the `ApprovalInterrupt`) and a later call resumes it with the decisions; `ask` is not used.
   */
  deferred?: boolean;
}

/** The value the approval node interrupts with: the calls of one model step that need approval. */
export interface ApprovalInterrupt {
  approvals: ToolApprovalRequest[];
}

/** Decisions by tool-call id: the value a paused approval is resumed with. */
export type ApprovalDecisions = Record<string, ApprovalDecision>;
type Decisions = ApprovalDecisions;

const lastModelMessage = (messages: BaseMessage[]): AIMessage | undefined => {
  const last = messages.at(-1);
  return last && isAIMessage(last) ? last : undefined;
};

/** Whether the model's last step asked for a tool that needs approval. */
export function needsApproval(messages: BaseMessage[], approval: ToolApproval | undefined): boolean {
  if (!approval) return false;
  return (lastModelMessage(messages)?.tool_calls ?? []).some((call) => approval.required(call.name));
}

/**
 * The graph node between the model and the tools: pauses the run (`interrupt`, so the paused state
 * is checkpointed) with every call that needs approval, and on resume answers each refused call
 * with a tool message saying it was not run. The tools node skips calls that already have an
 * answer, so only approved ones (and those needing no approval) run.
 */
export function approvalNode(messages: BaseMessage[], approval: ToolApproval | undefined) {
  const calls = (lastModelMessage(messages)?.tool_calls ?? []).filter((call) =>
    approval?.required(call.name),
  );
  if (calls.length === 0) return { messages: [] };
  const decisions = interrupt<ApprovalInterrupt, Decisions>({
    approvals: calls.map((call) => ({ id: call.id ?? "", name: call.name, args: call.args })),
  });
  const refused = calls.flatMap((call) => {
    const decision = decisions?.[call.id ?? ""];
    if (decision?.approved) return [];
    const reason = decision?.reason ?? "no decision was given";
    return [
      stampCreatedAt(
        new ToolMessage({
          tool_call_id: call.id ?? "",
          name: call.name,
          status: "error",
          content: `Not run: the user did not approve this call of ${call.name} (${reason}).`,
        }),
      ),
    ];
  });
  return { messages: refused };
}

/** The interrupt value as an approval request, if it is one. */
export function asApprovalInterrupt(value: unknown): ApprovalInterrupt | undefined {
  return Array.isArray((value as ApprovalInterrupt | undefined)?.approvals)
    ? (value as ApprovalInterrupt)
    : undefined;
}

/** Asks for each paused call in turn; anything but an explicit approval refuses it. */
export async function decideApprovals(
  paused: ApprovalInterrupt,
  approval: ToolApproval | undefined,
  signal: AbortSignal,
): Promise<Decisions> {
  const decisions: Decisions = {};
  for (const request of paused.approvals) {
    signal.throwIfAborted();
    decisions[request.id] = approval
      ? await approval.ask(request, signal).catch((): ApprovalDecision => {
          // The turn's own cancellation still ends the turn; any other failure to ask is a refusal.
          signal.throwIfAborted();
          return { approved: false, reason: "approval could not be asked for" };
        })
      : { approved: false, reason: "nobody could be asked for approval" };
  }
  return decisions;
}
