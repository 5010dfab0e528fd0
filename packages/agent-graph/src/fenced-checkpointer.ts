import type { BaseCheckpointSaver } from "@langchain/langgraph";

/**
 * The checkpointer as the graph sees it when thread locks are shared between instances: a write
 * for a thread whose lock this process has lost is refused with the lock's reason, so a turn that
 * lost its lock (and is being stopped) cannot append to the thread after the next holder started
 * (ADR 0165). Reads and deletes pass through unchanged.
 */
export function fenceCheckpointer(
  checkpointer: BaseCheckpointSaver,
  heldOf: (threadId: unknown) => AbortSignal | undefined,
): BaseCheckpointSaver {
  const guard =
    (write: "put" | "putWrites") =>
    async (config: { configurable?: Record<string, unknown> }, ...rest: unknown[]) => {
      const held = heldOf(config?.configurable?.thread_id);
      if (held?.aborted) throw held.reason;
      return (checkpointer[write] as (...args: unknown[]) => Promise<unknown>)(config, ...rest);
    };
  const put = guard("put");
  const putWrites = guard("putWrites");
  return new Proxy(checkpointer, {
    get(target, property) {
      if (property === "put") return put;
      if (property === "putWrites") return putWrites;
      // Bound to the real saver: its private fields are not reachable through a proxy.
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
