import { CodedError, type CodedErrorOptions, isCodedError } from "@mcp-langgraph/core";

export type McpServerErrorCode =
  | "FORBIDDEN"
  | "AUTHZ_UNAVAILABLE"
  | "CONFIG_INVALID"
  /** A per-user limit is spent: `details.limit` names it, `details.retryAfterMs` says when it resets. */
  | "RATE_LIMITED"
  /** The rate-limit store (Redis) cannot answer: calls are refused until it does (fail closed). */
  | "RATE_LIMIT_UNAVAILABLE"
  /** An upstream MCP server is down or failed the call (the model reads it as the tool's error). */
  | "UPSTREAM_UNAVAILABLE"
  /** An upstream MCP server did not answer within MCP_UPSTREAM_TIMEOUT_MS. */
  | "UPSTREAM_TIMEOUT"
  /** The caller holds as many live tasks as allowed (`details.limit`); one must finish or expire first. */
  | "TASK_LIMIT_REACHED"
  /** The task store (Redis) did not answer within its deadline or is down. */
  | "TASK_STORE_UNAVAILABLE"
  /** No task of the caller's has this id (never created, another user's, or expired). */
  | "TASK_NOT_FOUND"
  /** A task request that cannot be served as asked (a foreign cursor, a task already finished). */
  | "TASK_INVALID"
  /** An echoed 2026-07-28 request state that is genuine but not for this call (another conversation or tool). */
  | "REQUEST_STATE_INVALID"
  /** A retried 2026-07-28 call whose input responses do not answer what was asked. */
  | "INPUT_RESPONSE_INVALID"
  /** The Redis conversation change bus did not take a change within its deadline (other instances miss it). */
  | "CHANGE_BUS_UNAVAILABLE";

/**
 * Errors of the MCP composition: tool failures reported to the client as
 * `isError` results with a safe message, and invalid service configuration.
 */
export class McpServerError extends CodedError<McpServerErrorCode> {
  constructor(code: McpServerErrorCode, message: string, options?: CodedErrorOptions) {
    super("mcp", code, message, options);
    this.name = "McpServerError";
  }
}

export const isMcpServerError = (value: unknown): value is McpServerError => isCodedError(value, "mcp");
