import { randomUUID } from "node:crypto";
import { type Logger, noopLogger, sleep } from "@mcp-langgraph/core";
import { isSessionError, RedisLocks } from "@mcp-langgraph/session";
import { REDIS_URL } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { createClient } from "redis";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../src/config.ts";
import { type MaintenanceJob, type MaintenanceScheduler, startMaintenance } from "../src/maintenance.ts";

const redisUp = await requireService({ name: "Redis", url: REDIS_URL });

interface Run {
  who: string;
  start: number;
  end?: number;
  aborted?: unknown;
}

/** A job that records its runs in `runs`; each run lasts `holdMs`, or until its signal aborts when undefined. */
function recordingJob(who: string, runs: Run[], intervalMs: number, holdMs?: number): MaintenanceJob {
  return {
    name: "recorded",
    intervalMs,
    timeoutMs: 60_000,
    async run(signal) {
      const run: Run = { who, start: performance.now() };
      runs.push(run);
      try {
        await sleep(holdMs ?? 3_600_000, signal);
      } catch (error) {
        run.aborted = signal.reason;
        throw error;
      } finally {
        run.end = performance.now();
      }
      return { held: 1 };
    },
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1_000 && !condition(); i++) await sleep(20);
  if (!condition()) throw new Error(`timed out waiting until ${what}`);
}

function warnings(): { logger: Logger; warned: unknown[] } {
  const warned: unknown[] = [];
  return { logger: { ...noopLogger, warn: (fields: unknown) => void warned.push(fields) }, warned };
}

const schedulers: MaintenanceScheduler[] = [];
const clients: { destroy(): void }[] = [];

async function leases(prefix: string) {
  const client = createClient({ url: REDIS_URL, disableOfflineQueue: true });
  client.on("error", () => {});
  await client.connect();
  clients.push(client);
  return { client, locks: new RedisLocks({ client, keyPrefix: prefix, commandTimeoutMs: 500 }) };
}

afterEach(async () => {
  await Promise.allSettled(schedulers.splice(0).map((scheduler) => scheduler.stop()));
  for (const client of clients.splice(0)) client.destroy();
});

describe.skipIf(!redisUp)("maintenance jobs with Redis leases (SESSION_BACKEND=redis)", () => {
  it("two instances never run a job at once, nor twice within one interval", async () => {
    const prefix = `mcp-http-test:${randomUUID()}:lock:`;
    const intervalMs = 400;
    const runs: Run[] = [];
    for (const who of ["a", "b"]) {
      const { locks } = await leases(prefix);
      schedulers.push(
        startMaintenance({
          jobs: [recordingJob(who, runs, intervalMs, 60)],
          leases: locks,
          logger: noopLogger,
        }),
      );
    }
    await until(() => runs.filter((run) => run.end !== undefined).length >= 5, "five runs ended");
    await Promise.all(schedulers.splice(0).map((scheduler) => scheduler.stop()));

    const ended = runs.filter((run) => run.end !== undefined && run.aborted === undefined);
    for (let i = 1; i < ended.length; i++) {
      const previous = ended[i - 1] as Run;
      const run = ended[i] as Run;
      // Never overlapping, and a lease of one interval between two starts (less a margin for the
      // round trip between taking the lease and recording the start).
      expect(run.start).toBeGreaterThanOrEqual(previous.end as number);
      expect(run.start - previous.start).toBeGreaterThanOrEqual(intervalMs * 0.75);
    }
  });

  it("when the holder dies, another instance takes over once its lease expires, never before", async () => {
    const prefix = `mcp-http-test:${randomUUID()}:lock:`;
    const intervalMs = 600;
    const runs: Run[] = [];
    const a = await leases(prefix);
    schedulers.push(
      startMaintenance({ jobs: [recordingJob("a", runs, intervalMs)], leases: a.locks, logger: noopLogger }),
    );
    await until(() => runs.length === 1, "a started");
    const b = await leases(prefix);
    schedulers.push(
      startMaintenance({ jobs: [recordingJob("b", runs, intervalMs)], leases: b.locks, logger: noopLogger }),
    );
    // While a runs, it renews its lease: b asks several times and never gets it.
    await sleep(intervalMs * 2.5);
    expect(runs.map((run) => run.who)).toEqual(["a"]);

    // a's process "dies": its connection to Redis is gone, so it can no longer renew.
    a.client.destroy();
    await until(() => runs.length === 2, "b took over");
    const [dead, successor] = runs as [Run, Run];
    expect(successor.who).toBe("b");
    // The dead holder's run was told it lost the lease before the successor began.
    expect(isSessionError(dead.aborted) && dead.aborted.code).toBe("SESSION_LOCK_LOST");
    expect(dead.end as number).toBeLessThanOrEqual(successor.start);
  });

  it("runs nothing when Redis cannot be reached: no lease, no run", async () => {
    const { client, locks } = await leases(`mcp-http-test:${randomUUID()}:lock:`);
    client.destroy();
    const runs: Run[] = [];
    const { logger, warned } = warnings();
    schedulers.push(startMaintenance({ jobs: [recordingJob("a", runs, 200, 10)], leases: locks, logger }));
    await until(() => warned.length >= 3, "three attempts failed");
    expect(runs).toEqual([]);
    expect(warned[0]).toMatchObject({ job: "recorded", reason: "failed" });
  });
});

describe("maintenance jobs in one process (SESSION_BACKEND=memory)", () => {
  it("runs each job every interval, and stop() aborts a run in progress and ends the schedule", async () => {
    const runs: Run[] = [];
    let calls = 0;
    const job: MaintenanceJob = {
      name: "in-process",
      intervalMs: 100,
      timeoutMs: 60_000,
      async run(signal) {
        calls++;
        // The third run lasts until it is stopped.
        return recordingJob("a", runs, 100, calls < 3 ? 1 : undefined).run(signal);
      },
    };
    const scheduler = startMaintenance({ jobs: [job], logger: noopLogger });
    await until(() => runs.length === 3, "three runs started");
    await scheduler.stop();
    expect(runs.slice(0, 2).every((run) => run.aborted === undefined)).toBe(true);
    expect((runs[2] as Run).aborted).toBeDefined();
    expect((runs[2] as Run).end).toBeDefined();
    const count = runs.length;
    await sleep(300);
    expect(runs.length).toBe(count);
  });

  it("cuts a run at its deadline", async () => {
    const runs: Run[] = [];
    const { logger, warned } = warnings();
    const scheduler = startMaintenance({
      jobs: [{ ...recordingJob("a", runs, 100), timeoutMs: 150 }],
      logger,
    });
    schedulers.push(scheduler);
    await until(() => warned.length >= 1, "a run failed");
    expect((runs[0] as Run).aborted).toBeInstanceOf(DOMException);
    expect(((runs[0] as Run).aborted as DOMException).name).toBe("TimeoutError");
  });

  it("refuses bad job definitions and schedules nothing", () => {
    const good = recordingJob("a", [], 1_000, 1);
    for (const jobs of [
      [{ ...good, name: "" }],
      [{ ...good, name: "has space" }],
      [{ ...good, name: "x".repeat(65) }],
      [good, { ...good }],
      [{ ...good, intervalMs: 50 }],
      [{ ...good, intervalMs: 1.5e3 + 0.5 }],
      [{ ...good, timeoutMs: Number.NaN }],
      [{ ...good, intervalMs: 3_000_000_000 }],
    ]) {
      expect(() => startMaintenance({ jobs, logger: noopLogger })).toThrow(ConfigError);
    }
  });
});
