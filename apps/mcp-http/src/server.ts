import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { loadRoleMappingFile, type Principal } from "@mcp-langgraph/auth-provider";
import { createLoopSlicer, type Logger } from "@mcp-langgraph/core";
import {
  ConversationListens,
  createMcpServer,
  createMcpServices,
  createMcpTasks,
  createUserBoundRequestStateCodec,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
  McpServerError,
  ToolAccess,
} from "@mcp-langgraph/mcp-server";
import { registerConformanceFixtures } from "@mcp-langgraph/mcp-server/conformance";
import { createSessionStore } from "@mcp-langgraph/session";
import type { ServerContext } from "@modelcontextprotocol/server";
import { createHttpApp } from "./app.js";
import { timedBackend } from "./backend-timing.js";
import type { AppConfig } from "./config.js";
import { guardConnections } from "./connection-guard.js";
import { createIdentity } from "./identity.js";
import { startAppMaintenance } from "./maintenance-jobs.js";
import { connectMcpSessionDirectory } from "./mcp-directory-redis.js";
import { McpSessionRegistry, type McpSessionServerContext, type McpSessionUsage } from "./mcp-sessions.js";
import { CIRCUIT_STATE, createAppMetrics } from "./metrics.js";
import { ModernMcpEndpoint } from "./modern-mcp.js";
import { createRateLimits } from "./rate-limits.js";
import { createReadiness } from "./readiness.js";
import { createRoleSync } from "./role-sync.js";
import { createSharedLocks } from "./shared-locks.js";
import { createAppTaskStore } from "./task-store.js";
import { startTracing, type TracingOptions } from "./tracing.js";
import { createUserData } from "./user-data.js";

export interface RunningHttpServer {
  url: string;
  /** What each live MCP session holds (event store, pending requests to the client). */
  mcpSessionUsage(): McpSessionUsage[];
  /** Stops accepting connections, closes MCP sessions and backends; waits at most the drain timeout. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Replaces the OTLP exporter when tracing is configured (tests: an in-memory exporter). */
  traceExporter?: TracingOptions["exporter"];
}

export async function startHttpServer(
  config: AppConfig,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningHttpServer> {
  // One registry per app instance: several apps (tests, workers) may share a process.
  const metrics = createAppMetrics();
  // Undefined unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then no SDK is loaded and no span made.
  const tracing = await startTracing(config.tracing, { logger, exporter: options.traceExporter });
  const tracer = tracing?.tracer;
  // One slicer for the whole process: MCP requests and agent turns share the loop's budget.
  const loopSlicer = config.loopSliceMs > 0 ? createLoopSlicer({ budgetMs: config.loopSliceMs }) : undefined;
  const sharedLocks = await createSharedLocks(config);
  const untimedSessions = await createSessionStore(config.sessions, {
    ttlSeconds: config.sessionTtlSeconds,
    maxConcurrentSessions: config.sessionMaxPerUser,
    logger,
  }).catch(async (error: unknown) => {
    await sharedLocks?.close();
    throw error;
  });
  const sessions = timedBackend(
    untimedSessions,
    ["create", "get", "getAndRun", "update", "refresh", "delete", "listUserSessions", "deleteUserSessions"],
    metrics.sessionStoreCall,
  );
  // Before the services: with SESSION_BACKEND=redis their change bus is the shared one (ADR 0182).
  // After the login sessions, which the directory checks in the script that touches a session (ADR 0188).
  const directory = await connectMcpSessionDirectory(config, logger, sessions, {
    onChangeNotShared: metrics.onChangeNotShared,
  }).catch(async (error: unknown) => {
    await Promise.allSettled([sharedLocks?.close(), sessions.close()]);
    throw error;
  });
  // Independent backends start together; a failure stops start-up (main exits with the message).
  const [services, roleMapping] = await Promise.all([
    createMcpServices({
      ...(sharedLocks ? { threadLocks: sharedLocks.locks } : {}),
      ...(directory ? { changes: directory.changes } : {}),
      ...config.services,
      model: {
        ...config.services.model,
        onUsage: metrics.onUsage,
        onRetry: metrics.onModelRetry,
        onFallback: metrics.onModelFallback,
        guards: metrics.guards,
      },
      onAuthzDecision: metrics.onAuthzDecision,
      ...(tracer ? { tracer } : {}),
      logger,
      ...(loopSlicer ? { loopSlicer } : {}),
    }),
    config.auth.roleMappingFile ? loadRoleMappingFile(config.auth.roleMappingFile) : undefined,
  ]).catch(async (error: unknown) => {
    await Promise.allSettled([sharedLocks?.close(), directory?.close(), sessions.close()]);
    throw error;
  });
  // Checks are labelled by their answer; a check's count is the count of authorization decisions.
  const authorizer = timedBackend(
    services.authorizer,
    ["check", "batchCheck", "listObjects", "writeTuples", "claimTuple", "deleteTuples"],
    (method, failed, seconds, result) =>
      metrics.authzCall(
        method,
        failed ? "error" : method === "check" ? (result === true ? "allowed" : "denied") : "ok",
        seconds,
      ),
  );
  const rateLimits = await createRateLimits(config).catch(async (error: unknown) => {
    await Promise.allSettled([services.close(), sessions.close(), sharedLocks?.close(), directory?.close()]);
    throw error;
  });
  const tasks = await createAppTaskStore(config).then(
    (store) => createMcpTasks(store),
    async (error: unknown) => {
      await Promise.allSettled([
        services.close(),
        sessions.close(),
        rateLimits.close(),
        sharedLocks?.close(),
        directory?.close(),
      ]);
      throw error;
    },
  );
  const identity = await createIdentity(config, sessions, logger);
  const syncRoles = roleMapping ? createRoleSync(roleMapping, authorizer) : undefined;

  const principalOf = (ctx: ServerContext): Principal => {
    // Set by the /mcp authentication middleware on every request; its absence is a bug, never an identity.
    const principal = ctx.http?.authInfo?.extra?.principal as Principal | undefined;
    if (!principal) throw new McpServerError("FORBIDDEN", "The request is not authenticated.");
    return principal;
  };
  if (config.mcp.requestState.key === undefined) {
    logger.warn(
      {},
      "MCP_REQUEST_STATE_KEY is unset: a key was generated for this process; set one shared by every instance when several serve /mcp",
    );
  }
  const requestState = createUserBoundRequestStateCodec({
    key: config.mcp.requestState.key ?? randomBytes(32),
    ttlSeconds: config.mcp.requestState.ttlSeconds,
    principalOf,
  });
  // One composition for both protocols: the 2025-11-25 sessions and the 2026-07-28 requests see
  // the same tools, resources, authorization, limits, metrics and tracing.
  const createServer = (era: "legacy" | "modern", session: McpSessionServerContext = {}) =>
    createMcpServer({
      services: {
        ...services,
        authorizer,
        usageLimits: rateLimits.usageLimits,
        observer: metrics.observer,
        tasks,
      },
      principalOf,
      registrars: config.mcp.conformanceFixtures ? [registerConformanceFixtures] : [],
      era,
      requestState,
      ...(session.subscriptions
        ? {
            sharedSubscriptions: {
              store: session.subscriptions,
              timeoutMs: config.mcp.sessionStoreTimeoutMs,
            },
          }
        : {}),
    });
  const modernMcp = new ModernMcpEndpoint({
    createServer: () => createServer("modern"),
    listens: new ConversationListens({
      access: new ToolAccess(authorizer),
      changes: services.changes,
      maxUris: services.maxSubscriptionsPerSession ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
      logger,
    }),
    maxListenStreams: config.mcp.maxListenStreams,
    logger,
  });
  const mcpSessions = new McpSessionRegistry({
    createServer: (session) => createServer("legacy", session),
    idleMs: config.mcp.idleSeconds * 1000,
    maxSessionsPerUser: config.mcp.maxSessionsPerUser,
    limits: config.mcp.limits,
    logger,
    ...(directory
      ? { directory: directory.directory, bus: directory.bus, subscriptions: directory.subscriptions }
      : {}),
  });

  // Each configured backend once per probe (sessions: memory or Redis; authorizer: embedded or
  // OpenFGA; checkpointer: memory or Postgres), and no grant assumed: any answer means reachable.
  const readiness = createReadiness(
    {
      sessionStore: (signal) => sessions.ping({ signal }),
      authorizer: services.probes.authorizer,
      checkpointer: services.probes.checkpointer,
    },
    config.readinessTimeoutMs,
  );

  metrics.gauge("mcp_sessions_open", "MCP sessions open in this process", () => mcpSessions.usage().length);
  metrics.gauge(
    "mcp_authz_circuit_state",
    "Authorizer backend circuit breaker: 0 closed, 1 half-open, 2 open (always 0 for the embedded engine)",
    () => CIRCUIT_STATE[services.authorizerCircuitState()],
  );

  const app = createHttpApp({
    metrics,
    tracing,
    config,
    logger,
    identity,
    syncRoles,
    mcpSessions,
    modernMcp,
    readiness,
    loopSlicer,
    loginThrottle: rateLimits.loginThrottle,
    userData: createUserData({
      sessions,
      apiKeys: identity.apiKeys,
      agent: services.agent,
      authorizer,
      closeMcpSessions: (userId, signal) => mcpSessions.closeUser(userId, signal),
      tasks: tasks.store,
      timeoutMs: config.userDataTimeoutMs,
      logger,
    }),
  });
  const server = createAdaptorServer({
    fetch: app.fetch,
    serverOptions: {
      // Node closes idle keep-alive sockets after 5 s; a client reusing one at that instant gets a
      // reset (seen as "other side closed" under load). Outlive the clients' and balancers' timeouts,
      // and keep the header deadline above it as Node requires (config.ts checks both).
      keepAliveTimeout: config.keepAliveTimeoutMs,
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // Node checks the two timeouts above on this interval (default 30 s); a tenth of the shorter
      // one keeps the overshoot small without a timer per socket.
      connectionsCheckingInterval: Math.max(
        100,
        Math.floor(Math.min(config.headersTimeoutMs, config.requestTimeoutMs) / 10),
      ),
    },
  }) as Server;
  guardConnections(server, {
    idleConnectionTimeoutMs: config.idleConnectionTimeoutMs,
    maxConnections: config.maxConnections,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
    // A burst of thousands of clients connects at once: a short accept queue drops their SYNs and
    // they retry seconds later (Node's default backlog is 511).
    server.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
  });
  // Once serving: maintenance on one instance at a time with Redis leases, in process otherwise.
  const maintenance = startAppMaintenance(config, {
    agent: services.agent,
    authorizer,
    leases: sharedLocks?.locks,
    logger,
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  logger.info(
    { url, auth: config.auth.mode, sessions: config.sessions.backend },
    "mcp-langgraph HTTP server listening",
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // First, so the balancer stops sending new work while the calls in flight finish. The
      // listener stays open meanwhile: probes read 503 (not a refused connection, which looks like
      // a crash) and new MCP requests get a retryable 503 (ADR 0098).
      readiness.drain();
      // Stopped before the backends it uses close; a run in progress is aborted and releases its lease.
      const maintenanceStopped = maintenance?.stop();
      const deadline = AbortSignal.timeout(config.drainTimeoutMs);
      // Calls in flight get their answers before their sessions close (closing first cut them off);
      // task runs get the same time, then those still going are stopped and recorded as failed.
      await Promise.all([mcpSessions.drainAll(deadline), modernMcp.drain(deadline), tasks.drain(deadline)]);
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.all([mcpSessions.closeAll(), modernMcp.close()]);
      const timedOut = deadline.aborted
        ? Promise.resolve()
        : new Promise<void>((resolve) => deadline.addEventListener("abort", () => resolve(), { once: true }));
      await Promise.race([drained, timedOut]);
      server.closeAllConnections();
      await maintenanceStopped;
      await Promise.allSettled([
        sessions.close(),
        services.close(),
        identity.close(),
        rateLimits.close(),
        tasks.store.close(),
        directory?.close(),
        sharedLocks?.close(),
        // Last: the spans of the drained calls are exported before the process exits.
        tracing?.shutdown(),
      ]);
    })();
    return closing;
  };
  return { url, close, mcpSessionUsage: () => mcpSessions.usage() };
}
