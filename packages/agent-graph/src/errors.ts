import { GraphRecursionError } from "@langchain/langgraph";
import { CodedError, type CodedErrorOptions, isCodedError } from "@mcp-langgraph/core";

export const AGENT_ERROR_FAMILY = "agent";

export type AgentErrorCode =
  /** Caller input (thread id, message, query, options) is malformed or too large. */
  | "AGENT_INPUT_INVALID"
  /** The thread already stores as many characters as the agent accepts (`maxHistoryChars`). */
  | "AGENT_HISTORY_LIMIT"
  /** The turn needed more model steps than `maxSteps`. */
  | "AGENT_STEP_LIMIT"
  /** The caller's signal aborted the turn. */
  | "AGENT_CANCELLED"
  /** The turn or read ran past its deadline. */
  | "AGENT_TIMEOUT"
  /** Too many turns are running or waiting in this process. */
  | "AGENT_BUSY"
  /** The chat model cannot be used by the agent (e.g. it cannot bind tools). */
  | "AGENT_MODEL_UNSUPPORTED"
  /** A resume named a pause the thread is no longer waiting in (answered already, or moved on). */
  | "AGENT_RESUME_STALE"
  /** Anything else that broke a turn (model, tool plumbing, graph). */
  | "AGENT_FAILED"
  /** The checkpointer configuration is invalid. */
  | "CHECKPOINTER_CONFIG_INVALID"
  /** The checkpoint store could not be reached or answered with an error. */
  | "CHECKPOINTER_UNAVAILABLE"
  | "CALCULATOR_INVALID_EXPRESSION"
  | "CALCULATOR_DIVISION_BY_ZERO"
  | "CALCULATOR_INPUT_TOO_LONG"
  | "CALCULATOR_TOO_DEEP"
  | "CALCULATOR_NOT_FINITE";

export class AgentError extends CodedError<AgentErrorCode> {
  constructor(code: AgentErrorCode, message: string, options?: CodedErrorOptions) {
    super(AGENT_ERROR_FAMILY, code, message, options);
    this.name = "AgentError";
  }
}

export function isAgentError(value: unknown): value is AgentError {
  return isCodedError(value, AGENT_ERROR_FAMILY);
}

/**
 * Typed errors pass through: the agent's own, and other packages' coded errors
 * (an llm-factory LLM_TIMEOUT says more than a generic failure). Everything else
 * becomes AGENT_FAILED with the original kept only as `cause`, since raw
 * provider or driver messages may carry details a client must not see.
 */
export function toAgentError(
  error: unknown,
  callerSignal: AbortSignal | undefined,
  turnSignal?: AbortSignal,
  turnTimeoutMs?: number,
): Error {
  if (callerSignal?.aborted) {
    return new AgentError("AGENT_CANCELLED", "the caller cancelled the request", { cause: error });
  }
  if (turnSignal?.aborted) {
    return new AgentError("AGENT_TIMEOUT", `the turn took longer than ${turnTimeoutMs} ms`, { cause: error });
  }
  if (isAgentError(error)) return error;
  if (error instanceof GraphRecursionError) {
    return new AgentError("AGENT_STEP_LIMIT", "the turn exceeded the graph's step limit", { cause: error });
  }
  if (isCodedError(error)) return error;
  return new AgentError("AGENT_FAILED", "the agent run failed", { cause: error });
}
