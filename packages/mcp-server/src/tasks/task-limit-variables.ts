import { z } from "zod";
import { DEFAULT_TASK_STORE_LIMITS, type TaskStoreLimits } from "./task-store.js";

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * The task-store limits as environment variables, the same in both apps: fields to spread into an
 * app's configuration schema (the apps alone read `process.env`).
 */
export const TASK_LIMIT_VARIABLES = {
  MCP_TASK_MAX_PER_USER: positiveInt(DEFAULT_TASK_STORE_LIMITS.maxTasksPerUser),
  MCP_TASK_TTL_MS: positiveInt(DEFAULT_TASK_STORE_LIMITS.defaultTtlMs),
  // Node timers end tasks; longer ones fire at once.
  MCP_TASK_MAX_TTL_MS: z.coerce
    .number()
    .int()
    .positive()
    .max(2_147_483_647)
    .default(DEFAULT_TASK_STORE_LIMITS.maxTtlMs),
  MCP_TASK_POLL_INTERVAL_MS: positiveInt(DEFAULT_TASK_STORE_LIMITS.pollIntervalMs),
  MCP_TASK_LIST_PAGE_SIZE: positiveInt(DEFAULT_TASK_STORE_LIMITS.pageSize),
};

/** The parsed values of TASK_LIMIT_VARIABLES. */
export type TaskLimitValues = z.output<z.ZodObject<typeof TASK_LIMIT_VARIABLES>>;

/** The check across variables, for the app schema's `superRefine`: no default TTL above the maximum. */
export function checkTaskLimitValues(values: TaskLimitValues, ctx: z.RefinementCtx): void {
  if (values.MCP_TASK_TTL_MS > values.MCP_TASK_MAX_TTL_MS) {
    ctx.addIssue({
      code: "custom",
      path: ["MCP_TASK_TTL_MS"],
      message: `must be at most MCP_TASK_MAX_TTL_MS (${values.MCP_TASK_MAX_TTL_MS})`,
    });
  }
}

export function taskLimitsFromValues(values: TaskLimitValues): TaskStoreLimits {
  return {
    maxTasksPerUser: values.MCP_TASK_MAX_PER_USER,
    defaultTtlMs: values.MCP_TASK_TTL_MS,
    maxTtlMs: values.MCP_TASK_MAX_TTL_MS,
    pollIntervalMs: values.MCP_TASK_POLL_INTERVAL_MS,
    pageSize: values.MCP_TASK_LIST_PAGE_SIZE,
  };
}
