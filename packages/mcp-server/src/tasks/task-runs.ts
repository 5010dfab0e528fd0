import type { TaskStore } from "./task-store.js";

/** Why a run was stopped by a shutdown, so its task can say so (and that a retry will work). */
export class TaskShutdownError extends Error {
  override name = "AbortError";
  constructor() {
    super("The server shut down before the task finished; please retry.");
  }
}

/**
 * MCP tasks of one process: the store, and the runs this process executes. A run outlives the
 * request that created it, so the process's shutdown must wait for runs as it waits for requests:
 * `drain` lets them finish until its signal aborts, then stops the rest, which record their task
 * as failed ("the server shut down; retry") instead of leaving it `working` until its TTL.
 */
export interface McpTasks {
  readonly store: TaskStore;
  /** Runs in flight in this process. */
  readonly running: number;
  /** Registers a run; it is aborted with TaskShutdownError if still going when a drain ends. */
  track(controller: AbortController, done: Promise<unknown>): void;
  drain(signal: AbortSignal): Promise<void>;
  /** Drains (until `signal` aborts), then closes the store. */
  close(signal: AbortSignal): Promise<void>;
}

export function createMcpTasks(store: TaskStore): McpTasks {
  const runs = new Map<AbortController, Promise<unknown>>();
  const drain = async (signal: AbortSignal) => {
    const settled = () => Promise.allSettled([...runs.values()]);
    if (!signal.aborted) {
      await new Promise<void>((resolve) => {
        signal.addEventListener("abort", () => resolve(), { once: true });
        void settled().then(() => resolve());
      });
    }
    for (const controller of runs.keys()) controller.abort(new TaskShutdownError());
    // Stopped runs record their tasks' end (the store's deadline bounds each write).
    await settled();
  };
  return {
    store,
    get running() {
      return runs.size;
    },
    track(controller, done) {
      runs.set(controller, done);
      void done.finally(() => runs.delete(controller));
    },
    drain,
    async close(signal) {
      await drain(signal);
      await store.close();
    },
  };
}
