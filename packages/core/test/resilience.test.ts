import { describe, expect, it } from "vitest";
import { CircuitBreaker, createBulkhead, isCoreError, sleep } from "../src/index.ts";

describe("createBulkhead", () => {
  it("never runs more than the configured number of calls at once", async () => {
    const bulkhead = createBulkhead({ concurrency: 3 });
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        bulkhead.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(2);
          running--;
        }),
      ),
    );
    expect(peak).toBe(3);
  });

  it("fails fast with BULKHEAD_FULL once the wait queue is full", async () => {
    const bulkhead = createBulkhead({ concurrency: 1, maxQueue: 1 });
    const first = bulkhead.run(() => sleep(20));
    const second = bulkhead.run(() => sleep(1));
    await Promise.resolve();
    const third = await bulkhead.run(() => sleep(1)).catch((e: unknown) => e);
    expect(isCoreError(third) && third.code).toBe("BULKHEAD_FULL");
    await Promise.all([first, second]);
  });

  it("with maxQueue 0 runs calls while a slot is free and refuses only when all are busy", async () => {
    const bulkhead = createBulkhead({ concurrency: 2, maxQueue: 0 });
    const running = [bulkhead.run(() => sleep(20)), bulkhead.run(() => sleep(20))];
    const refused = await bulkhead.run(() => sleep(1)).catch((e: unknown) => e);
    expect(isCoreError(refused) && refused.code).toBe("BULKHEAD_FULL");
    await Promise.all(running);
    await expect(bulkhead.run(async () => "free again")).resolves.toBe("free again");
  });

  it("does not start a queued call whose caller aborted while it waited", async () => {
    const bulkhead = createBulkhead({ concurrency: 1 });
    const controller = new AbortController();
    let started = false;
    const first = bulkhead.run(() => sleep(20));
    const queued = bulkhead.run(async () => {
      started = true;
    }, controller.signal);
    controller.abort(new Error("gone"));
    await expect(queued).rejects.toThrow("gone");
    await first;
    expect(started).toBe(false);
  });
});

describe("CircuitBreaker", () => {
  const failing = () => Promise.reject(new Error("down"));

  it("opens after the failure threshold and fails fast without calling the backend", async () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeoutMs: 1000, now: () => now });
    await expect(breaker.execute(failing)).rejects.toThrow("down");
    await expect(breaker.execute(failing)).rejects.toThrow("down");
    expect(breaker.state).toBe("open");
    let called = false;
    const error = await breaker
      .execute(async () => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(isCoreError(error) && error.code).toBe("CIRCUIT_OPEN");
    expect(called).toBe(false);
    now = 500;
    expect(breaker.state).toBe("open");
  });

  it("lets one probe through after the reset timeout and closes on success", async () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 100, now: () => now });
    await breaker.execute(failing).catch(() => {});
    now = 100;
    expect(breaker.state).toBe("half-open");
    let release!: () => void;
    const probe = breaker.execute(() => new Promise<string>((resolve) => (release = () => resolve("ok"))));
    const concurrent = await breaker.execute(async () => "second").catch((e: unknown) => e);
    expect(isCoreError(concurrent) && concurrent.code).toBe("CIRCUIT_OPEN");
    release();
    await expect(probe).resolves.toBe("ok");
    expect(breaker.state).toBe("closed");
  });

  it("re-opens when the probe fails", async () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 100, now: () => now });
    await breaker.execute(failing).catch(() => {});
    now = 150;
    await expect(breaker.execute(failing)).rejects.toThrow("down");
    expect(breaker.state).toBe("open");
  });

  it("ignores failures that are the caller's fault", async () => {
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      isFailure: (e) => (e as Error).message !== "bad input",
    });
    await expect(breaker.execute(() => Promise.reject(new Error("bad input")))).rejects.toThrow("bad input");
    expect(breaker.state).toBe("closed");
  });
});
