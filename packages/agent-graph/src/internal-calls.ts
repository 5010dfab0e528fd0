import type { RunnableConfig } from "@langchain/core/runnables";

/**
 * Tag of the agent's own model calls whose output is not the answer being written (summaries,
 * verdicts, rewrites). LangGraph's "messages" stream mode skips runs tagged so, and the agent's
 * token stream does too, so a client never sees a summary or a verdict streamed as the reply.
 */
export const INTERNAL_CALL_TAG = "nostream";

/** The node's config (signal, callbacks for tracing) for an internal model call. */
export function internalCallConfig(config: RunnableConfig): RunnableConfig {
  return { ...config, tags: [...(config.tags ?? []), INTERNAL_CALL_TAG] };
}
