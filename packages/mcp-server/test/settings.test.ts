import { describe, expect, it } from "vitest";
import { isMcpServerError, serviceSettingsFromConfig } from "../src/index.ts";

describe("serviceSettingsFromConfig: concurrency limits", () => {
  it("leaves every limit to the packages' defaults when nothing is set", () => {
    const settings = serviceSettingsFromConfig({});
    expect(settings.agent).toEqual({});
    expect(settings.checkpointer).toEqual({ backend: "memory" });
    expect(settings.langsmithTracing).toBe(false);
    expect(settings.maxSubscriptionsPerSession).toBeUndefined();
    expect(settings.progressIntervalMs).toBeUndefined();
  });

  it("reads the progress interval of agent_chat, 0 included (every streamed piece)", () => {
    expect(serviceSettingsFromConfig({ AGENT_PROGRESS_INTERVAL_MS: "100" }).progressIntervalMs).toBe(100);
    expect(serviceSettingsFromConfig({ AGENT_PROGRESS_INTERVAL_MS: "0" }).progressIntervalMs).toBe(0);
  });

  it("reads the per-session resource subscription bound", () => {
    expect(
      serviceSettingsFromConfig({ MAX_SUBSCRIPTIONS_PER_SESSION: "25" }).maxSubscriptionsPerSession,
    ).toBe(25);
  });

  it("reads the agent's admission limits, turn deadline and the Postgres pool size", () => {
    const settings = serviceSettingsFromConfig({
      AGENT_MAX_CONCURRENT_TURNS: "3000",
      AGENT_MAX_QUEUED_TURNS: "0",
      AGENT_MAX_TURNS_PER_USER: "50",
      AGENT_TURN_TIMEOUT_MS: "30000",
      CHECKPOINTER_BACKEND: "postgres",
      DATABASE_URL: "postgres://db.example/agent",
      DATABASE_POOL_SIZE: "64",
      LANGSMITH_TRACING: "true",
    });
    expect(settings.agent).toEqual({
      maxConcurrentTurns: 3000,
      maxQueuedTurns: 0,
      maxTurnsPerUser: 50,
      turnTimeoutMs: 30_000,
    });
    expect(settings.checkpointer).toEqual({
      backend: "postgres",
      connectionString: "postgres://db.example/agent",
      poolSize: 64,
    });
    expect(settings.langsmithTracing).toBe(true);
  });

  it("reads the context budget and verification settings; verification is off unless AGENT_VERIFY=on", () => {
    expect(
      serviceSettingsFromConfig({
        AGENT_CONTEXT_TOKENS: "8000",
        AGENT_VERIFY: "on",
        AGENT_VERIFY_THRESHOLD: "0.85",
        AGENT_MAX_REFINEMENTS: "0",
      }).agent,
    ).toEqual({ contextTokens: 8_000, verification: { threshold: 0.85, maxRefinements: 0 } });
    expect(serviceSettingsFromConfig({ AGENT_VERIFY: "on" }).agent).toEqual({ verification: {} });
    expect(serviceSettingsFromConfig({ AGENT_VERIFY: "off", AGENT_VERIFY_THRESHOLD: "0.9" }).agent).toEqual(
      {},
    );
  });

  it.each([
    ["AGENT_CONTEXT_TOKENS", "999"],
    ["AGENT_CONTEXT_TOKENS", "lots"],
    ["AGENT_VERIFY", "yes"],
    ["AGENT_VERIFY_THRESHOLD", "1.5"],
    ["AGENT_VERIFY_THRESHOLD", "high"],
    ["AGENT_MAX_REFINEMENTS", "11"],
    ["AGENT_MAX_REFINEMENTS", "1.5"],
    ["AGENT_MAX_CONCURRENT_TURNS", "0"],
    ["AGENT_MAX_QUEUED_TURNS", "-1"],
    ["AGENT_MAX_TURNS_PER_USER", "1.5"],
    ["AGENT_TURN_TIMEOUT_MS", "soon"],
    ["DATABASE_POOL_SIZE", "0"],
    ["MAX_SUBSCRIPTIONS_PER_SESSION", "-1"],
    ["MAX_SUBSCRIPTIONS_PER_SESSION", "many"],
    ["AGENT_PROGRESS_INTERVAL_MS", "-1"],
    ["AGENT_PROGRESS_INTERVAL_MS", "60001"],
    ["AUTHZ_DATABASE_POOL_SIZE", "0"],
    ["AUTHZ_TUPLE_TABLE", 'tuples"; DROP TABLE x'],
    ["CHECKPOINTER_BACKEND", "redis"],
    ["SQLITE_PATH", ""],
    ["SQLITE_BUSY_TIMEOUT_MS", "0"],
    ["AGENT_MAX_STEPS", "0"],
    ["AGENT_MAX_STEPS", "101"],
    ["SYSTEM_PROMPT", "   "],
    ["SYSTEM_PROMPT_FILE", ""],
  ])("refuses %s=%j with CONFIG_INVALID naming the variable", (name, value) => {
    let error: unknown;
    try {
      serviceSettingsFromConfig({ [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(isMcpServerError(error) && error.code).toBe("CONFIG_INVALID");
    expect((error as Error).message).toContain(name);
  });
});

describe("serviceSettingsFromConfig: agent settings", () => {
  it("reads the step limit and an inline system prompt", () => {
    const settings = serviceSettingsFromConfig({
      AGENT_MAX_STEPS: "3",
      SYSTEM_PROMPT: " Answer in French. ",
    });
    expect(settings.agent).toEqual({ maxSteps: 3, systemPrompt: "Answer in French." });
    expect(settings.systemPromptFile).toBeUndefined();
  });

  it("passes a system prompt file on, to be read at start-up", () => {
    const settings = serviceSettingsFromConfig({ SYSTEM_PROMPT_FILE: "/etc/agent/prompt.md" });
    expect(settings.systemPromptFile).toBe("/etc/agent/prompt.md");
    expect(settings.agent).toEqual({});
  });

  it("refuses SYSTEM_PROMPT and SYSTEM_PROMPT_FILE together", () => {
    let error: unknown;
    try {
      serviceSettingsFromConfig({ SYSTEM_PROMPT: "be brief", SYSTEM_PROMPT_FILE: "/etc/agent/prompt.md" });
    } catch (caught) {
      error = caught;
    }
    expect(isMcpServerError(error) && error.code).toBe("CONFIG_INVALID");
    expect((error as Error).message).toContain("SYSTEM_PROMPT_FILE");
  });
});

describe("serviceSettingsFromConfig: where ownership tuples live", () => {
  it("keeps conversations and their ownership in one SQLite file, by default under ./data/", () => {
    const settings = serviceSettingsFromConfig({ CHECKPOINTER_BACKEND: "sqlite" });
    expect(settings.checkpointer).toEqual({ backend: "sqlite", path: "./data/mcp-langgraph.sqlite" });
    expect(settings.authorizer).toEqual({
      backend: "embedded",
      storage: { backend: "sqlite", path: "./data/mcp-langgraph.sqlite" },
    });
  });

  it("puts both in SQLITE_PATH with its busy timeout and the tuple table asked for", () => {
    const settings = serviceSettingsFromConfig({
      CHECKPOINTER_BACKEND: "sqlite",
      SQLITE_PATH: "/var/lib/agent/state.sqlite",
      SQLITE_BUSY_TIMEOUT_MS: "250",
      AUTHZ_TUPLE_TABLE: "tenant_tuples",
    });
    expect(settings.checkpointer).toEqual({
      backend: "sqlite",
      path: "/var/lib/agent/state.sqlite",
      busyTimeoutMs: 250,
    });
    expect(settings.authorizer).toEqual({
      backend: "embedded",
      storage: {
        backend: "sqlite",
        path: "/var/lib/agent/state.sqlite",
        table: "tenant_tuples",
        busyTimeoutMs: 250,
      },
    });
  });

  it("keeps the embedded authorizer's tuples in memory next to in-memory conversations", () => {
    expect(serviceSettingsFromConfig({}).authorizer).toEqual({ backend: "embedded" });
  });

  it("keeps them in Postgres on DATABASE_URL when the conversations are there", () => {
    const settings = serviceSettingsFromConfig({
      CHECKPOINTER_BACKEND: "postgres",
      DATABASE_URL: "postgres://db.example/agent",
      AUTHZ_TUPLE_TABLE: "tenant_tuples",
      AUTHZ_DATABASE_POOL_SIZE: "8",
    });
    expect(settings.authorizer).toEqual({
      backend: "embedded",
      storage: {
        backend: "postgres",
        connectionString: "postgres://db.example/agent",
        table: "tenant_tuples",
        poolSize: 8,
      },
    });
  });

  it("leaves them to the OpenFGA server when that is the backend", () => {
    const settings = serviceSettingsFromConfig({
      AUTHZ_BACKEND: "openfga",
      OPENFGA_API_URL: "http://fga.example",
      CHECKPOINTER_BACKEND: "postgres",
      DATABASE_URL: "postgres://db.example/agent",
    });
    expect(settings.authorizer).toEqual({ backend: "openfga", apiUrl: "http://fga.example" });
  });
});
