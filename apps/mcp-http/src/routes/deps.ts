import type { LoginThrottle, Principal } from "@mcp-langgraph/auth-provider";
import type { Logger, LoopSlicer } from "@mcp-langgraph/core";
import type { AppConfig } from "../config.js";
import type { Identity } from "../identity.js";
import type { McpSessionRegistry, TouchedSession } from "../mcp-sessions.js";
import type { AppMetrics } from "../metrics.js";
import type { ModernMcpEndpoint } from "../modern-mcp.js";
import type { Readiness } from "../readiness.js";
import type { RoleSync } from "../role-sync.js";
import type { AppTracing } from "../tracing.js";
import type { UserData } from "../user-data.js";

export interface HttpAppDeps {
  config: AppConfig;
  logger: Logger;
  identity: Identity;
  /** Brings the caller's claim-derived relations up to date before their request is authorized. */
  syncRoles: RoleSync | undefined;
  mcpSessions: McpSessionRegistry;
  /** The sessionless 2026-07-28 protocol, beside the sessions on `/mcp` (ADR 0170). */
  modernMcp: ModernMcpEndpoint;
  readiness: Readiness;
  /** Set when tracing is configured: one server span per request, parent of the rest. */
  tracing?: AppTracing | undefined;
  /** This instance's metrics, served at `/metrics` and fed by the request log. */
  metrics?: AppMetrics | undefined;
  /** When set, MCP requests wait for their share of the event loop, so health probes never queue behind them. */
  loopSlicer?: LoopSlicer | undefined;
  /** Failed-login limits per username+address and per address (429 before any password check). */
  loginThrottle?: LoginThrottle | undefined;
  /** The caller's data for the GDPR export and erase routes. */
  userData: UserData;
}

/** What the middleware leaves on the request context for the routes. */
export type AppEnv = {
  Variables: {
    principal: Principal;
    /** The request's id (`x-request-id`), on every log line of the request. */
    requestId: string;
    /** The app logger bound to this request's id. */
    log: Logger;
    /** `/mcp` with SESSION_BACKEND=redis: the session's record, found by the login session check (ADR 0188). */
    touchedMcpSession?: TouchedSession;
  };
};
