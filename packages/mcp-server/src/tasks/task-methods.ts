import type { Principal } from "@mcp-langgraph/auth-provider";
import {
  type CallToolResult,
  type McpServer,
  RELATED_TASK_META_KEY,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { z } from "zod";
import { McpServerError } from "../errors.js";
import { isUnexpectedTaskError, taskProtocolError } from "./task-errors.js";
import { type StoredTask, type TaskStore, TERMINAL_STATUSES } from "./task-store.js";

export interface TaskMethodsOptions {
  store: TaskStore;
  principalOf: (ctx: ServerContext) => Principal;
  reportFailure: (method: string, error: unknown) => void;
}

const taskIdParams = z.object({ taskId: z.string().min(1).max(64) }).loose();
const listParams = z.object({ cursor: z.string().max(512).optional() }).loose();

export const notFound = () =>
  new McpServerError(
    "TASK_NOT_FOUND",
    "Failed to retrieve task: no task of yours has this id (it may have expired).",
  );

/** The result a task's `tasks/result` returns, marked as the task's (spec: related-task metadata). */
export const relatedResult = (taskId: string, result: CallToolResult): CallToolResult => ({
  ...result,
  _meta: { ...result._meta, [RELATED_TASK_META_KEY]: { taskId } },
});

/** What `tasks/result` returns for a task that was cancelled: a tool error like any cancelled call's. */
export const CANCELLED_RESULT: CallToolResult = {
  isError: true,
  content: [{ type: "text", text: "The task was cancelled." }],
  structuredContent: { error: { code: "CANCELLED", message: "The task was cancelled." } },
};

/**
 * Waits until the task is terminal: woken by the store's change events, and re-reading every poll
 * interval in case an event was missed. Bounded by the caller's signal and by the task's own
 * lifetime (an expired task is not found).
 */
export async function waitForTerminal(
  store: TaskStore,
  ownerId: string,
  taskId: string,
  signal: AbortSignal,
): Promise<StoredTask> {
  for (;;) {
    let wake = () => {};
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    // Listening before reading: a change between the read and the wait is not lost.
    const stop = store.watch(ownerId, taskId, wake);
    const timer = setTimeout(wake, store.limits.pollIntervalMs);
    signal.addEventListener("abort", wake, { once: true });
    try {
      const task = await store.get(ownerId, taskId, signal);
      if (!task) throw notFound();
      if (TERMINAL_STATUSES.has(task.status)) return task;
      await woken;
      if (signal.aborted) throw signal.reason;
    } finally {
      stop();
      clearTimeout(timer);
      signal.removeEventListener("abort", wake);
    }
  }
}

/**
 * `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel` (MCP 2025-11-25). The SDK parses
 * these methods on the 2025 wire but has no runtime for them, so they are registered as methods
 * with their own parameter schemas. Every one acts for the caller only: a task id of another user
 * is answered exactly like an unknown one.
 */
export function registerTaskMethods(server: McpServer, options: TaskMethodsOptions): void {
  const { store, principalOf, reportFailure } = options;
  const handle =
    <P, R>(method: string, run: (params: P, ownerId: string, signal: AbortSignal) => Promise<R>) =>
    async (params: P, ctx: ServerContext): Promise<R> => {
      try {
        return await run(params, principalOf(ctx).userId, ctx.mcpReq.signal);
      } catch (error) {
        if (isUnexpectedTaskError(error) && !ctx.mcpReq.signal.aborted) reportFailure(method, error);
        throw taskProtocolError(error);
      }
    };

  server.server.setRequestHandler(
    "tasks/get",
    { params: taskIdParams },
    handle("tasks/get", async ({ taskId }, ownerId, signal) => {
      const task = await store.get(ownerId, taskId, signal);
      if (!task) throw notFound();
      return { ...task };
    }),
  );

  server.server.setRequestHandler(
    "tasks/result",
    { params: taskIdParams },
    handle("tasks/result", async ({ taskId }, ownerId, signal) => {
      await waitForTerminal(store, ownerId, taskId, signal);
      const result = await store.result(ownerId, taskId, signal);
      if (!result) throw notFound();
      return relatedResult(taskId, result);
    }),
  );

  server.server.setRequestHandler(
    "tasks/list",
    { params: listParams },
    handle("tasks/list", async ({ cursor }, ownerId, signal) => ({
      ...(await store.list(ownerId, cursor, signal)),
    })),
  );

  server.server.setRequestHandler(
    "tasks/cancel",
    { params: taskIdParams },
    handle("tasks/cancel", async ({ taskId }, ownerId, signal) => {
      const outcome = await store.cancel(ownerId, taskId, CANCELLED_RESULT, signal);
      if (!outcome) throw notFound();
      if (!outcome.cancelled)
        throw new McpServerError("TASK_INVALID", `Cannot cancel task: it is already ${outcome.task.status}.`);
      return { ...outcome.task };
    }),
  );
}
