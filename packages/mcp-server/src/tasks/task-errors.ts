import { ProtocolError, ProtocolErrorCode } from "@modelcontextprotocol/server";
import { isMcpServerError } from "../errors.js";

/**
 * A failure of a task method (or of creating a task) as the JSON-RPC error the client gets: no
 * task exists for it, so it cannot be a tool result. `data.code` carries the same string codes as
 * tool errors; anything unexpected is a generic internal error (the caller logs the cause).
 */
export function taskProtocolError(error: unknown): ProtocolError {
  if (error instanceof ProtocolError) return error;
  if (isMcpServerError(error)) {
    const data = { code: error.code, ...(error.details ?? {}) };
    switch (error.code) {
      case "TASK_NOT_FOUND":
      case "TASK_INVALID":
        return new ProtocolError(ProtocolErrorCode.InvalidParams, error.message, data);
      case "TASK_LIMIT_REACHED":
        return new ProtocolError(ProtocolErrorCode.InvalidRequest, error.message, {
          ...data,
          retryable: true,
        });
      case "TASK_STORE_UNAVAILABLE":
      case "AUTHZ_UNAVAILABLE":
      case "RATE_LIMIT_UNAVAILABLE":
        return new ProtocolError(ProtocolErrorCode.InternalError, error.message, {
          ...data,
          retryable: true,
        });
      default:
        return new ProtocolError(ProtocolErrorCode.InvalidRequest, error.message, data);
    }
  }
  return new ProtocolError(ProtocolErrorCode.InternalError, "The task request failed unexpectedly.", {
    code: "INTERNAL",
  });
}

export const isUnexpectedTaskError = (error: unknown) =>
  !(error instanceof ProtocolError) && !isMcpServerError(error);
