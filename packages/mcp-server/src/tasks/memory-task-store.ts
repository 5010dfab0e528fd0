import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { CallToolResult } from "@modelcontextprotocol/server";
import { McpServerError } from "../errors.js";
import { type Listed, pageOf } from "./task-pages.js";
import {
  grantedTtl,
  resolveTaskStoreLimits,
  type StoredTask,
  TASK_ID_PATTERN,
  type TaskStore,
  type TaskStoreLimits,
} from "./task-store.js";

interface Entry extends Listed {
  result?: CallToolResult;
  expiresAt: number;
  timer: NodeJS.Timeout;
}

/**
 * Tasks in this process's memory: for one process (stdio, a single HTTP instance). Each task is
 * deleted when its TTL ends, so an owner who never comes back costs nothing afterwards.
 */
export function createMemoryTaskStore(limits?: Partial<TaskStoreLimits>): TaskStore {
  const resolved = resolveTaskStoreLimits(limits);
  const owners = new Map<string, Map<string, Entry>>();
  const changes = new EventEmitter();
  // One listener per waiting request or running task; their number is bounded by the sessions' own limits.
  changes.setMaxListeners(0);
  const eventName = (ownerId: string, taskId: string) => `${ownerId}\n${taskId}`;

  const live = (ownerId: string, taskId: string): Entry | undefined => {
    if (!TASK_ID_PATTERN.test(taskId)) return undefined;
    const entry = owners.get(ownerId)?.get(taskId);
    return entry && entry.expiresAt > Date.now() ? entry : undefined;
  };
  const remove = (ownerId: string, taskId: string) => {
    const tasks = owners.get(ownerId);
    const entry = tasks?.get(taskId);
    if (!tasks || !entry) return;
    clearTimeout(entry.timer);
    tasks.delete(taskId);
    if (tasks.size === 0) owners.delete(ownerId);
  };
  const update = (ownerId: string, entry: Entry, change: Partial<StoredTask>, result?: CallToolResult) => {
    const { statusMessage: _old, ...rest } = entry.task;
    entry.task = { ...rest, ...change, lastUpdatedAt: new Date().toISOString() };
    if (result) entry.result = result;
    changes.emit(eventName(ownerId, entry.task.taskId));
    return entry.task;
  };
  const running = (entry: Entry) => entry.task.status === "working" || entry.task.status === "input_required";
  const settled = (signal: AbortSignal) => {
    if (signal.aborted) throw signal.reason;
  };

  return {
    limits: resolved,
    async create(ownerId, ttlMs, signal) {
      settled(signal);
      const tasks = owners.get(ownerId) ?? new Map<string, Entry>();
      if (tasks.size >= resolved.maxTasksPerUser)
        throw new McpServerError(
          "TASK_LIMIT_REACHED",
          `You already have ${resolved.maxTasksPerUser} tasks; wait until one finishes and expires, or cancel one.`,
          { details: { limit: resolved.maxTasksPerUser } },
        );
      const ttl = grantedTtl(resolved, ttlMs);
      const now = Date.now();
      const taskId = randomUUID();
      const stamp = new Date(now).toISOString();
      const task: StoredTask = {
        taskId,
        status: "working",
        createdAt: stamp,
        lastUpdatedAt: stamp,
        ttl,
        pollInterval: resolved.pollIntervalMs,
      };
      const timer = setTimeout(() => remove(ownerId, taskId), ttl);
      timer.unref();
      tasks.set(taskId, { task, createdMs: now, expiresAt: now + ttl, timer });
      owners.set(ownerId, tasks);
      return task;
    },
    async get(ownerId, taskId, signal) {
      settled(signal);
      return live(ownerId, taskId)?.task;
    },
    async result(ownerId, taskId, signal) {
      settled(signal);
      return live(ownerId, taskId)?.result;
    },
    async finish(ownerId, taskId, { status, result }, signal) {
      settled(signal);
      const entry = live(ownerId, taskId);
      if (!entry || !running(entry)) return undefined;
      return update(ownerId, entry, { status }, result);
    },
    async setRunStatus(ownerId, taskId, change, signal) {
      settled(signal);
      const entry = live(ownerId, taskId);
      if (!entry || !running(entry)) return undefined;
      return update(ownerId, entry, change);
    },
    async cancel(ownerId, taskId, result, signal) {
      settled(signal);
      const entry = live(ownerId, taskId);
      if (!entry) return undefined;
      if (!running(entry)) return { task: entry.task, cancelled: false };
      const task = update(
        ownerId,
        entry,
        { status: "cancelled", statusMessage: "Cancelled by the user." },
        result,
      );
      return { task, cancelled: true };
    },
    async list(ownerId, cursor, signal) {
      settled(signal);
      const now = Date.now();
      const all = [...(owners.get(ownerId)?.values() ?? [])].filter((entry) => entry.expiresAt > now);
      return pageOf(all, cursor, resolved.pageSize);
    },
    async deleteOwner(ownerId, signal) {
      settled(signal);
      const taskIds = [...(owners.get(ownerId)?.keys() ?? [])];
      for (const taskId of taskIds) {
        remove(ownerId, taskId);
        changes.emit(eventName(ownerId, taskId));
      }
      return taskIds.length;
    },
    watch(ownerId, taskId, listener) {
      const name = eventName(ownerId, taskId);
      changes.on(name, listener);
      return () => changes.off(name, listener);
    },
    async close() {
      for (const tasks of owners.values()) for (const entry of tasks.values()) clearTimeout(entry.timer);
      owners.clear();
      changes.removeAllListeners();
    },
  };
}
