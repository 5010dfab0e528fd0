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
