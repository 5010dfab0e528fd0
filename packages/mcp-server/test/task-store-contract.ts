import { setTimeout as delay } from "node:timers/promises";
import type { CallToolResult } from "@modelcontextprotocol/server";
import { afterEach, describe, expect, it, vi } from "vitest";
import { isMcpServerError, type TaskStore, type TaskStoreLimits } from "../src/index.ts";

/** Builds a fresh, isolated store (its own key prefix for Redis) with the given limits. */
export type TaskStoreFactory = (limits?: Partial<TaskStoreLimits>) => Promise<TaskStore>;

const signal = () => AbortSignal.timeout(5_000);
const done = (text: string): CallToolResult => ({ content: [{ type: "text", text }] });
const ALICE = "user:alice";
const BOB = "user:bob";

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isMcpServerError(error), `expected McpServerError ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

/** The behaviour every TaskStore implementation must show (memory and Redis run the same suite). */
export function runTaskStoreContract(name: string, makeStore: TaskStoreFactory): void {
  describe(`TaskStore contract: ${name}`, () => {
    const opened: TaskStore[] = [];
    const open = async (limits?: Partial<TaskStoreLimits>) => {
      const store = await makeStore(limits);
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    it("creates working tasks with random ids and the lifetime granted within its bounds", async () => {
      const store = await open({ defaultTtlMs: 60_000, maxTtlMs: 120_000, pollIntervalMs: 250 });
      const plain = await store.create(ALICE, undefined, signal());
      expect(plain).toMatchObject({ status: "working", ttl: 60_000, pollInterval: 250 });
      expect(plain.taskId).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Date(plain.createdAt).toISOString()).toBe(plain.createdAt);
      expect(plain.lastUpdatedAt).toBe(plain.createdAt);
      expect((await store.create(ALICE, 10_000_000, signal())).ttl).toBe(120_000);
      expect((await store.create(ALICE, 5, signal())).ttl).toBe(1_000);
      const other = await store.create(ALICE, 30_000, signal());
      expect(other.ttl).toBe(30_000);
      expect(other.taskId).not.toBe(plain.taskId);
      expect(await store.get(ALICE, plain.taskId, signal())).toEqual(plain);
    });

    it("finds a task only for its owner; other, unknown and malformed ids find nothing", async () => {
      const store = await open();
      const task = await store.create(ALICE, undefined, signal());
      await store.finish(ALICE, task.taskId, { status: "completed", result: done("secret") }, signal());
      expect(await store.get(BOB, task.taskId, signal())).toBeUndefined();
      expect(await store.result(BOB, task.taskId, signal())).toBeUndefined();
      expect(await store.cancel(BOB, task.taskId, done("x"), signal())).toBeUndefined();
      expect(
        await store.finish(BOB, task.taskId, { status: "failed", result: done("x") }, signal()),
      ).toBeUndefined();
      expect((await store.list(BOB, undefined, signal())).tasks).toEqual([]);
      for (const id of ["", "*", "../x", `${task.taskId}x`, "00000000-0000-0000-0000-000000000000"]) {
        expect(await store.get(ALICE, id, signal())).toBeUndefined();
      }
      // Bob's attempts changed nothing of Alice's.
      expect(await store.get(ALICE, task.taskId, signal())).toMatchObject({ status: "completed" });
      expect(await store.result(ALICE, task.taskId, signal())).toEqual(done("secret"));
    });

    it("records the end of a run once; a terminal task never changes again", async () => {
      const store = await open();
      const task = await store.create(ALICE, undefined, signal());
      expect(await store.result(ALICE, task.taskId, signal())).toBeUndefined();
      const finished = await store.finish(
        ALICE,
        task.taskId,
        { status: "completed", result: done("4") },
        signal(),
      );
      expect(finished).toMatchObject({ taskId: task.taskId, status: "completed" });
      expect(
        await store.finish(ALICE, task.taskId, { status: "failed", result: done("no") }, signal()),
      ).toBeUndefined();
      expect(await store.cancel(ALICE, task.taskId, done("no"), signal())).toMatchObject({
        cancelled: false,
        task: { status: "completed" },
      });
      expect(await store.result(ALICE, task.taskId, signal())).toEqual(done("4"));
    });

    it("cancels a working task, keeps the cancellation's result, and ignores the run's late end", async () => {
      const store = await open();
      const task = await store.create(ALICE, undefined, signal());
      const cancelled = await store.cancel(ALICE, task.taskId, done("cancelled"), signal());
      expect(cancelled).toMatchObject({ cancelled: true, task: { status: "cancelled" } });
      expect(cancelled?.task.statusMessage).toBeTruthy();
      expect(await store.cancel(ALICE, task.taskId, done("again"), signal())).toMatchObject({
        cancelled: false,
      });
      expect(
        await store.finish(ALICE, task.taskId, { status: "completed", result: done("late") }, signal()),
      ).toBeUndefined();
      expect(await store.get(ALICE, task.taskId, signal())).toMatchObject({ status: "cancelled" });
      expect(await store.result(ALICE, task.taskId, signal())).toEqual(done("cancelled"));
    });

    it("moves a running task between working and input_required, telling watchers of each move", async () => {
      const store = await open();
      const task = await store.create(ALICE, undefined, signal());
      const heard = vi.fn();
      store.watch(ALICE, task.taskId, heard);
      const waiting = await store.setRunStatus(
        ALICE,
        task.taskId,
        { status: "input_required", statusMessage: "Waiting for approval." },
        signal(),
      );
      expect(waiting).toMatchObject({
        taskId: task.taskId,
        status: "input_required",
        statusMessage: "Waiting for approval.",
      });
      expect(await store.get(ALICE, task.taskId, signal())).toEqual(waiting);
      expect((await store.list(ALICE, undefined, signal())).tasks).toEqual([waiting]);
      await vi.waitFor(() => expect(heard).toHaveBeenCalledTimes(1));
      const back = await store.setRunStatus(ALICE, task.taskId, { status: "working" }, signal());
      expect(back).toMatchObject({ status: "working" });
      expect(back?.statusMessage).toBeUndefined();
      expect(await store.get(ALICE, task.taskId, signal())).toEqual(back);
      await vi.waitFor(() => expect(heard).toHaveBeenCalledTimes(2));
      // Still running: no result yet.
      expect(await store.result(ALICE, task.taskId, signal())).toBeUndefined();
    });

    it("ends an input_required task by finish or cancel exactly as a working one", async () => {
      const store = await open();
      const waiting = { status: "input_required", statusMessage: "Waiting for the client." } as const;
      const finished = await store.create(ALICE, undefined, signal());
      await store.setRunStatus(ALICE, finished.taskId, waiting, signal());
      const done4 = await store.finish(
        ALICE,
        finished.taskId,
        { status: "completed", result: done("4") },
        signal(),
      );
      expect(done4).toMatchObject({ status: "completed" });
      // The wait's message does not outlive the wait.
      expect(done4?.statusMessage).toBeUndefined();
      expect(await store.result(ALICE, finished.taskId, signal())).toEqual(done("4"));
      const cancelled = await store.create(ALICE, undefined, signal());
      await store.setRunStatus(ALICE, cancelled.taskId, waiting, signal());
      expect(await store.cancel(ALICE, cancelled.taskId, done("cancelled"), signal())).toMatchObject({
        cancelled: true,
        task: { status: "cancelled", statusMessage: "Cancelled by the user." },
      });
      expect(await store.result(ALICE, cancelled.taskId, signal())).toEqual(done("cancelled"));
    });

    it("never moves a terminal, unknown, expired or another owner's task, and changes nothing", async () => {
      const store = await open();
      const waiting = { status: "input_required", statusMessage: "Waiting for the client." } as const;
      const completed = await store.create(ALICE, undefined, signal());
      await store.finish(ALICE, completed.taskId, { status: "completed", result: done("ok") }, signal());
      const cancelled = await store.create(ALICE, undefined, signal());
      await store.cancel(ALICE, cancelled.taskId, done("x"), signal());
      for (const task of [completed, cancelled]) {
        const before = await store.get(ALICE, task.taskId, signal());
        expect(await store.setRunStatus(ALICE, task.taskId, waiting, signal())).toBeUndefined();
        expect(await store.setRunStatus(ALICE, task.taskId, { status: "working" }, signal())).toBeUndefined();
        expect(await store.get(ALICE, task.taskId, signal())).toEqual(before);
      }
      const alices = await store.create(ALICE, undefined, signal());
      expect(await store.setRunStatus(BOB, alices.taskId, waiting, signal())).toBeUndefined();
      expect(await store.get(ALICE, alices.taskId, signal())).toEqual(alices);
      expect(await store.get(BOB, alices.taskId, signal())).toBeUndefined();
      for (const id of ["", "../x", "00000000-0000-0000-0000-000000000000"]) {
        expect(await store.setRunStatus(ALICE, id, waiting, signal())).toBeUndefined();
      }
      const brief = await store.create(ALICE, 1_000, signal());
      await vi.waitFor(async () => expect(await store.get(ALICE, brief.taskId, signal())).toBeUndefined(), {
        timeout: 5_000,
        interval: 200,
      });
      expect(await store.setRunStatus(ALICE, brief.taskId, waiting, signal())).toBeUndefined();
      expect(await store.get(ALICE, brief.taskId, signal())).toBeUndefined();
    });

    it("tells watchers of the task's changes, and stops when asked", async () => {
      const store = await open();
      const first = await store.create(ALICE, undefined, signal());
      const second = await store.create(ALICE, undefined, signal());
      const heard = vi.fn();
      const other = vi.fn();
      const stop = store.watch(ALICE, first.taskId, heard);
      store.watch(BOB, second.taskId, other);
      await store.finish(ALICE, first.taskId, { status: "completed", result: done("ok") }, signal());
      await vi.waitFor(() => expect(heard).toHaveBeenCalledTimes(1));
      stop();
      await store.cancel(ALICE, second.taskId, done("x"), signal());
      await delay(100);
      expect(heard).toHaveBeenCalledTimes(1);
      // Bob's watch on Alice's task id is a watch on a task of Bob's that does not exist.
      expect(other).not.toHaveBeenCalled();
    });

    it("lists the owner's tasks newest first, a page at a time, and refuses a foreign cursor", async () => {
      const store = await open({ pageSize: 2 });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await store.create(ALICE, undefined, signal())).taskId);
        await delay(2);
      }
      await store.create(BOB, undefined, signal());
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list(ALICE, cursor, signal());
        expect(page.tasks.length).toBeLessThanOrEqual(2);
        seen.push(...page.tasks.map((task) => task.taskId));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined);
      expect(pages).toBe(3);
      expect(seen).toEqual([...ids].reverse());
      await expectCode(store.list(ALICE, "not-a-cursor", signal()), "TASK_INVALID");
      await expectCode(
        store.list(ALICE, Buffer.from('{"a":1}').toString("base64url"), signal()),
        "TASK_INVALID",
      );
    });

    it("refuses a task past the per-user limit, for that user only, until one expires", async () => {
      const store = await open({ maxTasksPerUser: 2 });
      await store.create(ALICE, 1_000, signal());
      const kept = await store.create(ALICE, 60_000, signal());
      await expectCode(store.create(ALICE, undefined, signal()), "TASK_LIMIT_REACHED");
      // A finished task still holds its slot until it expires (its result is still readable).
      await store.finish(ALICE, kept.taskId, { status: "completed", result: done("ok") }, signal());
      await expectCode(store.create(ALICE, undefined, signal()), "TASK_LIMIT_REACHED");
      expect((await store.list(ALICE, undefined, signal())).tasks).toHaveLength(2);
      await store.create(BOB, undefined, signal());
      await vi.waitFor(async () => expect(await store.create(ALICE, undefined, signal())).toBeDefined(), {
        timeout: 5_000,
        interval: 200,
      });
    });

    it("forgets a task and its result when its lifetime ends", async () => {
      const store = await open();
      const task = await store.create(ALICE, 1_000, signal());
      await store.finish(ALICE, task.taskId, { status: "completed", result: done("ok") }, signal());
      await vi.waitFor(async () => expect(await store.get(ALICE, task.taskId, signal())).toBeUndefined(), {
        timeout: 5_000,
        interval: 200,
      });
      expect(await store.result(ALICE, task.taskId, signal())).toBeUndefined();
      expect(await store.cancel(ALICE, task.taskId, done("x"), signal())).toBeUndefined();
      expect((await store.list(ALICE, undefined, signal())).tasks).toEqual([]);
    });

    it("deletes every task of one owner (erasure), telling their watchers, and nobody else's", async () => {
      const store = await open();
      const first = await store.create(ALICE, undefined, signal());
      const second = await store.create(ALICE, undefined, signal());
      await store.finish(ALICE, second.taskId, { status: "completed", result: done("private") }, signal());
      const bobs = await store.create(BOB, undefined, signal());
      const heard = vi.fn();
      store.watch(ALICE, first.taskId, heard);
      expect(await store.deleteOwner(ALICE, signal())).toBe(2);
      await vi.waitFor(() => expect(heard).toHaveBeenCalled());
      expect(await store.get(ALICE, first.taskId, signal())).toBeUndefined();
      expect(await store.result(ALICE, second.taskId, signal())).toBeUndefined();
      expect((await store.list(ALICE, undefined, signal())).tasks).toEqual([]);
      expect(await store.get(BOB, bobs.taskId, signal())).toEqual(bobs);
      expect(await store.deleteOwner(ALICE, signal())).toBe(0);
      // The owner starts afresh: the limit counts nothing deleted.
      expect(await store.create(ALICE, undefined, signal())).toMatchObject({ status: "working" });
    });

    it("rejects at once with the caller's reason when the caller has given up", async () => {
      const store = await open();
      const controller = new AbortController();
      const reason = new Error("gave up");
      controller.abort(reason);
      await expect(store.create(ALICE, undefined, controller.signal)).rejects.toBe(reason);
      expect((await store.list(ALICE, undefined, signal())).tasks).toEqual([]);
    });
  });
}
