import type { Logger } from "@mcp-langgraph/core";
import type { Lease } from "@mcp-langgraph/session";
import { ConfigError } from "./config.js";

/** A periodic job: `run` gets a signal that aborts at its deadline, on shutdown, or when its lease is lost. */
export interface MaintenanceJob {
  /** Names its lease: the same on every instance. Letters, digits and `-` (at most 64). */
  name: string;
  /** Time between two runs, across all instances. */
  intervalMs: number;
  /** Deadline of one run. */
  timeoutMs: number;
  /** What the run did (counts), for the log. */
  run(signal: AbortSignal): Promise<Record<string, number> | undefined>;
}

/** Takes a lease if nobody holds it; session's `RedisLocks` fits as is. */
export interface JobLeases {
  tryLease(name: string, options: { ttlMs: number; signal?: AbortSignal }): Promise<Lease | undefined>;
}

export interface MaintenanceSchedulerOptions {
  jobs: MaintenanceJob[];
  /** Shared leases (SESSION_BACKEND=redis): each job runs on one instance at a time. None: in this process only. */
  leases?: JobLeases;
  logger: Logger;
  /** Deadline of the call that takes a lease. Default 2000 ms. */
  leaseTimeoutMs?: number;
}

const JOB_NAME = /^[A-Za-z0-9-]{1,64}$/;
/** Node timers fire at once beyond this (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

export interface MaintenanceScheduler {
  /** Stops the timers, aborts the runs in progress and waits for them to end. */
  stop(): Promise<void>;
}

/**
 * Runs periodic maintenance (ADR 0178). With leases, a job's lease is taken for one interval at
 * each run and kept to its end, renewed while the run lasts: no other instance runs the job
 * until an interval has passed since this run began, and when the holder dies its lease expires
 * and the next instance that asks takes over. Instances ask four times per interval, so a run
 * follows the previous one within an interval and a quarter. Without leases (one process)
 * each job simply runs every interval.
 */
export function startMaintenance(options: MaintenanceSchedulerOptions): MaintenanceScheduler {
  const names = new Set<string>();
  for (const job of options.jobs) {
    if (!JOB_NAME.test(job?.name ?? "") || names.has(job.name)) {
      throw new ConfigError(`a maintenance job needs a unique name of A-Z, a-z, 0-9 or - (got ${job?.name})`);
    }
    names.add(job.name);
    for (const [field, value] of [
      ["intervalMs", job.intervalMs],
      ["timeoutMs", job.timeoutMs],
    ] as const) {
      if (!Number.isInteger(value) || value < 100 || value > MAX_TIMER_MS) {
        throw new ConfigError(
          `maintenance job ${job.name}: ${field} must be an integer from 100 to ${MAX_TIMER_MS}`,
        );
      }
    }
  }
  const { leases, logger } = options;
  const leaseTimeoutMs = options.leaseTimeoutMs ?? 2_000;
  const stopping = new AbortController();
  const running = new Set<Promise<void>>();
  const busy = new Set<string>();

  const attempt = async (job: MaintenanceJob) => {
    if (busy.has(job.name) || stopping.signal.aborted) return;
    busy.add(job.name);
    let lease: Lease | undefined;
    try {
      if (leases) {
        lease = await leases.tryLease(`maintenance:${job.name}`, {
          ttlMs: job.intervalMs,
          signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(leaseTimeoutMs)]),
        });
        // Another instance runs it, or ran it less than an interval ago.
        if (!lease) return;
      }
      const signal = AbortSignal.any([
        stopping.signal,
        AbortSignal.timeout(job.timeoutMs),
        ...(lease ? [lease.signal] : []),
      ]);
      const counts = await job.run(signal);
      logger.info({ job: job.name, ...counts }, "maintenance job finished");
      // Kept until it expires, one interval after it was taken (or last renewed): no other
      // instance runs the job again within this interval.
      lease?.stopRenewing();
    } catch (error) {
      const reason = stopping.signal.aborted ? "stopped" : lease?.signal.aborted ? "lease lost" : "failed";
      logger.warn({ job: job.name, reason, err: error }, "maintenance job did not finish");
      // An interrupted run is not a run: the next instance may start over at once.
      await lease?.release();
    } finally {
      busy.delete(job.name);
    }
  };

  const track = (job: MaintenanceJob) => {
    const run = attempt(job);
    running.add(run);
    void run.finally(() => running.delete(run));
  };

  const timers = options.jobs.map((job) => {
    const every = leases ? Math.max(25, Math.floor(job.intervalMs / 4)) : job.intervalMs;
    const timer = setInterval(() => track(job), every);
    // Maintenance never keeps a process alive on its own.
    timer.unref();
    return timer;
  });
  // With leases, the first attempt is at start: the instance that wins runs it, the others wait.
  if (leases) for (const job of options.jobs) track(job);

  return {
    async stop() {
      for (const timer of timers) clearInterval(timer);
      stopping.abort();
      await Promise.allSettled([...running]);
    },
  };
}
