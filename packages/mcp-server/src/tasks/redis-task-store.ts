import { createHash, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { withDeadline } from "@mcp-langgraph/core";
import type { CallToolResult } from "@modelcontextprotocol/server";
import { isMcpServerError, McpServerError } from "../errors.js";
import {
  CREATE_TASK,
  DELETE_OWNER_TASKS,
  LIST_TASKS,
  SET_RUN_STATUS,
  SETTLE_TASK,
} from "./redis-task-scripts.js";
import { pageOf } from "./task-pages.js";
import {
  grantedTtl,
  resolveTaskStoreLimits,
  type StoredTask,
  TASK_ID_PATTERN,
  type TaskStatus,
  type TaskStore,
  type TaskStoreLimits,
} from "./task-store.js";

/** What the store sends commands through: a connected node-redis client (v4+), ideally with `disableOfflineQueue`. */
export interface TaskRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/** A second connection in subscriber mode (node-redis: `client.duplicate()`, connected). */
export interface TaskRedisSubscriber {
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
}

export interface RedisTaskStoreOptions {
  client: TaskRedisClient;
  subscriber: TaskRedisSubscriber;
  /** Prepended to every key and to the change channel (default `mcp-langgraph:`). */
  keyPrefix?: string;
  /** Deadline of each Redis call (default 2 s). */
  timeoutMs?: number;
  limits?: Partial<TaskStoreLimits>;
}

interface Meta {
  taskId: string;
  createdAt: string;
  createdMs: number;
  ttl: number;
  pollInterval: number;
}

/**
 * Tasks in Redis, shared by every instance: any instance answers `tasks/get`, `tasks/result`,
 * `tasks/list` and `tasks/cancel` for a task another instance runs. A change is published on one
 * channel; the instance running a task hears its cancellation there, and waiting `tasks/result`
 * calls wake up at once instead of at their next poll.
 */
export async function createRedisTaskStore(options: RedisTaskStoreOptions): Promise<TaskStore> {
  const limits = resolveTaskStoreLimits(options.limits);
  const { client, subscriber } = options;
  const prefix = options.keyPrefix ?? "mcp-langgraph:";
  const timeoutMs = options.timeoutMs ?? 2_000;
  const channel = `${prefix}task-events`;
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  await subscriber.subscribe(channel, (message) => changes.emit(message));

  // The owner's id (any characters, possibly long) never appears in a key: its hash does, as the slot tag.
  const tagOf = (ownerId: string) => createHash("sha256").update(ownerId).digest("base64url").slice(0, 22);
  const keys = (ownerId: string) => {
    const tag = `{${tagOf(ownerId)}}`;
    return {
      index: `${prefix}tasks:${tag}`,
      taskPrefix: `${prefix}task:${tag}:`,
      resultPrefix: `${prefix}task-result:${tag}:`,
      eventPrefix: `${tag}:`,
      event: (taskId: string) => `${tag}:${taskId}`,
    };
  };

  const call = (args: string[], signal: AbortSignal): Promise<unknown> =>
    withDeadline(() => client.sendCommand(args), {
      timeoutMs,
      signal,
      onTimeout: (ms) =>
        new McpServerError("TASK_STORE_UNAVAILABLE", `The task store did not answer within ${ms} ms.`),
    }).catch((error: unknown) => {
      if (signal.aborted && error === signal.reason) throw error;
      if (isMcpServerError(error)) throw error;
      throw new McpServerError("TASK_STORE_UNAVAILABLE", "The task store is unavailable right now.", {
        cause: error,
      });
    });
  const evalScript = (script: string, keyArgs: string[], args: string[], signal: AbortSignal) =>
    call(["EVAL", script, String(keyArgs.length), ...keyArgs, ...args], signal);

  const taskOf = (meta: string, status: string, statusMessage: string, lastUpdatedAt: string) => {
    const fixed = JSON.parse(meta) as Meta;
    const task: StoredTask = {
      taskId: fixed.taskId,
      status: status as TaskStatus,
      createdAt: fixed.createdAt,
      lastUpdatedAt,
      ttl: fixed.ttl,
      pollInterval: fixed.pollInterval,
      ...(statusMessage ? { statusMessage } : {}),
    };
    return { task, createdMs: fixed.createdMs };
  };
  const read = async (ownerId: string, taskId: string, signal: AbortSignal) => {
    if (!TASK_ID_PATTERN.test(taskId)) return undefined;
    const fields = (await call(
      ["HMGET", keys(ownerId).taskPrefix + taskId, "meta", "status", "statusMessage", "lastUpdatedAt"],
      signal,
    )) as (string | null)[];
    const [meta, status, statusMessage, lastUpdatedAt] = fields;
    if (!meta || !status || !lastUpdatedAt) return undefined;
    return taskOf(meta, status, statusMessage ?? "", lastUpdatedAt).task;
  };
  const settle = async (
    ownerId: string,
    taskId: string,
    change: { status: TaskStatus; statusMessage?: string },
    result: CallToolResult,
    signal: AbortSignal,
  ): Promise<0 | 1 | 2> => {
    if (!TASK_ID_PATTERN.test(taskId)) return 0;
    const k = keys(ownerId);
    const outcome = await evalScript(
      SETTLE_TASK,
      [k.taskPrefix + taskId, k.resultPrefix + taskId],
      [
        change.status,
        new Date().toISOString(),
        change.statusMessage ?? "",
        JSON.stringify(result),
        channel,
        k.event(taskId),
      ],
      signal,
    );
    return Number(outcome) as 0 | 1 | 2;
  };

  return {
    limits,
    async create(ownerId, ttlMs, signal) {
      const ttl = grantedTtl(limits, ttlMs);
      const createdMs = Date.now();
      const createdAt = new Date(createdMs).toISOString();
      const meta: Meta = {
        taskId: randomUUID(),
        createdAt,
        createdMs,
        ttl,
        pollInterval: limits.pollIntervalMs,
      };
      const k = keys(ownerId);
      const created = await evalScript(
        CREATE_TASK,
        [k.index],
        [
          k.taskPrefix,
          String(limits.maxTasksPerUser),
          meta.taskId,
          JSON.stringify(meta),
          "working",
          createdAt,
          String(ttl),
          String(createdMs),
        ],
        signal,
      );
      if (Number(created) !== 1)
        throw new McpServerError(
          "TASK_LIMIT_REACHED",
          `You already have ${limits.maxTasksPerUser} tasks; wait until one finishes and expires, or cancel one.`,
          { details: { limit: limits.maxTasksPerUser } },
        );
      return taskOf(JSON.stringify(meta), "working", "", createdAt).task;
    },
    get: read,
    async result(ownerId, taskId, signal) {
      if (!TASK_ID_PATTERN.test(taskId)) return undefined;
      const raw = await call(["GET", keys(ownerId).resultPrefix + taskId], signal);
      return typeof raw === "string" ? (JSON.parse(raw) as CallToolResult) : undefined;
    },
    async finish(ownerId, taskId, { status, result }, signal) {
      const outcome = await settle(ownerId, taskId, { status }, result, signal);
      return outcome === 2 ? read(ownerId, taskId, signal) : undefined;
    },
    async setRunStatus(ownerId, taskId, change, signal) {
      if (!TASK_ID_PATTERN.test(taskId)) return undefined;
      const k = keys(ownerId);
      const outcome = await evalScript(
        SET_RUN_STATUS,
        [k.taskPrefix + taskId],
        [
          change.status,
          new Date().toISOString(),
          change.status === "input_required" ? change.statusMessage : "",
          channel,
          k.event(taskId),
        ],
        signal,
      );
      return Number(outcome) === 2 ? read(ownerId, taskId, signal) : undefined;
    },
    async cancel(ownerId, taskId, result, signal) {
      const outcome = await settle(
        ownerId,
        taskId,
        { status: "cancelled", statusMessage: "Cancelled by the user." },
        result,
        signal,
      );
      const task = outcome === 0 ? undefined : await read(ownerId, taskId, signal);
      return task ? { task, cancelled: outcome === 2 } : undefined;
    },
    async list(ownerId, cursor, signal) {
      const k = keys(ownerId);
      const rows = (await evalScript(LIST_TASKS, [k.index], [k.taskPrefix], signal)) as string[][];
      const all = rows.map(([, meta, status, statusMessage, lastUpdatedAt]) =>
        taskOf(meta ?? "{}", status ?? "working", statusMessage ?? "", lastUpdatedAt ?? ""),
      );
      return pageOf(all, cursor, limits.pageSize);
    },
    async deleteOwner(ownerId, signal) {
      const k = keys(ownerId);
      const deleted = await evalScript(
        DELETE_OWNER_TASKS,
        [k.index],
        [k.taskPrefix, k.resultPrefix, channel, k.eventPrefix],
        signal,
      );
      return Number(deleted);
    },
    watch(ownerId, taskId, listener) {
      const name = keys(ownerId).event(taskId);
      changes.on(name, listener);
      return () => changes.off(name, listener);
    },
    async close() {
      changes.removeAllListeners();
      await subscriber.unsubscribe(channel).catch(() => {});
    },
  };
}
