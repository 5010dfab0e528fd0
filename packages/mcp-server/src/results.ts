import { isAgentError } from "@mcp-langgraph/agent-graph";
import { isAbortError } from "@mcp-langgraph/core";
import { isLlmError } from "@mcp-langgraph/llm-factory";
import type { CallToolResult } from "@modelcontextprotocol/server";
import { isMcpServerError } from "./errors.js";

export const toolText = (text: string) => ({ type: "text" as const, text });

/** Receives failures the client only sees as a generic message, for the operator's logs. */
export type ToolFailureReporter = (tool: string, error: unknown) => void;

/**
 * Maps a failure to an MCP tool error result. Known, typed failures carry
 * their own safe message; anything else is reported to the operator and the
 * client gets a generic sentence (no stack, no internals).
 */
export function toolError(error: unknown, tool: string, report: ToolFailureReporter): CallToolResult {
  const fail = (code: string, message: string, extra: Record<string, unknown> = {}): CallToolResult => ({
    isError: true,
    content: [toolText(message)],
    structuredContent: { error: { code, message, ...extra } },
  });
  if (isMcpServerError(error)) {
    if (error.code === "AUTHZ_UNAVAILABLE") report(tool, error);
    return fail(error.code, error.message);
  }
  if (isAgentError(error)) {
    switch (error.code) {
      case "AGENT_INPUT_INVALID":
      case "AGENT_HISTORY_LIMIT":
      case "AGENT_BUSY":
        // A limit, not a fault: the client is told which one and when a retry may get in.
        return fail(error.code, `The agent is busy: ${error.message}.`, {
          retryable: true,
          ...(typeof error.details?.retryAfterMs === "number"
            ? { retryAfterMs: error.details.retryAfterMs }
            : {}),
          ...(typeof error.details?.limit === "string" ? { limit: error.details.limit } : {}),
        });
      case "AGENT_STEP_LIMIT":
      case "AGENT_TIMEOUT":
        return fail(error.code, error.message);
      case "AGENT_CANCELLED":
        return fail("CANCELLED", "The request was cancelled.");
    }
  }
  if (isLlmError(error)) {
    report(tool, error);
    return fail(error.code, "The language model is unavailable right now; please retry later.");
  }
  if (isAbortError(error)) return fail("CANCELLED", "The request was cancelled.");
  report(tool, error);
  return fail("INTERNAL", `The tool '${tool}' failed unexpectedly.`);
}
