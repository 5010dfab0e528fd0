import { generateKeyPairSync, randomUUID } from "node:crypto";
import { noopLogger } from "@mcp-langgraph/core";
import { REDIS_URL } from "@mcp-langgraph/testkit/redis";
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

/**
 * Settings for instances that share one Redis (their own key prefix, so runs never collide) and one
 * signing key and issuer, so a token from any of them is honoured by all.
 */
export function sharedRedisEnv(keyPrefix = "mcp-http-test"): Record<string, string> {
  const { privateKey } = generateKeyPairSync("ed25519");
  return {
    SESSION_BACKEND: "redis",
    REDIS_URL,
    SESSION_KEY_PREFIX: `${keyPrefix}:${randomUUID()}:`,
    LOCAL_SIGNING_KEY: JSON.stringify(privateKey.export({ format: "jwk" })),
    TOKEN_ISSUER: "http://mcp.test",
    TOKEN_AUDIENCE: "http://mcp.test/mcp",
  };
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
