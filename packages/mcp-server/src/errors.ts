import { CodedError, type CodedErrorOptions, isCodedError } from "@mcp-langgraph/core";

export type McpToolErrorCode =
  | "FORBIDDEN"
  | "AUTHZ_UNAVAILABLE"
  | "INVALID_INPUT"
  | "UNAVAILABLE"
  | "CANCELLED";

/** A failure a tool reports to the MCP client as an `isError` result with a safe message. */
export class McpToolError extends CodedError<McpToolErrorCode> {
  constructor(code: McpToolErrorCode, message: string, options?: CodedErrorOptions) {
    super("mcp", code, message, options);
    this.name = "McpToolError";
  }
}

export const isMcpToolError = (value: unknown): value is McpToolError => isCodedError(value, "mcp");
