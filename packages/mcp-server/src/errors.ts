import { CodedError, type CodedErrorOptions, isCodedError } from "@mcp-langgraph/core";

export type McpServerErrorCode = "FORBIDDEN" | "AUTHZ_UNAVAILABLE" | "CONFIG_INVALID";

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
