import { describe, expect, it } from "vitest";
import { backoffDelay, retry } from "../src/index.ts";

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs?: number,
  ) {
    super(`HTTP ${status}`);
  }
}

const classifyHttp = (error: unknown) => {
  const status = (error as HttpError).status;
  return { retry: status === 429 || status >= 500, retryAfterMs: (error as HttpError).retryAfterMs };
};

describe("retry", () => {
  it("retries retryable failures and returns the first success", async () => {
    const statuses = [503, 429];
    let attempts = 0;
    const result = await retry(
      async () => {
        attempts++;
        const status = statuses.shift();
        if (status) throw new HttpError(status);
        return "done";
      },
      { retries: 3, baseDelayMs: 1, classify: classifyHttp },
    );
    expect(result).toBe("done");
    expect(attempts).toBe(3);
  });

  it("does not retry a failure the classifier rejects", async () => {
    let attempts = 0;
    await expect(
      retry(
        async () => {
          attempts++;
          throw new HttpError(401);
        },
        { retries: 5, baseDelayMs: 1, classify: classifyHttp },
      ),
    ).rejects.toThrow("HTTP 401");
    expect(attempts).toBe(1);
  });

  it("gives up after the configured retries with the last error", async () => {
    let attempts = 0;
    await expect(
      retry(
        async () => {
          attempts++;
          throw new HttpError(500 + attempts);
        },
        { retries: 2, baseDelayMs: 1, classify: classifyHttp },
      ),
    ).rejects.toThrow("HTTP 503");
    expect(attempts).toBe(3);
  });

  it("waits at least the server's Retry-After", async () => {
    const delays: number[] = [];
    let attempts = 0;
    await retry(
      async () => {
        if (attempts++ === 0) throw new HttpError(429, 30);
        return true;
      },
      { retries: 1, baseDelayMs: 1, classify: classifyHttp, onRetry: (_e, _a, delay) => delays.push(delay) },
    );
    expect(delays).toEqual([30]);
  });

  it("stops waiting when the caller aborts", async () => {
    const controller = new AbortController();
    const pending = retry(
      async () => {
        throw new HttpError(500, 10_000);
      },
      { retries: 3, classify: classifyHttp, signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error("cancelled")), 10);
    await expect(pending).rejects.toThrow("cancelled");
  });

  it("computes full-jitter backoff bounded by the maximum", () => {
    expect(backoffDelay(0, 100, 1000, () => 0.999)).toBe(99);
    expect(backoffDelay(3, 100, 1000, () => 0.5)).toBe(400);
    expect(backoffDelay(10, 100, 1000, () => 0.999)).toBe(999);
    expect(backoffDelay(4, 100, 1000, () => 0)).toBe(0);
  });
});
