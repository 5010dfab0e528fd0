import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  checkTaskLimitValues,
  DEFAULT_TASK_STORE_LIMITS,
  TASK_LIMIT_VARIABLES,
  taskLimitsFromValues,
} from "../src/index.ts";

const schema = z.object(TASK_LIMIT_VARIABLES).superRefine(checkTaskLimitValues);

describe("task limit variables (shared by both apps' configuration)", () => {
  it("defaults to the task store's limits", () => {
    expect(taskLimitsFromValues(schema.parse({}))).toEqual(DEFAULT_TASK_STORE_LIMITS);
  });

  it("reads every limit", () => {
    const values = schema.parse({
      MCP_TASK_MAX_PER_USER: "3",
      MCP_TASK_TTL_MS: "60000",
      MCP_TASK_MAX_TTL_MS: "120000",
      MCP_TASK_POLL_INTERVAL_MS: "250",
      MCP_TASK_LIST_PAGE_SIZE: "10",
    });
    expect(taskLimitsFromValues(values)).toEqual({
      maxTasksPerUser: 3,
      defaultTtlMs: 60_000,
      maxTtlMs: 120_000,
      pollIntervalMs: 250,
      pageSize: 10,
    });
  });

  it.each([
    ["MCP_TASK_MAX_PER_USER", "0"],
    ["MCP_TASK_LIST_PAGE_SIZE", "many"],
    ["MCP_TASK_MAX_TTL_MS", "3000000000"],
  ])("refuses %s=%s", (name, value) => {
    const result = schema.safeParse({ [name]: value });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toEqual([name]);
  });

  it("refuses a default TTL above the maximum, naming both variables", () => {
    const result = schema.safeParse({ MCP_TASK_TTL_MS: "60000", MCP_TASK_MAX_TTL_MS: "1000" });
    expect(result.error?.issues).toEqual([
      expect.objectContaining({
        path: ["MCP_TASK_TTL_MS"],
        message: "must be at most MCP_TASK_MAX_TTL_MS (1000)",
      }),
    ]);
  });
});
