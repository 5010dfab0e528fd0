import { randomUUID } from "node:crypto";
import { startFgaDevServer } from "@mcp-langgraph/authz/dev-server";
import { openAIWire, scripted, startLoopbackServer } from "@mcp-langgraph/testkit/llm-loopback";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";
import { isLoopbackAddress, metricsAccess } from "../src/metrics-access.ts";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, login, startTestServer } from "./helpers.ts";

const TOKEN = "metrics-token-0123456789abcdef";

const scrape = async (url: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${url}/metrics`, { headers });
  return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
};

describe("/metrics", () => {
  const servers: RunningHttpServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it("shows the authorizer's circuit: 0 while OpenFGA answers, 2 once repeated failures opened it", async () => {
    const fga = await startFgaDevServer({ port: 0 });
    try {
      const server = await startTestServer({ AUTHZ_BACKEND: "openfga", OPENFGA_API_URL: fga.url });
      servers.push(server);
      const { client } = await connect(server.url, await login(server.url, "alice", "alice-pw"));
      try {
        expect((await scrape(server.url)).text).toContain("mcp_authz_circuit_state 0\n");
        await fga.close();
        // Each call asks about a conversation never asked about before: no cached decision can answer it.
        for (let i = 0; i < 6; i++) {
          const failed = await client.callTool({
            name: "conversation_get",
            arguments: { thread_id: randomUUID() },
          });
          expect(failed.isError).toBe(true);
          expect((failed.structuredContent as { error: { code: string } }).error.code).toBe(
            "AUTHZ_UNAVAILABLE",
          );
        }
        expect((await scrape(server.url)).text).toContain("mcp_authz_circuit_state 2\n");
      } finally {
        await client.close();
      }
    } finally {
      await fga.close().catch(() => {});
    }
  });

  it("counts tool calls, turns, HTTP requests by route, and has process metrics (loopback, no token)", async () => {
    const server = await startTestServer();
    servers.push(server);
    const { client } = await connect(server.url, await login(server.url, "alice", "alice-pw"));
    try {
      const ok = await client.callTool({ name: "agent_chat", arguments: { message: "what is 6 * 7?" } });
      expect(ok.isError).toBeFalsy();
      // carol is a guest: no tool grant, so her call ends with the error code the client sees.
      const { client: guest } = await connect(server.url, await login(server.url, "carol", "carol-pw"));
      const refused = await guest.callTool({ name: "agent_chat", arguments: { message: "hi" } });
      await guest.close();
      expect(refused.isError).toBe(true);
      const code = (refused.structuredContent as { error: { code: string } }).error.code;

      const { status, type, text } = await scrape(server.url);
      expect(status).toBe(200);
      expect(type).toContain("text/plain");
      expect(text).toContain('mcp_tool_calls_total{tool="agent_chat",outcome="ok"} 1\n');
      expect(text).toContain(`mcp_tool_calls_total{tool="agent_chat",outcome="${code}"} 1\n`);
      expect(text).toContain('mcp_agent_turn_duration_seconds_count{outcome="ok"} 1\n');
      expect(text).toContain("mcp_agent_turns_in_flight 0\n");
      expect(text).toContain('mcp_http_requests_total{method="POST",route="/auth/login",status="200"} 2\n');
      expect(text).toMatch(/mcp_http_request_duration_seconds_count\{method="POST",route="\/mcp"\} \d+/);
      expect(text).toContain("mcp_sessions_open 2\n");
      // alice's grant check allowed, carol's denied; the session store timed by method.
      expect(text).toMatch(/mcp_authz_call_duration_seconds_count\{method="check",result="allowed"\} [1-9]/);
      expect(text).toMatch(/mcp_authz_call_duration_seconds_count\{method="check",result="denied"\} [1-9]/);
      expect(text).toMatch(/mcp_session_store_duration_seconds_count\{method="create",result="ok"\} 2\n/);
      expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
      expect(text).toMatch(/^process_resident_memory_bytes \d/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
      // Labels are patterns and codes: no user names, tokens or thread ids.
      expect(text).not.toMatch(/alice|carol|Bearer/);
    } finally {
      await client.close();
    }
  });

  it("counts model calls, their duration and tokens by provider and model, and exports the circuit state", async () => {
    const openai = await startLoopbackServer(scripted(openAIWire, ["tool", "ok"]));
    try {
      const server = await startTestServer({
        LLM_PROVIDER: "openai",
        MODEL_NAME: "gpt-4o-mini",
        OPENAI_API_KEY: "sk-metrics-test",
        OPENAI_BASE_URL: `${openai.url}/v1`,
      });
      servers.push(server);
      const { client } = await connect(server.url, await login(server.url, "alice", "alice-pw"));
      const result = await client.callTool({ name: "agent_chat", arguments: { message: "add two and two" } });
      await client.close();
      expect(result.isError).toBeFalsy();
      const { text } = await scrape(server.url);
      expect(text).toContain('mcp_llm_calls_total{provider="openai",model="gpt-4o-mini"} 2\n');
      expect(text).toContain(
        'mcp_llm_call_duration_seconds_count{provider="openai",model="gpt-4o-mini"} 2\n',
      );
      expect(text).toMatch(
        /mcp_llm_tokens_total\{provider="openai",model="gpt-4o-mini",direction="input"\} [1-9]/,
      );
      expect(text).toMatch(
        /mcp_llm_tokens_total\{provider="openai",model="gpt-4o-mini",direction="output"\} [1-9]/,
      );
      const host = new URL(openai.url).host;
      expect(text).toContain(`mcp_llm_circuit_state{provider="openai",endpoint="${host}"} 0\n`);
      expect(text).not.toContain("sk-metrics-test");
    } finally {
      await openai.close();
    }
  });

  it("counts model retries and fallbacks by the provider, model and error code that failed", async () => {
    // Primary: two 500s (first attempt and its one retry); the fallback model answers.
    const openai = await startLoopbackServer(scripted(openAIWire, [{ status: 500 }, { status: 500 }, "ok"]));
    try {
      const server = await startTestServer({
        LLM_PROVIDER: "openai",
        MODEL_NAME: "gpt-4o-mini",
        FALLBACK_MODELS: "gpt-4o",
        LLM_MAX_RETRIES: "1",
        OPENAI_API_KEY: "sk-metrics-test",
        OPENAI_BASE_URL: `${openai.url}/v1`,
      });
      servers.push(server);
      const { client } = await connect(server.url, await login(server.url, "alice", "alice-pw"));
      const result = await client.callTool({ name: "agent_chat", arguments: { message: "hello" } });
      await client.close();
      expect(result.isError).toBeFalsy();
      const { text } = await scrape(server.url);
      expect(text).toContain(
        'mcp_llm_retries_total{provider="openai",model="gpt-4o-mini",code="LLM_UNAVAILABLE"} 1\n',
      );
      expect(text).toContain(
        'mcp_llm_fallbacks_total{provider="openai",model="gpt-4o-mini",code="LLM_UNAVAILABLE"} 1\n',
      );
      expect(text).not.toMatch(/mcp_llm_(retries|fallbacks)_total\{[^}]*model="gpt-4o"[,}]/);
      expect(text).toContain('mcp_llm_calls_total{provider="openai",model="gpt-4o"} 1\n');
    } finally {
      await openai.close();
    }
  });

  it("counts authorization decisions by result and decision-cache hits", async () => {
    const server = await startTestServer();
    servers.push(server);
    const { client } = await connect(server.url, await login(server.url, "alice", "alice-pw"));
    const { client: guest } = await connect(server.url, await login(server.url, "carol", "carol-pw"));
    try {
      const count = (text: string, result: string, cache: string) =>
        Number(
          new RegExp(`mcp_authz_decisions_total\\{result="${result}",cache="${cache}"\\} (\\d+)`).exec(
            text,
          )?.[1] ?? 0,
        );
      await client.callTool({ name: "conversation_search", arguments: { query: "x" } });
      const first = (await scrape(server.url)).text;
      expect(count(first, "allowed", "miss")).toBeGreaterThanOrEqual(1);
      // The same grant again within the cache's TTL: answered by the decision cache.
      await client.callTool({ name: "conversation_search", arguments: { query: "y" } });
      const second = (await scrape(server.url)).text;
      expect(count(second, "allowed", "hit")).toBe(count(first, "allowed", "hit") + 1);
      expect(count(second, "allowed", "miss")).toBe(count(first, "allowed", "miss"));
      // carol holds no grant: a denial, counted as such.
      const refused = await guest.callTool({ name: "conversation_search", arguments: { query: "x" } });
      expect(refused.isError).toBe(true);
      const third = (await scrape(server.url)).text;
      expect(count(third, "denied", "miss")).toBe(count(second, "denied", "miss") + 1);
    } finally {
      await Promise.all([client.close(), guest.close()]);
    }
  });

  it("keeps one registry per app: two apps in one process count apart", async () => {
    const [a, b] = await Promise.all([startTestServer(), startTestServer()]);
    servers.push(a, b);
    await fetch(`${a.url}/health/live`);
    await fetch(`${a.url}/health/live`);
    const line = (text: string) =>
      /mcp_http_requests_total\{method="GET",route="\/health\/live",status="200"\} (\d+)/.exec(text)?.[1];
    expect(line((await scrape(a.url)).text)).toBe("2");
    expect(line((await scrape(b.url)).text)).toBeUndefined();
  });

  it("requires the bearer token when METRICS_TOKEN is set: 401 without it or with a wrong one", async () => {
    const server = await startTestServer({ METRICS_TOKEN: TOKEN });
    servers.push(server);
    const missing = await scrape(server.url);
    expect(missing.status).toBe(401);
    expect(missing.text).not.toContain("mcp_http_requests_total");
    const wrong = await scrape(server.url, { authorization: `Bearer ${TOKEN}x` });
    expect(wrong.status).toBe(401);
    const basic = await scrape(server.url, { authorization: `Basic ${TOKEN}` });
    expect(basic.status).toBe(401);
    const right = await scrape(server.url, { authorization: `Bearer ${TOKEN}` });
    expect(right.status).toBe(200);
    expect(right.text).toContain('mcp_http_requests_total{method="GET",route="/metrics",status="401"} 3\n');
  });

  it("refuses a METRICS_TOKEN shorter than 16 characters at start-up", () => {
    expect(() => loadConfig({ METRICS_TOKEN: "short" })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_TOKEN: "short" })).toThrow(/METRICS_TOKEN: must be at least 16/);
  });
});

describe("metrics access guard", () => {
  it("without a token serves loopback peers only", () => {
    for (const address of ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"]) {
      expect(metricsAccess(undefined, undefined, address), address).toBe("allowed");
    }
    for (const address of [
      "10.0.0.5",
      "192.168.1.20",
      "::ffff:10.0.0.1",
      "2001:db8::1",
      "localhost",
      "",
      undefined,
    ]) {
      expect(metricsAccess(undefined, undefined, address), String(address)).toBe("forbidden");
    }
    // A token in the request does not open the loopback-only mode to others.
    expect(metricsAccess(undefined, `Bearer ${TOKEN}`, "10.0.0.5")).toBe("forbidden");
  });

  it("with a token requires exactly that bearer token, from any address", () => {
    expect(metricsAccess(TOKEN, `Bearer ${TOKEN}`, "10.0.0.5")).toBe("allowed");
    expect(metricsAccess(TOKEN, undefined, "127.0.0.1")).toBe("unauthorized");
    expect(metricsAccess(TOKEN, `Bearer ${TOKEN.slice(1)}`, "127.0.0.1")).toBe("unauthorized");
    expect(metricsAccess(TOKEN, `bearer${TOKEN}`, "127.0.0.1")).toBe("unauthorized");
  });

  it("knows loopback addresses", () => {
    expect(isLoopbackAddress("127.1.2.3")).toBe(true);
    expect(isLoopbackAddress("128.0.0.1")).toBe(false);
  });
});
