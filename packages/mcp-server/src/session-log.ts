import {
  LOG_LEVEL_META_KEY,
  type LoggingLevel,
  type McpServer,
  type ServerContext,
} from "@modelcontextprotocol/server";

const LEVELS: readonly LoggingLevel[] = [
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency",
];
const severity = (level: LoggingLevel) => LEVELS.indexOf(level);

/** Sends `notifications/message` to the session of one request; a no-op below the client's level. */
export interface SessionLog {
  /** Whether a message at `level` would reach the client (so costly details are gathered only then). */
  enabled(ctx: ServerContext, level: LoggingLevel): boolean;
  send(ctx: ServerContext, level: LoggingLevel, data: Record<string, unknown>): Promise<void>;
}

/**
 * logging/setLevel for one session (one McpServer per session in both apps). Unlike the SDK's own
 * handler, nothing is sent until the client has chosen a level: a client that never asked for log
 * messages gets none. A 2026-07-28 request carries its level in its envelope instead.
 */
export function trackSessionLogLevel(server: McpServer, loggerName = "mcp-langgraph"): SessionLog {
  let sessionLevel: LoggingLevel | undefined;
  server.server.setRequestHandler("logging/setLevel", async (request) => {
    sessionLevel = request.params.level;
    return {};
  });
  const thresholdOf = (ctx: ServerContext): LoggingLevel | undefined => {
    const fromEnvelope = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[LOG_LEVEL_META_KEY];
    // An unknown level in the envelope counts as none chosen: no messages rather than all of them.
    if (fromEnvelope !== undefined) return LEVELS.find((level) => level === fromEnvelope);
    return sessionLevel;
  };
  const enabled = (ctx: ServerContext, level: LoggingLevel) => {
    const threshold = thresholdOf(ctx);
    return threshold !== undefined && severity(level) >= severity(threshold);
  };
  return {
    enabled,
    async send(ctx, level, data) {
      if (!enabled(ctx, level)) return;
      try {
        // Tied to the request, so it travels on that request's stream to the calling session only.
        await ctx.mcpReq.notify({
          method: "notifications/message",
          params: { level, logger: loggerName, data },
        });
      } catch {
        // A log line the client can no longer receive is not worth failing its call over.
      }
    },
  };
}
