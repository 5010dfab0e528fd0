import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

describe("stdio config: DRAIN_TIMEOUT_MS", () => {
  it("defaults to 10 s and takes a positive whole number of milliseconds", () => {
    expect(loadConfig({}).drainTimeoutMs).toBe(10_000);
    expect(loadConfig({ DRAIN_TIMEOUT_MS: "2500" }).drainTimeoutMs).toBe(2500);
  });

  it("refuses zero, negative or non-numeric values, naming the variable", () => {
    for (const value of ["0", "-1", "1.5", "soon"]) {
      expect(() => loadConfig({ DRAIN_TIMEOUT_MS: value })).toThrow(ConfigError);
      expect(() => loadConfig({ DRAIN_TIMEOUT_MS: value })).toThrow(/DRAIN_TIMEOUT_MS/);
    }
  });
});

describe("stdio config: compaction and verification", () => {
  it("passes AGENT_CONTEXT_TOKENS and AGENT_VERIFY* to the agent, as the HTTP app does", () => {
    const env = { AGENT_CONTEXT_TOKENS: "64000", AGENT_VERIFY: "on", AGENT_MAX_REFINEMENTS: "1" };
    expect(loadConfig(env).services.agent).toEqual({
      contextTokens: 64_000,
      verification: { maxRefinements: 1 },
    });
    expect(loadConfig({}).services.agent).toEqual({});
  });
});

describe("stdio config: the services' variables, read as the HTTP app reads them", () => {
  it("takes the SQLite checkpointer and the agent settings", () => {
    const { services } = loadConfig({
      CHECKPOINTER_BACKEND: "sqlite",
      SQLITE_PATH: "/var/lib/agent/state.sqlite",
      AGENT_MAX_STEPS: "3",
      AGENT_TURN_TIMEOUT_MS: "5000",
      SYSTEM_PROMPT: "Be brief.",
    });
    expect(services.checkpointer).toEqual({ backend: "sqlite", path: "/var/lib/agent/state.sqlite" });
    expect(services.authorizer).toMatchObject({ backend: "embedded", storage: { backend: "sqlite" } });
    expect(services.agent).toEqual({ maxSteps: 3, turnTimeoutMs: 5000, systemPrompt: "Be brief." });
  });

  it("passes SYSTEM_PROMPT_FILE on to be read at start-up", () => {
    expect(loadConfig({ SYSTEM_PROMPT_FILE: "/etc/agent/prompt.md" }).services.systemPromptFile).toBe(
      "/etc/agent/prompt.md",
    );
  });
});
