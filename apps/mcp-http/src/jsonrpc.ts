/** JSON-RPC error bodies the HTTP edge sends before a request reaches the MCP transport. */
export const JSONRPC_PARSE_ERROR = -32700;
export const JSONRPC_INVALID_REQUEST = -32600;
export const JSONRPC_SERVER_ERROR = -32000;
/** The SDK's code for an unknown or closed MCP session. */
export const JSONRPC_SESSION_NOT_FOUND = -32001;

export function jsonRpcError(code: number, message: string) {
  return { jsonrpc: "2.0" as const, error: { code, message }, id: null };
}

/** A JSON-RPC error as a plain Response (a string body and plain headers take the HTTP server's cheapest path). */
export function jsonRpcErrorResponse(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(jsonRpcError(code, message)), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
