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
