import { RELATED_TASK_META_KEY, type ServerContext } from "@modelcontextprotocol/server";
import type { StoredTask, TaskStore } from "./task-store.js";

export interface TaskInputWaitsOptions {
  store: TaskStore;
  ownerId: string;
  taskId: string;
  /** Told when a wait moves the task, so the creating session is notified as for any change. */
  onStatus: (task: StoredTask) => void;
  reportFailure: (what: string, error: unknown) => void;
  /** For the store calls; the store's own deadline bounds each one. */
  signal: AbortSignal;
}

export interface TaskInputWaits {
  /**
   * Runs `request` (a server-to-client request of the run) with the task `input_required` and
   * `statusMessage` until it settles; the status is stored before the request goes out, so a
   * client that polls `tasks/get` on receiving it sees `input_required`.
   */
  around<T>(statusMessage: string, request: () => Promise<T>): Promise<T>;
  /** Resolves when every status write queued so far is done (the run's end waits for them). */
  settled(): Promise<void>;
}

/**
 * The waits of one task run on its client (MCP 2025-11-25 `input_required`, ADR 0191). Several
 * may overlap: the task is `input_required` from the first until the last settles. Status writes
 * are chained so they land in order; one that fails is reported and the request still goes out
 * (the status is advice to a polling client; the request itself is what the run needs).
 */
export function taskInputWaits(options: TaskInputWaitsOptions): TaskInputWaits {
  const { store, ownerId, taskId, onStatus, reportFailure, signal } = options;
  let open = 0;
  let writes = Promise.resolve();
  const write = (change: Parameters<TaskStore["setRunStatus"]>[2]) => {
    writes = writes.then(() =>
      store.setRunStatus(ownerId, taskId, change, signal).then(
        // Undefined: the task ended (cancelled, expired) meanwhile, and stays as it is.
        (task) => {
          if (task) onStatus(task);
        },
        (error: unknown) => reportFailure("tasks store", error),
      ),
    );
    return writes;
  };
  return {
    async around(statusMessage, request) {
      open += 1;
      if (open === 1) void write({ status: "input_required", statusMessage });
      // A later overlapping wait also goes out only once the task shows input_required.
      await writes;
      try {
        return await request();
      } finally {
        open -= 1;
        if (open === 0) void write({ status: "working" });
      }
    },
    settled: () => writes,
  };
}

/**
 * The run's context with its elicitation and sampling requests wrapped: each marks the task
 * `input_required` while it waits and carries the related-task metadata (spec: requests a server
 * sends for a task name it), so the client knows which task asks.
 */
export function withTaskInputWaits(ctx: ServerContext, taskId: string, waits: TaskInputWaits): ServerContext {
  const related = <P extends { _meta?: Record<string, unknown> }>(params: P): P => ({
    ...params,
    _meta: { ...params._meta, [RELATED_TASK_META_KEY]: { taskId } },
  });
  return {
    ...ctx,
    mcpReq: {
      ...ctx.mcpReq,
      elicitInput: (params, options) =>
        waits.around("Waiting for the user's answer to a request (elicitation).", () =>
          ctx.mcpReq.elicitInput(related(params), options),
        ),
      requestSampling: (params, options) =>
        waits.around("Waiting for the client's model (sampling).", () =>
          ctx.mcpReq.requestSampling(related(params), options),
        ),
    },
  };
}
