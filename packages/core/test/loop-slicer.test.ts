import { describe, expect, it } from "vitest";
import { createLoopSlicer } from "../src/index.ts";

/** CPU work that cannot be interrupted, as a burst of parsing and checkpointing is. */
function busy(ms: number) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

describe("createLoopSlicer", () => {
  it("lets work through at once while the loop turn is within its budget", async () => {
    const slicer = createLoopSlicer({ budgetMs: 50 });
    const log: string[] = [];
    setImmediate(() => log.push("loop turned"));
    for (let i = 0; i < 5; i++) {
      await slicer.turn();
      log.push(`work ${i}`);
    }
    expect(log).toEqual(["work 0", "work 1", "work 2", "work 3", "work 4"]);
    expect(slicer.waiting).toBe(0);
  });

  it("past the budget, spreads work over later loop turns so timers and I/O run in between", async () => {
    const slicer = createLoopSlicer({ budgetMs: 10 });
    await slicer.turn();
    busy(12); // this loop turn's budget is spent
    const log: string[] = [];
    const probe = new Promise<void>((resolve) =>
      setTimeout(() => {
        log.push("timer");
        resolve();
      }, 0),
    );
    const workers = Array.from({ length: 20 }, async (_, i) => {
      await slicer.turn();
      busy(5);
      log.push(`work ${i}`);
    });
    expect(slicer.waiting).toBe(20);
    await Promise.all([probe, ...workers]);
    // Without slicing all twenty (100 ms of CPU) would run before the timer; with a 10 ms budget
    // a loop turn holds two or three of them.
    expect(log.indexOf("timer")).toBeLessThanOrEqual(4);
    expect(log.filter((entry) => entry.startsWith("work"))).toEqual(
      Array.from({ length: 20 }, (_, i) => `work ${i}`),
    );
  });

  it("lets work that finishes admitted requests go before new requests", async () => {
    const slicer = createLoopSlicer({ budgetMs: 5 });
    await slicer.turn();
    busy(6);
    const order: string[] = [];
    const calls = [
      slicer.turn("admit").then(() => order.push("admit 1")),
      slicer.turn("admit").then(() => order.push("admit 2")),
      slicer.turn("continue").then(() => order.push("continue 1")),
    ];
    await Promise.all(calls);
    expect(order).toEqual(["continue 1", "admit 1", "admit 2"]);
  });

  it("rejects a budget that is not positive", () => {
    expect(() => createLoopSlicer({ budgetMs: 0 })).toThrow(RangeError);
  });
});
