import { describe, expect, it } from "vitest";
import { deadlineSignal, isCoreError, raceAbort, raceDeadline, sleep, withDeadline } from "../src/index.ts";

describe("withDeadline", () => {
  it("returns the operation's result when it finishes in time", async () => {
    await expect(withDeadline(async () => 42, { timeoutMs: 1000 })).resolves.toBe(42);
  });

  it("ends an operation that ignores its signal with a typed timeout", async () => {
    const never = new Promise<never>(() => {});
    const error = await withDeadline(() => never, { timeoutMs: 20 }).catch((e: unknown) => e);
    expect(isCoreError(error) && error.code).toBe("TIMEOUT");
  });

  it("aborts the operation's signal at the deadline so it can cancel its I/O", async () => {
    let seen: AbortSignal | undefined;
    await withDeadline(
      (signal) => {
        seen = signal;
        return sleep(10_000, signal);
      },
      { timeoutMs: 20 },
    ).catch(() => {});
    expect(seen?.aborted).toBe(true);
  });

  it("uses the caller's error factory for timeouts", async () => {
    const error = await withDeadline(() => sleep(1000), {
      timeoutMs: 10,
      onTimeout: (ms) => new RangeError(`late after ${ms}`),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe("late after 10");
  });

  it("rethrows the caller's abort reason, not a timeout", async () => {
    const controller = new AbortController();
    const reason = new Error("client went away");
    setTimeout(() => controller.abort(reason), 10);
    await expect(
      withDeadline((s) => sleep(5000, s), { timeoutMs: 5000, signal: controller.signal }),
    ).rejects.toBe(reason);
  });

  it("refuses to start when the caller already aborted", async () => {
    let started = false;
    const aborted = AbortSignal.abort(new Error("gone"));
    await expect(
      withDeadline(
        async () => {
          started = true;
        },
        { timeoutMs: 100, signal: aborted },
      ),
    ).rejects.toThrow("gone");
    expect(started).toBe(false);
  });
});

describe("deadlineSignal and raceAbort", () => {
  it("combines a parent signal with a timeout", async () => {
    const parent = new AbortController();
    const signal = deadlineSignal(10_000, parent.signal);
    expect(signal.aborted).toBe(false);
    parent.abort(new Error("parent"));
    expect(signal.aborted).toBe(true);
    expect(deadlineSignal(5).aborted).toBe(false);
    await sleep(20);
  });

  it("settles with the promise when the signal stays quiet", async () => {
    await expect(raceAbort(Promise.resolve("ok"), new AbortController().signal)).resolves.toBe("ok");
    await expect(raceAbort(Promise.reject(new Error("boom")), new AbortController().signal)).rejects.toThrow(
      "boom",
    );
  });
});

describe("raceDeadline", () => {
  it("settles like the promise when it is on time", async () => {
    await expect(raceDeadline(Promise.resolve(7), { timeoutMs: 100 })).resolves.toBe(7);
    await expect(raceDeadline(Promise.reject(new Error("no")), { timeoutMs: 100 })).rejects.toThrow("no");
  });

  it("stops waiting at the deadline with the caller's timeout error", async () => {
    const error = await raceDeadline(new Promise(() => {}), {
      timeoutMs: 10,
      onTimeout: (ms) => new RangeError(`slow after ${ms}`),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
  });

  it("stops waiting when the caller aborts, with the caller's reason", async () => {
    const controller = new AbortController();
    const reason = new Error("gone");
    setTimeout(() => controller.abort(reason), 5);
    await expect(
      raceDeadline(new Promise(() => {}), { timeoutMs: 5000, signal: controller.signal }),
    ).rejects.toBe(reason);
    await expect(
      raceDeadline(Promise.resolve(1), { timeoutMs: 10, signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
  });
});
