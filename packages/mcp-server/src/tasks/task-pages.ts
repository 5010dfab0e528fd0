import { McpServerError } from "../errors.js";
import type { StoredTask, TaskPage } from "./task-store.js";

/** A task and when it was created (ms), the order `tasks/list` pages through: newest first, then by id. */
export interface Listed {
  createdMs: number;
  task: StoredTask;
}

const encodeCursor = ({ createdMs, task }: Listed) =>
  Buffer.from(JSON.stringify([createdMs, task.taskId])).toString("base64url");

function decodeCursor(cursor: string): [number, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isInteger(value[0]) &&
      typeof value[1] === "string" &&
      value[1].length <= 64
    )
      return [value[0] as number, value[1]];
  } catch {
    // reported below
  }
  throw new McpServerError("TASK_INVALID", "The cursor is not one this server issued.");
}

const before = (a: Listed, createdMs: number, taskId: string) =>
  a.createdMs < createdMs || (a.createdMs === createdMs && a.task.taskId < taskId);

/**
 * One page of an owner's tasks. The cursor names the last task shown (its creation time and id),
 * not a position, so a task that expires between two pages shifts nothing and skips nothing.
 * Owners hold at most `maxTasksPerUser` tasks, so sorting them all per page is cheap.
 */
export function pageOf(all: Listed[], cursor: string | undefined, pageSize: number): TaskPage {
  const sorted = [...all].sort(
    (a, b) => b.createdMs - a.createdMs || (a.task.taskId < b.task.taskId ? 1 : -1),
  );
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const rest = after ? sorted.filter((entry) => before(entry, after[0], after[1])) : sorted;
  const page = rest.slice(0, pageSize);
  const last = page.at(-1);
  return {
    tasks: page.map((entry) => entry.task),
    ...(rest.length > pageSize && last ? { nextCursor: encodeCursor(last) } : {}),
  };
}
