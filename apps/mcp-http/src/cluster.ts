import cluster, { type Worker } from "node:cluster";
import { backoffDelay, type Logger } from "@mcp-langgraph/core";

export interface PrimaryOptions {
  workers: number;
  /** The URL the workers serve, announced once all listen. */
  url: (port: number) => string;
  /** Each worker's own drain deadline; the primary waits that long and a margin, then kills stragglers. */
  drainTimeoutMs: number;
  logger: Logger;
}

/** A worker that lived this long before dying starts its restart backoff afresh. */
const HEALTHY_LIFETIME_MS = 60_000;
const RESTART_BASE_DELAY_MS = 500;
const RESTART_MAX_DELAY_MS = 30_000;
/** After the workers' drain deadline, time for them to close their backends before they are killed. */
const EXIT_MARGIN_MS = 5_000;

/**
 * The primary of `WORKERS=n` (ADR 0166): forks n workers that share the port (node:cluster hands
 * connections out round-robin), serves no request itself, restarts a worker that dies unexpectedly
 * (with backoff), and on SIGTERM/SIGINT lets every worker run its own drain and exits when all have.
 * A worker that fails before the first start-up completed stops everything: the same configuration
 * would fail again.
 */
export function runPrimary({ workers, url, drainTimeoutMs, logger }: PrimaryOptions): void {
  let stopping = false;
  let started = false;
  let failed = false;
  const listening = new Set<number>();
  const crashes = new Map<number, number>();
  const bornAt = new Map<Worker, number>();

  const fork = (slot: number) => {
    const worker = cluster.fork();
    bornAt.set(worker, performance.now());
    worker.once("listening", (address) => {
      logger.info({ slot, pid: worker.process.pid }, "worker listening");
      listening.add(slot);
      if (!started && listening.size === workers) {
        started = true;
        process.stderr.write(`mcp-langgraph listening on ${url(address.port)}/mcp (${workers} workers)\n`);
      }
    });
    worker.once("exit", (code, signal) => {
      const lived = performance.now() - (bornAt.get(worker) ?? 0);
      bornAt.delete(worker);
      listening.delete(slot);
      if (stopping) return exitWhenAllGone();
      if (!started) {
        failed = true;
        logger.error({ slot, code, signal }, "a worker failed during start-up: stopping");
        return stop();
      }
      const attempt = lived > HEALTHY_LIFETIME_MS ? 0 : (crashes.get(slot) ?? 0);
      crashes.set(slot, attempt + 1);
      // Full jitter, at least the base: workers killed together do not restart in lockstep.
      const delay =
        RESTART_BASE_DELAY_MS + backoffDelay(attempt, RESTART_BASE_DELAY_MS, RESTART_MAX_DELAY_MS);
      logger.error(
        { slot, pid: worker.process.pid, code, signal, restartInMs: delay },
        "worker died: restarting",
      );
      setTimeout(() => {
        if (!stopping) fork(slot);
      }, delay);
    });
  };

  const exitWhenAllGone = () => {
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed ? 1 : 0);
  };

  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGKILL");
      process.exit(1);
    }, drainTimeoutMs + EXIT_MARGIN_MS).unref();
    exitWhenAllGone();
  };

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      logger.info({ signal }, "shutting down: draining every worker");
      stop();
    });
  }
  for (let slot = 0; slot < workers; slot++) fork(slot);
}
