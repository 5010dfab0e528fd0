import { noopLogger } from "@mcp-langgraph/core";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
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

export async function login(baseUrl: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${baseUrl}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (response.status !== 200) throw new Error(`login ${username} failed: ${response.status}`);
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

export { resultText as textOf } from "@mcp-langgraph/tooling/testing";

export async function connect(
  baseUrl: string,
  token: string,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: "mcp-http-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return { client, transport };
}

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
