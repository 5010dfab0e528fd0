import { describe, expect, it } from "vitest";
import { createRateCounter } from "../src/index.ts";

const signal = () => AbortSignal.timeout(5_000);

describe("rate counter", () => {
  it("allows `points` per window, then refuses with the time to the window's end", async () => {
    const counter = createRateCounter({ backend: "memory" }, { name: "t", points: 2, durationSeconds: 60 });
    expect((await counter.consume("k", signal())).allowed).toBe(true);
    expect((await counter.consume("k", signal())).allowed).toBe(true);
    const refused = await counter.consume("k", signal());
    expect(refused.allowed).toBe(false);
    expect(refused.msBeforeReset).toBeGreaterThan(0);
    expect(refused.msBeforeReset).toBeLessThanOrEqual(60_000);
    expect((await counter.consume("other", signal())).allowed).toBe(true);
    await counter.reset("k", signal());
    expect(await counter.peek("k", signal())).toEqual({ consumed: 0, msBeforeReset: 0 });
  });

  it("adds and refunds points without deciding", async () => {
    const counter = createRateCounter({ backend: "memory" }, { name: "t", points: 10, durationSeconds: 60 });
    await counter.add("k", 12, signal());
    expect((await counter.peek("k", signal())).consumed).toBe(12);
    await counter.refund("k", 3, signal());
    expect((await counter.peek("k", signal())).consumed).toBe(9);
  });

  it.each([
    [{ name: "bad name", points: 1, durationSeconds: 1 }, /name/],
    [{ name: "t", points: 0, durationSeconds: 1 }, /points/],
    [{ name: "t", points: 1, durationSeconds: 0.5 }, /durationSeconds/],
  ])("refuses invalid options %j", (options, message) => {
    expect(() => createRateCounter({ backend: "memory" }, options)).toThrow(message);
  });
  // A Redis that goes down is tested with a real one in auth-provider's login-throttle test.
});
