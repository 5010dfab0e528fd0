import type { ApprovalDecision, ToolApproval, ToolApprovalRequest } from "@mcp-langgraph/agent-graph";
import type { McpServer, ServerContext } from "@modelcontextprotocol/server";
import type { UpstreamGateway } from "./gateway.js";

export const DEFAULT_APPROVAL_TIMEOUT_MS = 60_000;

/**
 * Approval of upstream tool calls through MCP elicitation (form mode), asked of the client whose
 * request runs the turn (ADR 0142). Only an explicit accept runs the call; decline, cancel, a
 * timeout, a failed request or a client without elicitation refuse it, and the model is told which.
 */
export function elicitationApproval(
  server: McpServer,
  ctx: ServerContext,
  gateway: UpstreamGateway,
  timeoutMs: number,
): ToolApproval {
  return {
    required: (toolName) => gateway.tool(toolName)?.needsApproval ?? false,
    async ask(request, signal): Promise<ApprovalDecision> {
      if (!supportsFormElicitation(server)) return { approved: false, reason: NO_APPROVAL_CLIENT };
      const deadline = AbortSignal.timeout(timeoutMs);
      try {
        const answer = await ctx.mcpReq.elicitInput(
          {
            mode: "form",
            message: approvalMessage(request),
            requestedSchema: { type: "object", properties: {} },
          },
          { signal: AbortSignal.any([signal, deadline]), timeout: timeoutMs },
        );
        if (answer.action === "accept") return { approved: true };
        return { approved: false, reason: answer.action === "decline" ? "declined" : "cancelled" };
      } catch (error) {
        signal.throwIfAborted();
        if (deadline.aborted || (error instanceof Error && /timed? ?out/i.test(error.message)))
          return { approved: false, reason: `no answer within ${timeoutMs} ms` };
        return { approved: false, reason: "the approval request failed" };
      }
    },
  };
}

/**
 * Approval on the 2026-07-28 protocol (ADR 0185): it has no server-to-client request, so a call
 * that needs approval ends the turn paused, and agent_chat answers with an input_required result
 * carrying the form elicitation; the client's retry resumes the run with the decision. A client
 * that did not declare form elicitation is not asked: the call is refused, as on a session (and
 * so is every call when no request-state codec can seal the pause: `canPause` false).
 */
export function inputRequiredApproval(
  server: McpServer,
  gateway: UpstreamGateway,
  canPause: boolean,
): ToolApproval {
  const required = (toolName: string) => gateway.tool(toolName)?.needsApproval ?? false;
  if (!canPause || !supportsFormElicitation(server))
    return { required, ask: async () => ({ approved: false, reason: NO_APPROVAL_CLIENT }) };
  // Deferred: the agent pauses instead of calling `ask`.
  return { required, ask: async () => ({ approved: false, reason: NO_APPROVAL_CLIENT }), deferred: true };
}

const NO_APPROVAL_CLIENT = "the user's client cannot ask for approval";

function supportsFormElicitation(server: McpServer): boolean {
  const elicitation = server.server.getClientCapabilities()?.elicitation as
    | Record<string, unknown>
    | undefined;
  // An empty object is form mode (the 2025-06-18 shape); later clients name the modes they support.
  return (
    elicitation !== undefined && (Object.keys(elicitation).length === 0 || elicitation.form !== undefined)
  );
}

/** States the tool and its arguments, so the person approves exactly this call. */
export function approvalMessage(request: ToolApprovalRequest): string {
  return `The agent wants to run the tool "${request.name}" with these arguments:\n${JSON.stringify(request.args, null, 2)}\nAccept to run it, decline to refuse.`;
}
