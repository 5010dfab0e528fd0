import { describe, expect, it } from "vitest";
import { sharedDeadline } from "../src/shared-deadline.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("sharedDeadline", () => {
  it("hands callers of one window the same signal, and a fresh one after it", async () => {
    const deadline = sharedDeadline(1_000, 30);
    const first = deadline();
    expect(deadline()).toBe(first);
    await sleep(40);
    expect(deadline()).not.toBe(first);
  });

  it("aborts with a TimeoutError, no earlier than timeoutMs", async () => {
    const deadline = sharedDeadline(40, 20);
    const signal = deadline();
    const started = performance.now();
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(39);
    expect((signal.reason as Error).name).toBe("TimeoutError");
  });
});
