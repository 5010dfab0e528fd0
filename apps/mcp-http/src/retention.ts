import type { Authorizer } from "@mcp-langgraph/authz";
import type { Logger } from "@mcp-langgraph/core";
import type { RunningMcpServices } from "@mcp-langgraph/mcp-server";
import { deleteConversationTuples } from "./conversation-tuples.js";

type Agent = RunningMcpServices["agent"];

export interface ConversationRetentionOptions {
  agent: Pick<Agent, "listIdleConversations" | "deleteIdleConversation">;
  authorizer: Pick<Authorizer, "readTuples" | "deleteTuples">;
  /** Conversations whose last activity is older than this many days are deleted. */
  days: number;
  /** Threads listed (and then deleted) per page. */
  batchSize: number;
  /** Deadline of each backend call. */
  stepTimeoutMs: number;
  logger: Logger;
  /** The clock the cutoff is taken from (tests). Default `Date.now`. */
  now?: () => number;
}

/**
 * One retention sweep (ADR 0179): pages through the threads idle since the cutoff, in id order,
 * and deletes each one's checkpoints and then its tuples. A thread used again since it was
 * listed is kept (checked under its lock). A thread that fails is skipped and counted; the page
 * cursor moves past it, so one bad thread cannot stall the sweep, and the next run retries it.
 */
export function conversationRetention(options: ConversationRetentionOptions) {
  const { agent, authorizer, batchSize, stepTimeoutMs, logger } = options;
  const now = options.now ?? Date.now;
  return async (signal: AbortSignal): Promise<Record<string, number>> => {
    const step = () => AbortSignal.any([signal, AbortSignal.timeout(stepTimeoutMs)]);
    const cutoff = new Date(now() - options.days * 86_400_000);
    const counts = { conversations_deleted: 0, tuples_deleted: 0, kept: 0, failed: 0 };
    let after: string | undefined;
    for (;;) {
      const page = await agent.listIdleConversations({
        before: cutoff,
        limit: batchSize,
        signal: step(),
        ...(after === undefined ? {} : { after }),
      });
      for (const key of page) {
        signal.throwIfAborted();
        try {
          if (await agent.deleteIdleConversation(key, cutoff, { signal: step() })) {
            counts.conversations_deleted++;
            counts.tuples_deleted += await deleteConversationTuples(authorizer, key, step);
          } else {
            counts.kept++;
          }
        } catch (error) {
          if (signal.aborted) throw error;
          counts.failed++;
          // The thread key names no user by itself; the error says which backend failed.
          logger.warn({ err: error }, "conversation retention: a thread could not be deleted");
        }
      }
      if (page.length < batchSize) return counts;
      after = page[page.length - 1];
    }
  };
}
