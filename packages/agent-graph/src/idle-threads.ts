import { type BaseCheckpointSaver, MemorySaver } from "@langchain/langgraph";
import { AgentError } from "./errors.js";
import { assertIntegerInRange } from "./validation.js";

/** The largest page `listIdleThreads` returns: one retention batch. */
export const MAX_IDLE_THREAD_BATCH = 10_000;

/**
 * Threads whose last activity (their newest checkpoint's `ts`) is before `before`, in thread-id
 * order after `after`, at most `limit` of them: a retention sweep pages through them with the last
 * id as the next `after`, so a thread it could not delete is not listed again in the same sweep.
 */
export interface IdleThreadQuery {
  before: Date;
  after?: string;
  limit: number;
  signal?: AbortSignal;
}

/** A checkpointer that can answer an `IdleThreadQuery` itself (the SQLite and Postgres savers, in SQL). */
export interface IdleThreadLister {
  listIdleThreads(query: IdleThreadQuery): Promise<string[]>;
}

export function validateIdleThreadQuery(query: IdleThreadQuery): void {
  if (!(query?.before instanceof Date) || Number.isNaN(query.before.getTime())) {
    throw new AgentError("AGENT_INPUT_INVALID", "before must be a valid Date");
  }
  if (query.after !== undefined && typeof query.after !== "string") {
    throw new AgentError("AGENT_INPUT_INVALID", "after must be a thread id");
  }
  assertIntegerInRange(query.limit, "limit", 1, MAX_IDLE_THREAD_BATCH);
}

/** The thread's last activity: its newest checkpoint's timestamp; undefined for an unknown thread. */
export async function lastActivity(saver: BaseCheckpointSaver, threadId: string): Promise<Date | undefined> {
  const tuple = await saver.getTuple({ configurable: { thread_id: threadId, checkpoint_ns: "" } });
  return tuple ? new Date(tuple.checkpoint.ts) : undefined;
}

/** One page of idle threads, from whichever checkpointer the agent uses. */
export async function listIdleThreads(saver: BaseCheckpointSaver, query: IdleThreadQuery): Promise<string[]> {
  validateIdleThreadQuery(query);
  if (isIdleThreadLister(saver)) return saver.listIdleThreads(query);
  if (saver instanceof MemorySaver) return memoryIdleThreads(saver, query);
  throw new AgentError(
    "CHECKPOINTER_CONFIG_INVALID",
    "this checkpointer cannot list threads by last activity (conversation retention needs memory, sqlite or postgres)",
  );
}

function isIdleThreadLister(saver: unknown): saver is IdleThreadLister {
  return typeof (saver as Partial<IdleThreadLister>).listIdleThreads === "function";
}

/**
 * The in-memory saver keeps no index by time: every thread after `after` is read until `limit`
 * idle ones are found. It holds one process's threads, which are in memory already.
 */
async function memoryIdleThreads(saver: MemorySaver, query: IdleThreadQuery): Promise<string[]> {
  const ids = Object.keys(saver.storage)
    .filter((id) => query.after === undefined || id > query.after)
    .sort();
  const idle: string[] = [];
  for (const id of ids) {
    if (query.signal?.aborted) throw query.signal.reason;
    const last = await lastActivity(saver, id);
    if (last !== undefined && last < query.before) idle.push(id);
    if (idle.length >= query.limit) break;
  }
  return idle;
}
