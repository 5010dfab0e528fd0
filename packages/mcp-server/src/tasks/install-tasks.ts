import type { Principal } from "@mcp-langgraph/auth-provider";
import type { McpServer, Notification, ServerContext } from "@modelcontextprotocol/server";
import { registerTaskMethods } from "./task-methods.js";
import type { McpTasks } from "./task-runs.js";
import { routeTaskToolCalls, type TaskSupport } from "./task-tool-call.js";

export interface InstallTasksOptions {
  tasks: McpTasks;
  taskTools: Readonly<Record<string, TaskSupport>>;
  principalOf: (ctx: ServerContext) => Principal;
  authorize: (principal: Principal, tool: string, signal: AbortSignal) => Promise<void>;
  /** Counts the call against the caller's tool-call limit before the task exists. */
  admit: (principal: Principal, signal: AbortSignal) => Promise<void>;
  reportFailure: (what: string, error: unknown) => void;
}

/**
 * MCP tasks (2025-11-25) on one server: the `tasks` capability (list, cancel, task-augmented
 * tools/call), the four task methods, and `notifications/tasks/status` to the creating session
 * when a task it started waits on the client, works again, or ends. Call it after the tools are
 * registered and before connecting.
 */
export function installTasks(server: McpServer, options: InstallTasksOptions): void {
  const { tasks, principalOf, reportFailure } = options;
  server.server.registerCapabilities({
    tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
  } as Parameters<typeof server.server.registerCapabilities>[0]);
  registerTaskMethods(server, { store: tasks.store, principalOf, reportFailure });
  routeTaskToolCalls(server, {
    ...options,
    onStatus: (task) => {
      if (!server.isConnected()) return;
      // Optional in the spec and best effort here: a client polls tasks/get when it hears nothing.
      const notification = { method: "notifications/tasks/status", params: { ...task } } as Notification;
      server.server.notification(notification).catch(() => {});
    },
  });
}
