import type { CallToolResult } from "@modelcontextprotocol/server";

/** A task's state (MCP 2025-11-25 `Task.status`); the last three are terminal and never change again. */
export type TaskStatus = "working" | "input_required" | "completed" | "failed" | "cancelled";

export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(["completed", "failed", "cancelled"]);

/** One task as the protocol shows it (`tasks/get`, `tasks/list`, `notifications/tasks/status`). */
export interface StoredTask {
  taskId: string;
  status: TaskStatus;
  statusMessage?: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601. */
  lastUpdatedAt: string;
  /** Milliseconds from creation after which the task and its result are gone. */
  ttl: number;
  /** Milliseconds a client should wait between polls. */
  pollInterval: number;
}

/** The statuses a running task moves between. */
export type RunStatusChange = { status: "working" } | { status: "input_required"; statusMessage: string };

export interface TaskPage {
  tasks: StoredTask[];
  /** Opaque; pass it back to get the next page. Absent on the last page. */
  nextCursor?: string;
}

/**
 * Where MCP tasks live: in this process, or in Redis so that every instance behind a balancer
 * answers for every task. Tasks are kept per owner (the authenticated user who created them):
 * every call names the owner, and another owner's task id finds nothing, so no call can reach
 * another user's task or result.
 *
 * Every call takes the caller's signal and has the store's deadline; a store that cannot answer
 * rejects with McpServerError TASK_STORE_UNAVAILABLE.
 */
export interface TaskStore {
  readonly limits: TaskStoreLimits;
  /**
   * A new `working` task. `ttlMs` is the client's wish, clamped to the store's bounds (the
   * store's default when absent). Rejects with McpServerError TASK_LIMIT_REACHED when the owner
   * already holds `maxTasksPerUser` live tasks (expired ones do not count).
   */
  create(ownerId: string, ttlMs: number | undefined, signal: AbortSignal): Promise<StoredTask>;
  get(ownerId: string, taskId: string, signal: AbortSignal): Promise<StoredTask | undefined>;
  /** The stored result of a terminal task; undefined while it works, or when it is unknown or expired. */
  result(ownerId: string, taskId: string, signal: AbortSignal): Promise<CallToolResult | undefined>;
  /**
   * Records the end of a run. Only a running task (`working` or `input_required`) changes, and
   * loses any statusMessage; a task cancelled (or expired) meanwhile keeps its state and the
   * call returns undefined.
   */
  finish(
    ownerId: string,
    taskId: string,
    outcome: { status: "completed" | "failed"; result: CallToolResult },
    signal: AbortSignal,
  ): Promise<StoredTask | undefined>;
  /**
   * Moves a running task between `working` and `input_required` (its run waits on the client:
   * ADR 0191), with `statusMessage` saying what for (cleared when back to `working`). A terminal
   * task never changes; the call returns undefined for it, and for an unknown or expired task.
   * Watchers are told of the change.
   */
  setRunStatus(
    ownerId: string,
    taskId: string,
    change: RunStatusChange,
    signal: AbortSignal,
  ): Promise<StoredTask | undefined>;
  /**
   * Moves a running (`working` or `input_required`) task to `cancelled` with `result` as what `tasks/result` returns
   * (`cancelled: true`). A task already terminal comes back unchanged (`cancelled: false`);
   * undefined when unknown or expired.
   */
  cancel(
    ownerId: string,
    taskId: string,
    result: CallToolResult,
    signal: AbortSignal,
  ): Promise<{ task: StoredTask; cancelled: boolean } | undefined>;
  /** The owner's live tasks, newest first, `pageSize` per page. A cursor that is not one of ours is refused. */
  list(ownerId: string, cursor: string | undefined, signal: AbortSignal): Promise<TaskPage>;
  /**
   * Deletes every task of the owner and its result (erasing a user's data); their runs hear the
   * change and stop. Returns how many were deleted.
   */
  deleteOwner(ownerId: string, signal: AbortSignal): Promise<number>;
  /**
   * Calls `listener` when the task changes on any instance (a hint to read it again; a change
   * may occasionally be missed, e.g. while Redis reconnects, so waiters also poll). Returns the
   * function that stops listening.
   */
  watch(ownerId: string, taskId: string, listener: () => void): () => void;
  close(): Promise<void>;
}

export interface TaskStoreLimits {
  /** Live tasks one user may hold at once. */
  maxTasksPerUser: number;
  /** Lifetime of a task whose creator asked for none. */
  defaultTtlMs: number;
  /** Longest lifetime a creator may ask for (longer requests are shortened to this). */
  maxTtlMs: number;
  /** Suggested wait between a client's polls; also how often a waiting `tasks/result` re-reads the store. */
  pollIntervalMs: number;
  /** Tasks per `tasks/list` page. */
  pageSize: number;
}

export const DEFAULT_TASK_STORE_LIMITS: TaskStoreLimits = {
  maxTasksPerUser: 20,
  defaultTtlMs: 15 * 60_000,
  maxTtlMs: 24 * 60 * 60_000,
  pollIntervalMs: 1_000,
  pageSize: 50,
};

const MAX_TIMER_MS = 2_147_483_647;

/** Shortest lifetime granted, whatever a client asks: a task must outlive the reply that announces it. */
export const MIN_TASK_TTL_MS = 1_000;

export function grantedTtl(limits: TaskStoreLimits, requested: number | undefined): number {
  if (requested === undefined || !Number.isFinite(requested)) return limits.defaultTtlMs;
  return Math.min(limits.maxTtlMs, Math.max(MIN_TASK_TTL_MS, Math.floor(requested)));
}

/** Checks limits given by an app or a library user; a bad one is a configuration error, not a runtime surprise. */
export function resolveTaskStoreLimits(limits: Partial<TaskStoreLimits> = {}): TaskStoreLimits {
  const resolved = { ...DEFAULT_TASK_STORE_LIMITS, ...limits };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value < 1)
      throw new TypeError(`task store ${name} must be a positive integer`);
  }
  if (resolved.defaultTtlMs > resolved.maxTtlMs)
    throw new TypeError("task store defaultTtlMs exceeds maxTtlMs");
  // A task's end is a timer, and Node fires longer timers at once.
  if (resolved.maxTtlMs > MAX_TIMER_MS)
    throw new TypeError(`task store maxTtlMs exceeds ${MAX_TIMER_MS} (24.8 days)`);
  return resolved;
}

/** Task ids are random UUIDs; anything else is unknown without asking the store. */
export const TASK_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
