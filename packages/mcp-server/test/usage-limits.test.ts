import { OwnRedisServer, rawRedisClient, requireRedisBinaries } from "@mcp-langgraph/testkit/redis";
import { describe, expect, it } from "vitest";
import { createUsageLimits, isMcpServerError, parseRateTiers } from "../src/index.ts";
import { toolError } from "../src/results.ts";
import { principal } from "./helpers/principal.ts";

const signal = () => AbortSignal.timeout(5_000);

async function codeOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return isMcpServerError(error) ? { code: error.code, ...error.details } : error;
}

describe("rate-limit tiers documents", () => {
  it.each([
    ["tiers:\n  admin: { toolCallsPerMinute: 0 }\n", /tiers\.admin\.toolCallsPerMinute/],
    ["tiers:\n  admin: { toolCallsPerMinute: 5, tokens: 3 }\n", /tiers\.admin.*tokens/],
    ["tiers:\n  'bad role!': { toolCallsPerMinute: 5 }\n", /role names/],
    ["admin: { toolCallsPerMinute: 5 }\n", /tiers/],
    ["tiers: [unclosed\n", /not valid YAML/],
  ])("refuses %j with a message naming the problem", (source, message) => {
    expect(() => parseRateTiers(source)).toThrow(message);
  });

  it("reads JSON and YAML alike", () => {
    const yaml = parseRateTiers("tiers:\n  admin: { toolCallsPerMinute: 5, modelTokensPerDay: 100 }\n");
    const json = parseRateTiers(
      JSON.stringify({ tiers: { admin: { toolCallsPerMinute: 5, modelTokensPerDay: 100 } } }),
      "json",
    );
    expect(yaml).toEqual(json);
  });
});

describe("usage limits", () => {
  it("gives a user with several tier roles the most generous of each limit (no token limit beats any)", async () => {
    const limits = createUsageLimits({
      store: { backend: "memory" },
      toolCallsPerMinute: 1,
      modelTokensPerDay: 5,
      tiers: {
        user: { toolCallsPerMinute: 2, modelTokensPerDay: 10 },
        ops: { toolCallsPerMinute: 1 },
      },
    });
    const both = principal("both", ["user", "ops"]);
    for (let i = 0; i < 2; i++) await limits.admitToolCall(both, signal());
    expect(await codeOf(limits.admitToolCall(both, signal()))).toMatchObject({
      code: "RATE_LIMITED",
      limit: "tool_calls_per_minute",
    });
    await limits.recordModelTokens(both, 1_000, signal());
    await expect(limits.admitModelTurn(both, signal())).resolves.toBeUndefined();

    const user = principal("user", ["user"]);
    await limits.recordModelTokens(user, 10, signal());
    expect(await codeOf(limits.admitModelTurn(user, signal()))).toMatchObject({
      code: "RATE_LIMITED",
      limit: "model_tokens_per_day",
    });
    // No tier role: the defaults.
    const guest = principal("guest", ["guest"]);
    await limits.recordModelTokens(guest, 4, signal());
    await expect(limits.admitModelTurn(guest, signal())).resolves.toBeUndefined();
    await limits.recordModelTokens(guest, 1, signal());
    expect(await codeOf(limits.admitModelTurn(guest, signal()))).toMatchObject({ code: "RATE_LIMITED" });
  });
});

describe.skipIf(!requireRedisBinaries())("usage limits over a Redis that goes down", () => {
  it("refuses (fail closed) with a retryable RATE_LIMIT_UNAVAILABLE tool error, never a free pass", async () => {
    const redis = await OwnRedisServer.start();
    const client = await rawRedisClient(redis.url);
    try {
      const limits = createUsageLimits({
        store: { backend: "redis", client, keyPrefix: "test:usage:" },
        toolCallsPerMinute: 100,
      });
      const alice = principal("alice", ["user"]);
      await limits.admitToolCall(alice, signal());
      await redis.stop();
      while (client.isReady) await new Promise((resolve) => setTimeout(resolve, 10));
      const error = await limits.admitToolCall(alice, signal()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isMcpServerError(error) && error.code).toBe("RATE_LIMIT_UNAVAILABLE");
      const result = toolError(error, "agent_chat", () => {});
      expect(result).toMatchObject({
        isError: true,
        structuredContent: { error: { code: "RATE_LIMIT_UNAVAILABLE", retryable: true } },
      });
    } finally {
      client.destroy();
      await redis.dispose();
    }
  });
});
