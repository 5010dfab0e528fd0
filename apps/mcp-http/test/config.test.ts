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

describe("loadConfig: per-session memory bounds", () => {
  it("defaults the event store, error echo and pending-request bounds", () => {
    expect(loadConfig({}).mcp.limits).toEqual({
      eventStoreMaxEvents: 512,
      eventStoreMaxBytes: 4 * 1024 * 1024,
      maxErrorMessageChars: 1024,
      maxPendingServerRequests: 16,
    });
  });

  it("takes each from the environment", () => {
    const config = loadConfig({
      MCP_EVENT_STORE_MAX_EVENTS: "64",
      MCP_EVENT_STORE_MAX_BYTES: "65536",
      MCP_ERROR_MESSAGE_MAX_CHARS: "200",
      MCP_MAX_PENDING_SERVER_REQUESTS: "4",
    });
    expect(config.mcp.limits).toEqual({
      eventStoreMaxEvents: 64,
      eventStoreMaxBytes: 65_536,
      maxErrorMessageChars: 200,
      maxPendingServerRequests: 4,
    });
  });

  it.each([
    ["MCP_EVENT_STORE_MAX_EVENTS", "0"],
    ["MCP_EVENT_STORE_MAX_BYTES", "4MB"],
    ["MCP_ERROR_MESSAGE_MAX_CHARS", "-1"],
    ["MCP_MAX_PENDING_SERVER_REQUESTS", "1.5"],
  ])("stops start-up naming %s when it is %j", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
