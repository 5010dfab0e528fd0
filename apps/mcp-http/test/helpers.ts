import { noopLogger } from "@mcp-langgraph/core";
import { loadConfig } from "../src/config.ts";
import { type RunningHttpServer, startHttpServer } from "../src/server.ts";

export const USERS = "alice:alice-pw:user,bob:bob-pw:user,carol:carol-pw:guest";

export async function startTestServer(env: Record<string, string> = {}): Promise<RunningHttpServer> {
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    LOCAL_USERS: USERS,
    LOG_LEVEL: "silent",
    ...env,
  });
  return startHttpServer(config, noopLogger);
}

export { connect, login } from "@mcp-langgraph/testkit/http-app";

export { resultText as textOf } from "@mcp-langgraph/tooling/testing";

/** A raw JSON-RPC POST to /mcp with the given headers and body (string bodies are sent verbatim). */
export function postMcp(
  baseUrl: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${baseUrl}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};
