import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";

describe("loadConfig: connection and event-loop limits", () => {
  it("defaults the accept backlog, keep-alive and loop slice for bursts of thousands of clients", () => {
    const config = loadConfig({});
    expect(config.listenBacklog).toBe(4096);
    expect(config.keepAliveTimeoutMs).toBe(65_000);
    expect(config.loopSliceMs).toBe(10);
  });

  it("takes each from the environment, and LOOP_SLICE_MS=0 turns slicing off", () => {
    const config = loadConfig({
      LISTEN_BACKLOG: "128",
      HTTP_KEEP_ALIVE_TIMEOUT_MS: "5000",
      LOOP_SLICE_MS: "0",
    });
    expect(config).toMatchObject({ listenBacklog: 128, keepAliveTimeoutMs: 5_000, loopSliceMs: 0 });
  });

  it.each([
    ["LISTEN_BACKLOG", "0"],
    ["HTTP_KEEP_ALIVE_TIMEOUT_MS", "soon"],
    ["LOOP_SLICE_MS", "-1"],
  ])("stops start-up naming %s when it is %j", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
