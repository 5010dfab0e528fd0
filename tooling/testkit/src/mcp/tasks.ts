import { type Client, specTypeSchemas } from "@modelcontextprotocol/client";

/**
 * MCP tasks (2025-11-25) through the official client. Its 2.4.0 release parses task results but
 * offers no task methods, so these send the spec's requests with the spec's own result schemas.
 */
export function taskClient(client: Client) {
  return {
    /** `tools/call` with `task` (and `ttl` when given): the CreateTaskResult. */
    callToolAsTask(name: string, args: Record<string, unknown>, ttl?: number) {
      return client.request(
        { method: "tools/call", params: { name, arguments: args, task: ttl === undefined ? {} : { ttl } } },
        specTypeSchemas.CreateTaskResult,
      );
    },
    get: (taskId: string) =>
      client.request({ method: "tasks/get", params: { taskId } }, specTypeSchemas.GetTaskResult),
    /** Blocks until the task ends; the underlying tools/call result. */
    result: (taskId: string, options?: { signal?: AbortSignal; timeout?: number }) =>
      client.request({ method: "tasks/result", params: { taskId } }, specTypeSchemas.CallToolResult, options),
    list: (cursor?: string) =>
      client.request(
        { method: "tasks/list", params: cursor === undefined ? {} : { cursor } },
        specTypeSchemas.ListTasksResult,
      ),
    cancel: (taskId: string) =>
      client.request({ method: "tasks/cancel", params: { taskId } }, specTypeSchemas.CancelTaskResult),
  };
}
