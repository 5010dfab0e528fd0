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

describe("loadConfig: HTTP timeouts, idle connections, connection cap and login hashing", () => {
  it("defaults to what an operator expects: headers just above keep-alive, bounded requests and connections", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      headersTimeoutMs: 66_000,
      requestTimeoutMs: 120_000,
      idleConnectionTimeoutMs: 10_000,
      maxConnections: 10_000,
    });
    expect(config.auth.loginHashing).toEqual({ concurrency: 2, maxQueue: 64 });
  });

  it("keeps the headers timeout above a configured keep-alive timeout", () => {
    expect(
      loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT_MS: "90000", HTTP_REQUEST_TIMEOUT_MS: "120000" }).headersTimeoutMs,
    ).toBe(91_000);
  });

  it("takes each from the environment", () => {
    const config = loadConfig({
      HTTP_KEEP_ALIVE_TIMEOUT_MS: "1000",
      HTTP_HEADERS_TIMEOUT_MS: "2000",
      HTTP_REQUEST_TIMEOUT_MS: "3000",
      HTTP_IDLE_CONNECTION_TIMEOUT_MS: "500",
      HTTP_MAX_CONNECTIONS: "64",
      LOGIN_HASH_CONCURRENCY: "4",
      LOGIN_HASH_MAX_QUEUE: "0",
    });
    expect(config).toMatchObject({
      headersTimeoutMs: 2_000,
      requestTimeoutMs: 3_000,
      idleConnectionTimeoutMs: 500,
      maxConnections: 64,
    });
    expect(config.auth.loginHashing).toEqual({ concurrency: 4, maxQueue: 0 });
  });

  it.each([
    [{ HTTP_HEADERS_TIMEOUT_MS: "65000" }, "HTTP_HEADERS_TIMEOUT_MS"],
    [{ HTTP_REQUEST_TIMEOUT_MS: "60000" }, "HTTP_REQUEST_TIMEOUT_MS"],
    [{ HTTP_IDLE_CONNECTION_TIMEOUT_MS: "0" }, "HTTP_IDLE_CONNECTION_TIMEOUT_MS"],
    [{ HTTP_MAX_CONNECTIONS: "many" }, "HTTP_MAX_CONNECTIONS"],
    [{ LOGIN_HASH_CONCURRENCY: "0" }, "LOGIN_HASH_CONCURRENCY"],
    [{ LOGIN_HASH_MAX_QUEUE: "-1" }, "LOGIN_HASH_MAX_QUEUE"],
  ])("stops start-up on %j naming %s", (env, name) => {
    expect(() => loadConfig(env)).toThrow(name);
  });
});

describe("loadConfig: per-session memory bounds", () => {
  it("defaults the event store, error echo and pending-request bounds", () => {
    expect(loadConfig({}).mcp.limits).toEqual({
      eventStoreMaxEvents: 512,
      eventStoreMaxBytes: 4 * 1024 * 1024,
      maxErrorMessageChars: 1024,
      maxPendingServerRequests: 16,
      disconnectGraceMs: 10_000,
    });
  });

  it("takes each from the environment", () => {
    const config = loadConfig({
      MCP_EVENT_STORE_MAX_EVENTS: "64",
      MCP_EVENT_STORE_MAX_BYTES: "65536",
      MCP_ERROR_MESSAGE_MAX_CHARS: "200",
      MCP_MAX_PENDING_SERVER_REQUESTS: "4",
      MCP_DISCONNECT_GRACE_MS: "0",
    });
    expect(config.mcp.limits).toEqual({
      eventStoreMaxEvents: 64,
      eventStoreMaxBytes: 65_536,
      maxErrorMessageChars: 200,
      maxPendingServerRequests: 4,
      disconnectGraceMs: 0,
    });
  });

  it.each([
    ["MCP_EVENT_STORE_MAX_EVENTS", "0"],
    ["MCP_EVENT_STORE_MAX_BYTES", "4MB"],
    ["MCP_ERROR_MESSAGE_MAX_CHARS", "-1"],
    ["MCP_MAX_PENDING_SERVER_REQUESTS", "1.5"],
    ["MCP_DISCONNECT_GRACE_MS", "-1"],
  ])("stops start-up naming %s when it is %j", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe("loadConfig: request ids", () => {
  it("keeps callers' ids up to 128 characters by default, and takes REQUEST_ID_MAX_LENGTH", () => {
    expect(loadConfig({}).requestIdMaxLength).toBe(128);
    expect(loadConfig({ REQUEST_ID_MAX_LENGTH: "64" }).requestIdMaxLength).toBe(64);
  });

  it.each([
    ["REQUEST_ID_MAX_LENGTH", "4"],
    ["REQUEST_ID_MAX_LENGTH", "4096"],
    ["REQUEST_ID_MAX_LENGTH", "long"],
  ])("stops start-up naming %s when it is %j", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe("loadConfig: logout denylist", () => {
  it("holds 100000 logged-out tokens in memory by default, and takes LOGOUT_DENYLIST_MAX_ENTRIES", () => {
    expect(loadConfig({}).auth.logoutDenylistMaxEntries).toBe(100_000);
    expect(loadConfig({ LOGOUT_DENYLIST_MAX_ENTRIES: "50" }).auth.logoutDenylistMaxEntries).toBe(50);
  });

  it.each([
    ["LOGOUT_DENYLIST_MAX_ENTRIES", "0"],
    ["LOGOUT_DENYLIST_MAX_ENTRIES", "many"],
  ])("stops start-up naming %s when it is %j", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it("tracing: off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; standard OTEL_* variables read", () => {
    expect(loadConfig({}).tracing).toBeUndefined();
    const tracing = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/",
      OTEL_SERVICE_NAME: "svc",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod,team=a%2Cb",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
    }).tracing;
    expect(tracing).toMatchObject({
      url: "http://collector:4318/v1/traces",
      protocol: "http/protobuf",
      serviceName: "svc",
      resourceAttributes: { "deployment.environment": "prod", team: "a,b" },
      sampler: { name: "parentbased_traceidratio", ratio: 0.25 },
      batch: { maxQueueSize: 2048, maxExportBatchSize: 512 },
    });
    // The signal-specific endpoint is used as given; OTEL_SDK_DISABLED wins over both.
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/custom/path" }).tracing?.url,
    ).toBe("http://collector:4318/custom/path");
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SDK_DISABLED: "true" }).tracing,
    ).toBeUndefined();
  });

  it("tracing: malformed headers, a ratio out of range or a batch above the queue are refused without echoing values", () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };
    const headers = () => loadConfig({ ...endpoint, OTEL_EXPORTER_OTLP_HEADERS: "secret-without-equals" });
    expect(headers).toThrow(/OTEL_EXPORTER_OTLP_HEADERS: must be a comma-separated list of key=value pairs/);
    expect(headers).not.toThrow(/secret-without-equals/);
    expect(() => loadConfig({ ...endpoint, OTEL_TRACES_SAMPLER_ARG: "2" })).toThrow(
      /OTEL_TRACES_SAMPLER_ARG/,
    );
    expect(() =>
      loadConfig({ ...endpoint, OTEL_BSP_MAX_QUEUE_SIZE: "10", OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "20" }),
    ).toThrow(/OTEL_BSP_MAX_EXPORT_BATCH_SIZE: must be at most OTEL_BSP_MAX_QUEUE_SIZE/);
  });
});

describe("loadConfig: MCP tasks", () => {
  it("reads the task limits into the task store's settings", () => {
    const config = loadConfig({
      MCP_TASK_MAX_PER_USER: "3",
      MCP_TASK_TTL_MS: "60000",
      MCP_TASK_MAX_TTL_MS: "120000",
      MCP_TASK_POLL_INTERVAL_MS: "250",
      MCP_TASK_LIST_PAGE_SIZE: "10",
      MCP_TASK_STORE_TIMEOUT_MS: "500",
    });
    expect(config.mcp.tasks).toEqual({
      limits: {
        maxTasksPerUser: 3,
        defaultTtlMs: 60_000,
        maxTtlMs: 120_000,
        pollIntervalMs: 250,
        pageSize: 10,
      },
      storeTimeoutMs: 500,
    });
  });

  it.each([
    ["MCP_TASK_MAX_PER_USER", "0"],
    ["MCP_TASK_TTL_MS", "-5"],
    ["MCP_TASK_LIST_PAGE_SIZE", "many"],
    ["MCP_TASK_MAX_TTL_MS", "3000000000"],
  ])("stops start-up naming %s when it is %j", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it("refuses a default task lifetime above the longest allowed", () => {
    expect(() => loadConfig({ MCP_TASK_TTL_MS: "7200000", MCP_TASK_MAX_TTL_MS: "3600000" })).toThrow(
      /MCP_TASK_TTL_MS: must be at most MCP_TASK_MAX_TTL_MS/,
    );
  });
});

describe("loadConfig: the 2026-07-28 request-state key", () => {
  it("is unset by default (generated at start) with a ten-minute lifetime", () => {
    expect(loadConfig({}).mcp.requestState).toEqual({ key: undefined, ttlSeconds: 600 });
  });

  it("takes a key of at least 32 bytes and a lifetime", () => {
    const key = "k".repeat(32);
    const config = loadConfig({ MCP_REQUEST_STATE_KEY: key, MCP_REQUEST_STATE_TTL_SECONDS: "60" });
    expect(config.mcp.requestState).toEqual({ key, ttlSeconds: 60 });
  });

  it("refuses a shorter key, naming the variable and never the value", () => {
    const key = "short-secret-value";
    let message = "";
    try {
      loadConfig({ MCP_REQUEST_STATE_KEY: key });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("MCP_REQUEST_STATE_KEY");
    expect(message).toContain("at least 32 bytes");
    expect(message).not.toContain(key);
  });
});

describe("loadConfig: maintenance and conversation retention", () => {
  it("keeps every conversation by default, and runs maintenance hourly with a ten-minute deadline", () => {
    expect(loadConfig({}).maintenance).toEqual({
      intervalMs: 3_600_000,
      jobTimeoutMs: 600_000,
      retention: undefined,
    });
  });

  it("takes each from the environment", () => {
    expect(
      loadConfig({
        CONVERSATION_RETENTION_DAYS: "90",
        CONVERSATION_RETENTION_BATCH_SIZE: "500",
        MAINTENANCE_INTERVAL_SECONDS: "60",
        MAINTENANCE_JOB_TIMEOUT_SECONDS: "30",
      }).maintenance,
    ).toEqual({ intervalMs: 60_000, jobTimeoutMs: 30_000, retention: { days: 90, batchSize: 500 } });
  });

  it.each([
    ["CONVERSATION_RETENTION_DAYS", "0"],
    ["CONVERSATION_RETENTION_DAYS", "-7"],
    ["CONVERSATION_RETENTION_DAYS", "1.5"],
    ["CONVERSATION_RETENTION_DAYS", "forever"],
    ["CONVERSATION_RETENTION_DAYS", "36501"],
    ["CONVERSATION_RETENTION_BATCH_SIZE", "0"],
    ["CONVERSATION_RETENTION_BATCH_SIZE", "10001"],
    ["MAINTENANCE_INTERVAL_SECONDS", "0"],
    ["MAINTENANCE_INTERVAL_SECONDS", "2147484"],
    ["MAINTENANCE_INTERVAL_SECONDS", "1h"],
    ["MAINTENANCE_JOB_TIMEOUT_SECONDS", "-1"],
  ])("stops start-up naming %s when it is %j", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe("MCP_SUBSCRIPTION_CLAIM_SECONDS (one update per change across a session's copies, ADR 0183)", () => {
  it("keeps a claim a minute by default, and takes the setting", () => {
    expect(loadConfig({}).mcp.subscriptionClaimSeconds).toBe(60);
    expect(loadConfig({ MCP_SUBSCRIPTION_CLAIM_SECONDS: "5" }).mcp.subscriptionClaimSeconds).toBe(5);
  });

  it.each(["0", "-1", "1.5", "86401", "a minute"])("stops start-up naming it when it is %j", (value) => {
    expect(() => loadConfig({ MCP_SUBSCRIPTION_CLAIM_SECONDS: value })).toThrow(
      "MCP_SUBSCRIPTION_CLAIM_SECONDS",
    );
  });
});
