import { describe, expect, it } from "vitest";
import { createFairBulkhead, isCoreError } from "../src/index.ts";

/** An operation that runs until the test lets it finish. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, run: () => opened };
}

const refusal = (error: unknown) =>
  isCoreError(error) ? { code: error.code, limit: error.details?.limit } : { code: String(error) };

describe("createFairBulkhead", () => {
  it("runs up to `concurrency` operations at once and queues the rest", async () => {
    const bulkhead = createFairBulkhead({ concurrency: 2, maxQueue: 10, maxPerKey: 10 });
    const g = gate();
    let started = 0;
    const calls = Array.from({ length: 5 }, () =>
      bulkhead.run("a", async () => {
        started++;
        await g.run();
      }),
    );
    expect(started).toBe(2);
    expect(bulkhead.active).toBe(2);
    expect(bulkhead.queued).toBe(3);
    g.open();
    await Promise.all(calls);
    expect(started).toBe(5);
    expect(bulkhead.active).toBe(0);
    expect(bulkhead.queued).toBe(0);
    expect(bulkhead.heldBy("a")).toBe(0);
  });

  it("refuses a key past maxPerKey at once, while other keys still get in", async () => {
    const bulkhead = createFairBulkhead({ concurrency: 10, maxQueue: 10, maxPerKey: 2 });
    const g = gate();
    const held = [bulkhead.run("greedy", g.run), bulkhead.run("greedy", g.run)];
    const refused = await bulkhead.run("greedy", g.run).catch((error: unknown) => error);
    expect(refusal(refused)).toEqual({ code: "BULKHEAD_FULL", limit: "perKey" });
    const other = bulkhead.run("polite", async () => "in");
    await expect(other).resolves.toBe("in");
    g.open();
    await Promise.all(held);
    // Capacity returns once the key's calls end.
    await expect(bulkhead.run("greedy", async () => "again")).resolves.toBe("again");
  });

  it("refuses with limit 'queue' when every slot is busy and the queue is full", async () => {
    const bulkhead = createFairBulkhead({ concurrency: 1, maxQueue: 1, maxPerKey: 10 });
    const g = gate();
    const running = bulkhead.run("a", g.run);
    const waiting = bulkhead.run("b", async () => "waited");
    const refused = await bulkhead.run("c", g.run).catch((error: unknown) => error);
    expect(refusal(refused)).toEqual({ code: "BULKHEAD_FULL", limit: "queue" });
    g.open();
    await running;
    await expect(waiting).resolves.toBe("waited");
  });

  it("with maxQueue 0 admits while a slot is free and refuses only when all are busy", async () => {
    const bulkhead = createFairBulkhead({ concurrency: 1, maxQueue: 0, maxPerKey: 5 });
    const g = gate();
    const running = bulkhead.run("a", g.run);
    expect(refusal(await bulkhead.run("b", g.run).catch((error: unknown) => error)).limit).toBe("queue");
    g.open();
    await running;
    await expect(bulkhead.run("b", async () => "free")).resolves.toBe("free");
  });

  it("hands freed slots to waiting keys in turn, not in arrival order", async () => {
    const bulkhead = createFairBulkhead({ concurrency: 1, maxQueue: 100, maxPerKey: 100 });
    const order: string[] = [];
    const first = gate();
    const running = bulkhead.run("busy", first.run);
    // One key queues many calls before another key queues two.
    const calls = [
      ...Array.from({ length: 4 }, (_, i) => bulkhead.run("many", async () => void order.push(`many${i}`))),
      ...Array.from({ length: 2 }, (_, i) => bulkhead.run("few", async () => void order.push(`few${i}`))),
    ];
    first.open();
    await Promise.all([running, ...calls]);
    expect(order).toEqual(["many0", "few0", "many1", "few1", "many2", "many3"]);
  });

  it("a waiter whose signal aborts leaves the queue, frees its place and never runs", async () => {
    const bulkhead = createFairBulkhead({ concurrency: 1, maxQueue: 1, maxPerKey: 1 });
    const g = gate();
    const running = bulkhead.run("a", g.run);
    const controller = new AbortController();
    let ran = false;
    const waiting = bulkhead.run(
      "b",
      async () => {
        ran = true;
      },
      controller.signal,
    );
    controller.abort(new Error("client went away"));
    await expect(waiting).rejects.toThrow("client went away");
    expect(bulkhead.queued).toBe(0);
    expect(bulkhead.heldBy("b")).toBe(0);
    // Both the queue place and the key's place are free again.
    const next = bulkhead.run("b", async () => "next");
    g.open();
    await running;
    await expect(next).resolves.toBe("next");
    expect(ran).toBe(false);
  });

  it("an operation that throws frees its slot", async () => {
    const bulkhead = createFairBulkhead({ concurrency: 1, maxQueue: 0, maxPerKey: 1 });
    await expect(bulkhead.run("a", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(bulkhead.run("a", async () => "ok")).resolves.toBe("ok");
  });

  it("rejects nonsensical bounds at construction", () => {
    expect(() => createFairBulkhead({ concurrency: 0, maxQueue: 0, maxPerKey: 1 })).toThrow(RangeError);
    expect(() => createFairBulkhead({ concurrency: 1, maxQueue: -1, maxPerKey: 1 })).toThrow(RangeError);
    expect(() => createFairBulkhead({ concurrency: 1, maxQueue: 0, maxPerKey: 1.5 })).toThrow(RangeError);
  });
});
