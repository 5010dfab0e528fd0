import type { Authorizer } from "@mcp-langgraph/authz";
import type { Logger } from "@mcp-langgraph/core";
import type { RunningMcpServices } from "@mcp-langgraph/mcp-server";
import type { AppConfig } from "./config.js";
import { type JobLeases, type MaintenanceScheduler, startMaintenance } from "./maintenance.js";
import { conversationRetention } from "./retention.js";

export interface AppMaintenanceDeps {
  agent: RunningMcpServices["agent"];
  authorizer: Pick<Authorizer, "readTuples" | "deleteTuples">;
  /** Redis leases with SESSION_BACKEND=redis; none: this process is the only instance. */
  leases: JobLeases | undefined;
  logger: Logger;
}

/**
 * The app's periodic jobs; undefined when none is configured (then nothing is scheduled).
 * Expired login sessions, MCP session records and their per-user indexes need no job: Redis
 * expires them (TTL per key) and the in-memory stores sweep their own (ADR 0178).
 */
export function startAppMaintenance(
  config: AppConfig,
  deps: AppMaintenanceDeps,
): MaintenanceScheduler | undefined {
  const { retention, intervalMs, jobTimeoutMs } = config.maintenance;
  if (!retention) return undefined;
  return startMaintenance({
    jobs: [
      {
        name: "conversation-retention",
        intervalMs,
        timeoutMs: jobTimeoutMs,
        run: conversationRetention({
          agent: deps.agent,
          authorizer: deps.authorizer,
          days: retention.days,
          batchSize: retention.batchSize,
          stepTimeoutMs: config.userDataTimeoutMs,
          logger: deps.logger,
        }),
      },
    ],
    ...(deps.leases ? { leases: deps.leases } : {}),
    logger: deps.logger,
  });
}
