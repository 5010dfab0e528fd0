import { isAgentError } from "@mcp-langgraph/agent-graph";
import { isAuthzError } from "@mcp-langgraph/authz";
import { isAbortError, isCodedError } from "@mcp-langgraph/core";
import { isLlmError, type LlmError } from "@mcp-langgraph/llm-factory";
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
    if (error.code === "RATE_LIMITED")
      // A limit, not a fault: which one, and when the window resets so a retry gets in.
      return fail(error.code, error.message, {
        retryable: true,
        ...(typeof error.details?.limit === "string" ? { limit: error.details.limit } : {}),
        ...(typeof error.details?.retryAfterMs === "number"
          ? { retryAfterMs: error.details.retryAfterMs }
          : {}),
      });
    if (error.code === "RATE_LIMIT_UNAVAILABLE") {
      report(tool, error);
      return fail(error.code, error.message, { retryable: true });
    }
    if (error.code === "UPSTREAM_UNAVAILABLE" || error.code === "UPSTREAM_TIMEOUT") {
      report(tool, error);
      return fail(error.code, error.message, { retryable: true });
    }
    if (error.code !== "AUTHZ_UNAVAILABLE") return fail(error.code, error.message);
    report(tool, error);
    // An authorizer outage (its server or tuple store down, a deadline) passes; a rejected request does not.
    return fail(error.code, error.message, isAuthzOutage(error.cause) ? { retryable: true } : {});
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
      case "AGENT_RESUME_STALE":
        return fail(error.code, error.message);
      case "AGENT_CANCELLED":
        return fail("CANCELLED", "The request was cancelled.");
      case "CHECKPOINTER_UNAVAILABLE":
        // An outage (Postgres stopped or restarting): the pool reconnects by itself, so a retry can succeed.
        report(tool, error);
        return fail(error.code, "Conversation storage is unavailable right now; please retry later.", {
          retryable: true,
        });
    }
  }
  if (isLlmError(error)) {
    report(tool, error);
    if (error.code === "LLM_TIMEOUT") return fail(error.code, modelTimeoutText(error), { retryable: true });
    return fail(error.code, "The language model is unavailable right now; please retry later.");
  }
  if (isAbortError(error)) return fail("CANCELLED", "The request was cancelled.");
  const sharedState = isCodedError(error) ? SHARED_STATE_FAILURES[error.code] : undefined;
  if (sharedState && isCodedError(error)) {
    // Shared state across instances (turn locks in Redis, ADR 0165) failing: retryable, never INTERNAL.
    report(tool, error);
    return fail(error.code, sharedState, { retryable: true });
  }
  report(tool, error);
  return fail("INTERNAL", `The tool '${tool}' failed unexpectedly.`);
}

/**
 * The session package's codes that reach a tool through the agent's shared turn locks, and what a
 * user may read about them (never Redis's own message). mcp-server does not depend on that
 * package, so the codes are matched as strings.
 */
const SHARED_STATE_FAILURES: Record<string, string> = {
  SESSION_UNAVAILABLE: "Shared state is unavailable right now; please retry later.",
  SESSION_LOCK_TIMEOUT: "Another turn of this conversation is still running; please retry later.",
  SESSION_LOCK_LOST: "The turn lost its hold on the conversation and was stopped; please retry.",
};

/**
 * What a user may learn about a model timeout: the deadline and how many attempts were made. Built
 * from the numbers in `details`, never from the message, which names models (an Azure deployment,
 * a Bedrock ARN with an account id) that are the operator's business.
 */
function modelTimeoutText({ details }: LlmError): string {
  const timeoutMs = typeof details?.timeoutMs === "number" ? details.timeoutMs : undefined;
  const attempts = typeof details?.attempts === "number" ? details.attempts : undefined;
  const models = Array.isArray(details?.models) ? details.models.length : 1;
  const after = timeoutMs === undefined ? "" : ` after ${timeoutMs} ms`;
  const counts =
    attempts === undefined
      ? ""
      : ` (${attempts} attempt${attempts === 1 ? "" : "s"}${models > 1 ? ` across ${models} models` : ""})`;
  return `The language model${models > 1 ? "s" : ""} timed out${after}${counts}; please retry later.`;
}

const isAuthzOutage = (cause: unknown) => !isAuthzError(cause) || cause.code === "AUTHZ_UNAVAILABLE";
