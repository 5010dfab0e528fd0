import { CodedError, type CodedErrorOptions, isCodedError } from "@mcp-langgraph/core";

export const AGENT_ERROR_FAMILY = "agent";

export type AgentErrorCode =
  /** Caller input (thread id, message, query, options) is malformed or too large. */
  | "AGENT_INPUT_INVALID"
  /** The thread already holds as many messages as the agent accepts. */
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
