import type { Principal } from "@mcp-langgraph/auth-provider";
import {
  type CallToolResult,
  type JSONRPCRequest,
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type RegisteredTool,
  type Result,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { z } from "zod";
import { markCallCounted } from "../tool-table.js";
import { isUnexpectedTaskError, taskProtocolError } from "./task-errors.js";
import { taskInputWaits, withTaskInputWaits } from "./task-input-waits.js";
import { relatedResult } from "./task-methods.js";
import { type McpTasks, TaskShutdownError } from "./task-runs.js";
import type { StoredTask } from "./task-store.js";

/** How a tool may be called as a task (MCP `Tool.execution.taskSupport`); tools not named forbid it. */
export type TaskSupport = "optional" | "required";

export interface TaskToolCallOptions {
  tasks: McpTasks;
  /** Tools that run as tasks, and whether they must. */
  taskTools: Readonly<Record<string, TaskSupport>>;
  principalOf: (ctx: ServerContext) => Principal;
  /**
   * Checks, before a task is created, that the caller may use the tool (its handler checks
   * again): a refused call creates no task and takes none of the caller's task slots.
   */
  authorize: (principal: Principal, tool: string, signal: AbortSignal) => Promise<void>;
  /**
   * Counts the call against the caller's tool-call limit before a task is created (the run is then
   * not counted again): a call over the limit is refused and creates no task.
   */
  admit: (principal: Principal, signal: AbortSignal) => Promise<void>;
  /** Told when a task's status changes, so the creating session can be notified. */
  onStatus: (task: StoredTask) => void;
  reportFailure: (what: string, error: unknown) => void;
}

type Handler = (request: JSONRPCRequest, ctx: ServerContext) => Promise<Result>;

/** The parts of the SDK's server this module reaches past its public surface (SDK version pinned). */
interface SdkInternals {
  server: { _getRequestHandler(method: string): Handler | undefined; _requestHandlers: Map<string, Handler> };
  _registeredTools: Record<string, RegisteredTool>;
}

/** For the background run's store calls: nobody waits on them but the store's own deadline bounds each one. */
const unbounded = new AbortController().signal;

const taskParams = z.object({ ttl: z.number().int().positive().optional() }).loose();

/**
 * Task-augmented `tools/call` (MCP 2025-11-25). The SDK (2.4.0) parses the `task` parameter but
 * has no task runtime, and its `tools/call` wrapper refuses a CreateTaskResult; so one router is
 * put in front of the SDK's own (wrapped) handler: a call without `task` goes to it unchanged; a
 * call with `task` is checked (tool, arguments, permission, the caller's task limit), answered
 * at once with the created task, and then run through the same SDK handler in the background
 * with a signal that `tasks/cancel` (from any instance) and the task's end of life abort.
 */
export function routeTaskToolCalls(server: McpServer, options: TaskToolCallOptions): void {
  const { tasks, taskTools, principalOf, authorize, admit, onStatus, reportFailure } = options;
  const { store } = tasks;
  const internals = server as unknown as SdkInternals;
  const sdkCall = internals.server._getRequestHandler("tools/call");
  if (!sdkCall) throw new TypeError("register the tools before routing task-augmented calls");
  for (const [name, taskSupport] of Object.entries(taskTools)) {
    const tool = internals._registeredTools[name];
    // Listed by tools/list, which is how clients learn which tools run as tasks.
    if (tool) tool.execution = { taskSupport };
  }

  const run = async (
    request: JSONRPCRequest,
    ctx: ServerContext,
    ownerId: string,
    task: StoredTask,
    controller: AbortController,
  ) => {
    const stopWatching = store.watch(ownerId, task.taskId, () => {
      store.get(ownerId, task.taskId, unbounded).then(
        (current) => {
          if (current?.status === "cancelled" || current === undefined) controller.abort(cancelled());
        },
        () => {},
      );
    });
    // A run never outlives its task: past the TTL nobody can read what it would produce.
    const expiry = setTimeout(() => controller.abort(cancelled()), task.ttl);
    const { task: _task, ...params } = request.params ?? {};
    const waits = taskInputWaits({
      store,
      ownerId,
      taskId: task.taskId,
      onStatus,
      reportFailure,
      signal: unbounded,
    });
    const runCtx: ServerContext = withTaskInputWaits(
      {
        ...ctx,
        mcpReq: {
          ...ctx.mcpReq,
          signal: controller.signal,
          // The creating request has been answered; a message tied to it may find its stream gone.
          notify: (notification) => ctx.mcpReq.notify(notification).catch(() => {}),
        },
      },
      task.taskId,
      waits,
    );
    let result: CallToolResult;
    try {
      result = (await sdkCall({ ...request, params }, runCtx)) as CallToolResult;
    } catch (error) {
      // A JSON-RPC error of the underlying call is the task's failure, told to the client as a tool error.
      reportFailure("tools/call task", error);
      const message = error instanceof ProtocolError ? error.message : "The task failed unexpectedly.";
      result = { isError: true, content: [{ type: "text", text: message }] };
    } finally {
      clearTimeout(expiry);
      stopWatching();
    }
    if (controller.signal.reason instanceof TaskShutdownError) {
      const message = controller.signal.reason.message;
      result = {
        isError: true,
        content: [{ type: "text", text: message }],
        structuredContent: { error: { code: "SHUTTING_DOWN", message, retryable: true } },
      };
    }
    // The last wait's return to `working` lands (and is notified) before the end, not after it.
    await waits.settled();
    const status = result.isError ? "failed" : "completed";
    // A task cancelled or expired meanwhile is left as it is.
    const finished = await store
      .finish(ownerId, task.taskId, { status, result: relatedResult(task.taskId, result) }, unbounded)
      .catch((error: unknown) => {
        reportFailure("tasks store", error);
        return undefined;
      });
    if (finished) onStatus(finished);
  };

  const router: Handler = async (request, ctx) => {
    const name = typeof request.params?.name === "string" ? request.params.name : "";
    const support = taskTools[name];
    if (request.params?.task === undefined) {
      if (support === "required")
        throw new ProtocolError(ProtocolErrorCode.MethodNotFound, `Tool ${name} must be called as a task.`);
      return sdkCall(request, ctx);
    }
    const tool = internals._registeredTools[name];
    if (!support || !tool?.enabled)
      throw new ProtocolError(ProtocolErrorCode.MethodNotFound, `Tool ${name} cannot be called as a task.`);
    const wanted = taskParams.safeParse(request.params.task);
    if (!wanted.success)
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        "task.ttl must be a positive whole number of ms.",
      );
    const signal = ctx.mcpReq.signal;
    try {
      // Everything that can be refused is refused here, before a task exists.
      if (tool.inputSchema) {
        const checked = await tool.inputSchema["~standard"].validate(request.params.arguments ?? {});
        if (checked.issues)
          throw new ProtocolError(
            ProtocolErrorCode.InvalidParams,
            `Input validation error: Invalid arguments for tool ${name}: ${checked.issues.map((i) => i.message).join("; ")}`,
          );
      }
      const principal = principalOf(ctx);
      await authorize(principal, name, signal);
      await admit(principal, signal);
      const task = await store.create(principal.userId, wanted.data.ttl, signal);
      const controller = new AbortController();
      markCallCounted(controller.signal);
      tasks.track(controller, run(request, ctx, principal.userId, task, controller));
      return { task };
    } catch (error) {
      if (isUnexpectedTaskError(error) && !signal.aborted) reportFailure("tools/call task", error);
      throw taskProtocolError(error);
    }
  };
  internals.server._requestHandlers.set("tools/call", router);
}

function cancelled(): Error {
  const error = new Error("The task was cancelled.");
  error.name = "AbortError";
  return error;
}
