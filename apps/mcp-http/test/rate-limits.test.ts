// Issue 12, item 1: before this, 12 wrong passwords in a row all got 401 (unbounded guessing) and a
// user could make any number of tool calls (no cap on model spend).
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type LoopbackServer,
  openAIWire,
  scripted,
  startLoopbackServer,
} from "@mcp-langgraph/testkit/llm-loopback";
import { OwnRedisServer, REDIS_URL, requireRedisBinaries } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, login, startTestServer } from "./helpers.ts";
import { spawnApp } from "./spawn.ts";

const redisUp = await requireService({ name: "Redis", url: REDIS_URL });
const ownRedis = requireRedisBinaries();

function attempt(url: string, username: string, password: string): Promise<Response> {
  return fetch(`${url}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
}

/** The structured error of a refused tool call (undefined when it succeeded). */
type ToolFailure = { code: string; limit?: string; retryable?: boolean; retryAfterMs?: number };
async function call(client: Client, name: string, args: Record<string, unknown>) {
  const result = await client.callTool({ name, arguments: args });
  return result.isError
    ? ((result.structuredContent as { error: ToolFailure }).error ?? { code: "?" })
    : undefined;
}
const search = (client: Client) => call(client, "conversation_search", { query: "anything" });

async function withServer(env: Record<string, string>, run: (app: RunningHttpServer) => Promise<void>) {
  const app = await startTestServer(env);
  try {
    await run(app);
  } finally {
    await app.close();
  }
}

describe("login throttling", () => {
  it("answers 429 with Retry-After from the 6th wrong password, to the right one too, and leaves another user alone", async () => {
    await withServer({}, async (app) => {
      for (let i = 0; i < 5; i++) expect((await attempt(app.url, "alice", "wrong")).status).toBe(401);
      const throttled = await attempt(app.url, "alice", "wrong");
      expect(throttled.status).toBe(429);
      const retryAfter = Number(throttled.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(900);
      expect(await throttled.json()).toMatchObject({ error: "too_many_requests" });
      const right = await attempt(app.url, "alice", "alice-pw");
      expect(right.status).toBe(429);
      expect(right.headers.get("retry-after")).not.toBeNull();
      expect((await attempt(app.url, "bob", "bob-pw")).status).toBe(200);
    });
  });

  it("counts failures per address whatever the username (LOGIN_MAX_FAILURES_PER_ADDRESS)", async () => {
    await withServer({ LOGIN_MAX_FAILURES_PER_ADDRESS: "3" }, async (app) => {
      for (const user of ["alice", "bob", "carol"])
        expect((await attempt(app.url, user, "wrong")).status).toBe(401);
      const next = await attempt(app.url, "bob", "bob-pw");
      expect(next.status).toBe(429);
      expect(Number(next.headers.get("retry-after"))).toBeGreaterThan(0);
    });
  });

  it("starts a user's count again after a successful login", async () => {
    await withServer({ LOGIN_MAX_FAILURES: "2" }, async (app) => {
      expect((await attempt(app.url, "alice", "wrong")).status).toBe(401);
      expect((await attempt(app.url, "alice", "alice-pw")).status).toBe(200);
      expect((await attempt(app.url, "alice", "wrong")).status).toBe(401);
      expect((await attempt(app.url, "alice", "wrong")).status).toBe(401);
      expect((await attempt(app.url, "alice", "wrong")).status).toBe(429);
    });
  });

  it("refuses bad limit settings at start-up, naming the variable", async () => {
    await expect(startTestServer({ LOGIN_MAX_FAILURES: "0" })).rejects.toThrow(/LOGIN_MAX_FAILURES/);
    await expect(startTestServer({ RATE_LIMIT_TOOL_CALLS_PER_MINUTE: "many" })).rejects.toThrow(
      /RATE_LIMIT_TOOL_CALLS_PER_MINUTE/,
    );
  });
});

describe("tool calls per user", () => {
  it("refuses the call past RATE_LIMIT_TOOL_CALLS_PER_MINUTE across the user's sessions, with the limit and when to retry; others are unaffected", async () => {
    await withServer({ RATE_LIMIT_TOOL_CALLS_PER_MINUTE: "2" }, async (app) => {
      const token = await login(app.url, "alice", "alice-pw");
      const first = await connect(app.url, token);
      const second = await connect(app.url, token);
      const bob = await connect(app.url, await login(app.url, "bob", "bob-pw"));
      try {
        expect(await search(first.client)).toBeUndefined();
        expect(await search(second.client)).toBeUndefined();
        const refused = await call(second.client, "agent_chat", { message: "hello" });
        expect(refused).toMatchObject({
          code: "RATE_LIMITED",
          limit: "tool_calls_per_minute",
          retryable: true,
        });
        expect(refused?.retryAfterMs).toBeGreaterThan(0);
        expect(refused?.retryAfterMs).toBeLessThanOrEqual(60_000);
        expect(await search(first.client)).toMatchObject({ code: "RATE_LIMITED" });
        expect(await search(bob.client)).toBeUndefined();
      } finally {
        await Promise.all([first.client.close(), second.client.close(), bob.client.close()]);
      }
    });
  });

  it("gives each role its tier from RATE_LIMIT_TIERS_FILE, the most generous one to a user with several", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rate-tiers-"));
    const file = join(dir, "tiers.yaml");
    writeFileSync(file, "tiers:\n  user: { toolCallsPerMinute: 1 }\n  admin: { toolCallsPerMinute: 3 }\n");
    const env = {
      RATE_LIMIT_TIERS_FILE: file,
      LOCAL_USERS: "alice:alice-pw:user,root:root-pw:user|admin,carol:carol-pw:guest",
      TOOL_ROLES: "user,admin,guest",
      RATE_LIMIT_TOOL_CALLS_PER_MINUTE: "2",
    };
    await withServer(env, async (app) => {
      const alice = await connect(app.url, await login(app.url, "alice", "alice-pw"));
      const root = await connect(app.url, await login(app.url, "root", "root-pw"));
      const carol = await connect(app.url, await login(app.url, "carol", "carol-pw"));
      try {
        expect(await search(alice.client)).toBeUndefined();
        expect(await search(alice.client)).toMatchObject({ code: "RATE_LIMITED" });
        for (let i = 0; i < 3; i++) expect(await search(root.client)).toBeUndefined();
        expect(await search(root.client)).toMatchObject({ code: "RATE_LIMITED" });
        // No tier role: the default limit.
        for (let i = 0; i < 2; i++) expect(await search(carol.client)).toBeUndefined();
        expect(await search(carol.client)).toMatchObject({ code: "RATE_LIMITED" });
      } finally {
        await Promise.all([alice.client.close(), root.client.close(), carol.client.close()]);
      }
    });
  });

  it("refuses to start on an invalid tiers file, naming the file and the problem", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rate-tiers-"));
    const file = join(dir, "tiers.json");
    writeFileSync(file, JSON.stringify({ tiers: { admin: { toolCallsPerMinute: -1 } } }));
    await expect(startTestServer({ RATE_LIMIT_TIERS_FILE: file })).rejects.toThrow(
      new RegExp(`${file}.*tiers\\.admin\\.toolCallsPerMinute`),
    );
    await expect(startTestServer({ RATE_LIMIT_TIERS_FILE: join(dir, "missing.yaml") })).rejects.toThrow(
      /missing\.yaml cannot be read/,
    );
  });

  it("stops the built app's start-up on an invalid tiers file, naming the problem", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rate-tiers-"));
    const file = join(dir, "tiers.yaml");
    writeFileSync(file, "tiers:\n  user: { toolCallsPerMinute: 10, tokensPerDay: 5 }\n");
    await expect(
      spawnApp({ LOCAL_USERS: "alice:alice-pw:user", RATE_LIMIT_TIERS_FILE: file }),
    ).rejects.toThrow(
      /failed to start: rate-limit tiers file .*tiers\.yaml: tiers\.user: Unrecognized key: "tokensPerDay"/,
    );
  });
});

describe("model tokens per day", () => {
  let openai: LoopbackServer;
  beforeAll(async () => {
    // Every reply reports 7 input + 3 output tokens, as OpenAI's usage block does.
    openai = await startLoopbackServer(scripted(openAIWire, ["ok"]));
  });
  afterAll(async () => {
    await openai?.close();
  });

  it("refuses agent_chat once the day's tokens (from the model's usage reports) are spent, without running the agent", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rate-tiers-"));
    const file = join(dir, "tiers.yaml");
    writeFileSync(file, "tiers:\n  admin: { toolCallsPerMinute: 100, modelTokensPerDay: 30 }\n");
    const env = {
      LLM_PROVIDER: "openai",
      MODEL_NAME: "gpt-4o-mini",
      OPENAI_API_KEY: "sk-app-test",
      OPENAI_BASE_URL: `${openai.url}/v1`,
      RATE_LIMIT_MODEL_TOKENS_PER_DAY: "10",
      RATE_LIMIT_TIERS_FILE: file,
      LOCAL_USERS: "alice:alice-pw:user,bob:bob-pw:user,root:root-pw:admin",
    };
    await withServer(env, async (app) => {
      const alice = await connect(app.url, await login(app.url, "alice", "alice-pw"));
      const bob = await connect(app.url, await login(app.url, "bob", "bob-pw"));
      const root = await connect(app.url, await login(app.url, "root", "root-pw"));
      try {
        expect(await call(alice.client, "agent_chat", { message: "hello" })).toBeUndefined();
        const before = openai.requests.length;
        const refused = await call(alice.client, "agent_chat", { message: "hello again" });
        expect(refused).toMatchObject({
          code: "RATE_LIMITED",
          limit: "model_tokens_per_day",
          retryable: true,
        });
        expect(refused?.retryAfterMs).toBeGreaterThan(0);
        expect(refused?.retryAfterMs).toBeLessThanOrEqual(86_400_000);
        expect(openai.requests.length).toBe(before);
        // Reading conversations spends no tokens.
        expect(await search(alice.client)).toBeUndefined();
        expect(await call(bob.client, "agent_chat", { message: "hello" })).toBeUndefined();
        // The admin tier allows 30 a day: three turns of 10.
        for (let i = 0; i < 3; i++)
          expect(await call(root.client, "agent_chat", { message: "hi" })).toBeUndefined();
        expect(await call(root.client, "agent_chat", { message: "hi" })).toMatchObject({
          limit: "model_tokens_per_day",
        });
      } finally {
        await Promise.all([alice.client.close(), bob.client.close(), root.client.close()]);
      }
    });
  });
});

describe.skipIf(!redisUp)("rate limits in Redis (SESSION_BACKEND=redis)", () => {
  it("shares login failures and tool calls between two instances", async () => {
    const env = {
      SESSION_BACKEND: "redis",
      REDIS_URL,
      SESSION_KEY_PREFIX: `mcp-http-test:${randomUUID()}:`,
      LOGIN_MAX_FAILURES: "3",
      RATE_LIMIT_TOOL_CALLS_PER_MINUTE: "3",
    };
    const [first, second] = await Promise.all([startTestServer(env), startTestServer(env)]);
    try {
      expect((await attempt(first.url, "alice", "wrong")).status).toBe(401);
      expect((await attempt(second.url, "alice", "wrong")).status).toBe(401);
      expect((await attempt(first.url, "alice", "wrong")).status).toBe(401);
      expect((await attempt(second.url, "alice", "alice-pw")).status).toBe(429);

      const one = await connect(first.url, await login(first.url, "bob", "bob-pw"));
      const two = await connect(second.url, await login(second.url, "bob", "bob-pw"));
      try {
        expect(await search(one.client)).toBeUndefined();
        expect(await search(two.client)).toBeUndefined();
        expect(await search(one.client)).toBeUndefined();
        expect(await search(two.client)).toMatchObject({
          code: "RATE_LIMITED",
          limit: "tool_calls_per_minute",
        });
      } finally {
        await Promise.all([one.client.close(), two.client.close()]);
      }
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe.skipIf(!ownRedis)("a limiter store that goes down", () => {
  it("answers login with 503 and Retry-After (fail closed), without checking the password", async () => {
    const redis = await OwnRedisServer.start();
    try {
      await withServer({ SESSION_BACKEND: "redis", REDIS_URL: redis.url }, async (app) => {
        expect((await attempt(app.url, "alice", "wrong")).status).toBe(401);
        await redis.stop();
        // A wrong password would be 401 if it were checked: the throttle refuses first.
        const down = await attempt(app.url, "alice", "wrong");
        expect(down.status).toBe(503);
        expect(Number(down.headers.get("retry-after"))).toBeGreaterThan(0);
      });
    } finally {
      await redis.dispose();
    }
  });
});

describe("the client address of login limits", () => {
  const fromAddress = (url: string, password: string, forwardedFor: string) =>
    fetch(`${url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
      body: JSON.stringify({ username: "alice", password }),
    });

  it("ignores X-Forwarded-For by default: a guesser naming a new address per attempt is still throttled", async () => {
    await withServer({ LOGIN_MAX_FAILURES: "2" }, async (app) => {
      expect((await fromAddress(app.url, "wrong", "198.51.100.1")).status).toBe(401);
      expect((await fromAddress(app.url, "wrong", "198.51.100.2")).status).toBe(401);
      expect((await fromAddress(app.url, "alice-pw", "198.51.100.3")).status).toBe(429);
    });
  });

  it("with TRUST_PROXY_HOPS=1 takes the address the proxy appended (the last entry)", async () => {
    await withServer({ LOGIN_MAX_FAILURES: "2", TRUST_PROXY_HOPS: "1" }, async (app) => {
      // The client wrote the first entry itself; the proxy appended the second.
      for (let i = 0; i < 2; i++)
        expect((await fromAddress(app.url, "wrong", `10.9.9.${i}, 198.51.100.7`)).status).toBe(401);
      expect((await fromAddress(app.url, "alice-pw", "10.9.9.9, 198.51.100.7")).status).toBe(429);
      expect((await fromAddress(app.url, "alice-pw", "198.51.100.8")).status).toBe(200);
    });
  });
});
