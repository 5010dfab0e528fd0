import { type CallToolResult, RELATED_TASK_META_KEY, type ServerContext } from "@modelcontextprotocol/server";
import { describe, expect, it, vi } from "vitest";
import { createMemoryTaskStore, type StoredTask, type TaskStore } from "../src/index.ts";
import { taskInputWaits, withTaskInputWaits } from "../src/tasks/task-input-waits.ts";

const ALICE = "user:alice";
const signal = () => AbortSignal.timeout(5_000);
const done: CallToolResult = { content: [{ type: "text", text: "done" }] };

/** A promise with its resolve and reject, for requests the test answers when it chooses. */
function pending<T>() {
  let resolve = (_value: T) => {};
  let reject = (_error: unknown) => {};
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

async function setup(store: TaskStore = createMemoryTaskStore()) {
  const task = await store.create(ALICE, undefined, signal());
  const told: StoredTask[] = [];
  const failures: unknown[] = [];
  const waits = taskInputWaits({
    store,
    ownerId: ALICE,
    taskId: task.taskId,
    onStatus: (changed) => told.push(changed),
    reportFailure: (_what, error) => failures.push(error),
    signal: signal(),
  });
  const status = async () => (await store.get(ALICE, task.taskId, signal()))?.status;
  return { store, task, told, failures, waits, status };
}

describe("taskInputWaits", () => {
  it("stores input_required before the request goes out, and working once it is answered", async () => {
    const { waits, status, told } = await setup();
    const answer = pending<string>();
    let statusWhenSent: string | undefined;
    const waited = waits.around("Waiting for approval.", async () => {
      statusWhenSent = await status();
      return answer.promise;
    });
    await vi.waitFor(() => expect(statusWhenSent).toBe("input_required"));
    answer.resolve("yes");
    expect(await waited).toBe("yes");
    await waits.settled();
    expect(await status()).toBe("working");
    expect(told.map((task) => [task.status, task.statusMessage])).toEqual([
      ["input_required", "Waiting for approval."],
      ["working", undefined],
    ]);
  });

  it("stays input_required until the last of several overlapping waits is answered", async () => {
    const { waits, status, told } = await setup();
    const first = pending<string>();
    const second = pending<string>();
    const sent: string[] = [];
    const one = waits.around("Waiting (1).", () => {
      sent.push("first");
      return first.promise;
    });
    const two = waits.around("Waiting (2).", () => {
      sent.push("second");
      return second.promise;
    });
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    first.resolve("a");
    await one;
    await waits.settled();
    expect(await status()).toBe("input_required");
    second.resolve("b");
    await two;
    await waits.settled();
    expect(await status()).toBe("working");
    expect(told.map((task) => task.status)).toEqual(["input_required", "working"]);
  });

  it("ends the wait when the request fails, passing its error on", async () => {
    const { waits, status } = await setup();
    const refused = new Error("timed out");
    await expect(waits.around("Waiting.", () => Promise.reject(refused))).rejects.toBe(refused);
    await waits.settled();
    expect(await status()).toBe("working");
  });

  it("leaves a task cancelled during the wait cancelled, and tells nobody of it", async () => {
    const { store, task, waits, status, told } = await setup();
    const answer = pending<string>();
    const waited = waits.around("Waiting.", () => answer.promise);
    await vi.waitFor(async () => expect(await status()).toBe("input_required"));
    await store.cancel(ALICE, task.taskId, done, signal());
    answer.resolve("late");
    await waited;
    await waits.settled();
    expect(await status()).toBe("cancelled");
    expect(told.map((each) => each.status)).toEqual(["input_required"]);
  });

  it("still sends the request when the store cannot record the wait, and reports the failure", async () => {
    const store = createMemoryTaskStore();
    const broken: TaskStore = {
      ...store,
      setRunStatus: () => Promise.reject(new Error("store down")),
    };
    const { waits, failures, told } = await setup(broken);
    expect(await waits.around("Waiting.", async () => "answered")).toBe("answered");
    await waits.settled();
    // Both moves (to input_required and back) were tried and reported.
    expect(failures).toEqual([
      expect.objectContaining({ message: "store down" }),
      expect.objectContaining({ message: "store down" }),
    ]);
    expect(told).toEqual([]);
  });
});

describe("withTaskInputWaits", () => {
  it("marks the run's elicitation and sampling requests as the task's and waits around them", async () => {
    const { waits, task, status } = await setup();
    const seen: { method: string; params: Record<string, unknown>; status?: string }[] = [];
    const base = {
      mcpReq: {
        elicitInput: async (params: Record<string, unknown>) => {
          seen.push({ method: "elicit", params, status: await status() });
          return { action: "accept" };
        },
        requestSampling: async (params: Record<string, unknown>) => {
          seen.push({ method: "sample", params, status: await status() });
          return { role: "assistant", content: { type: "text", text: "hi" }, model: "m" };
        },
      },
    } as unknown as ServerContext;
    const ctx = withTaskInputWaits(base, task.taskId, waits);
    await ctx.mcpReq.elicitInput({
      mode: "form",
      message: "ok?",
      requestedSchema: { type: "object", properties: {} },
      _meta: { keep: 1 },
    });
    await ctx.mcpReq.requestSampling({ messages: [], maxTokens: 5 });
    await waits.settled();
    expect(seen.map((each) => [each.method, each.status])).toEqual([
      ["elicit", "input_required"],
      ["sample", "input_required"],
    ]);
    expect(seen[0]?.params._meta).toEqual({ keep: 1, [RELATED_TASK_META_KEY]: { taskId: task.taskId } });
    expect(seen[1]?.params._meta).toEqual({ [RELATED_TASK_META_KEY]: { taskId: task.taskId } });
    expect(await status()).toBe("working");
  });
});
