import type { Principal } from "@mcp-langgraph/auth-provider";
import { noopLogger } from "@mcp-langgraph/core";
import { McpServer } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { httpFailureOf } from "../src/http-errors.ts";
import { McpSessionBus } from "../src/mcp-session-bus.ts";
import { McpSessionDirectory } from "../src/mcp-session-directory.ts";
import { McpSessionRegistry } from "../src/mcp-sessions.ts";

const alice = { userId: "alice" } as Principal;
const down = { sendCommand: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379")) };
const INITIALIZE = {
  protocolVersion: "2025-11-25",
  capabilities: {},
  clientInfo: { name: "test", version: "1" },
};

function registry() {
  const options = { keyPrefix: "t:", idleMs: 60_000, timeoutMs: 200 };
  return new McpSessionRegistry({
    createServer: () => new McpServer({ name: "t", version: "1" }),
    idleMs: 60_000,
    maxSessionsPerUser: 3,
    logger: noopLogger,
    directory: new McpSessionDirectory({ ...options, client: down, maxSessionsPerUser: 3 }),
    bus: new McpSessionBus({
      ...options,
      ttlMs: 60_000,
      client: down,
      subscriber: {
        subscribe: () => Promise.reject(new Error("connect ECONNREFUSED")),
        unsubscribe: async () => {},
      },
      maxEvents: 10,
      maxBytes: 1_000,
    }),
  });
}

describe("MCP sessions while their Redis is down (SESSION_BACKEND=redis)", () => {
  it("refuses lookups, opens and ends with SESSION_UNAVAILABLE (503 with Retry-After) and holds nothing", async () => {
    const sessions = registry();
    const signal = AbortSignal.timeout(1_000);
    const attempts = [
      Promise.resolve(sessions.lookup("a".repeat(43), alice)),
      sessions.open(alice, INITIALIZE, signal),
      sessions.ended("a".repeat(43), alice, signal),
    ];
    for (const attempt of attempts) {
      const error = await attempt.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ code: "SESSION_UNAVAILABLE" });
      expect(httpFailureOf(error)).toMatchObject({ status: 503, retryAfterSeconds: 5 });
    }
    expect(sessions.size).toBe(0);
    await sessions.closeAll();
  });
});
