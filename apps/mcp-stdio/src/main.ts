#!/usr/bin/env node
import { createOidcProvider, type Principal } from "@mcp-langgraph/auth-provider";
import {
  createMcpServer,
  createMcpServices,
  createMcpTasks,
  createMemoryTaskStore,
  McpServerError,
} from "@mcp-langgraph/mcp-server";
import { StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import { pino } from "pino";
import { loadConfig, resolveSecrets, type StdioConfig } from "./config.js";
import { type Drain, trackRequests } from "./drain.js";

/** The identity used when no MCP_TOKEN is given: the local developer, as on the HTTP app's default. */
const LOCAL_DEV_PRINCIPAL: Principal = {
  userId: "user:dev",
  username: "dev",
  roles: ["user", "admin"],
  scopes: [],
  expiresAt: new Date(8_640_000_000_000_000),
  claims: {},
};

async function resolvePrincipal(config: StdioConfig): Promise<Principal> {
  if (!config.token) return LOCAL_DEV_PRINCIPAL;
  const provider = await createOidcProvider({ issuer: config.token.issuer, audience: config.token.audience });
  return provider.verifyToken(config.token.value, { signal: AbortSignal.timeout(10_000) });
}

async function main() {
  // Secrets from files and Infisical become plain variables first, so loadConfig stays pure.
  const secrets = await resolveSecrets();
  const config = loadConfig(secrets.resolvedEnv());
  // stdout carries the MCP protocol: every log line goes to stderr (fd 2).
  const logger = pino(
    { level: config.logLevel, base: { service: "mcp-langgraph-stdio" } },
    pino.destination(2),
  );
  logger.info({ sources: secrets.sources() }, "secrets resolved");
  // Values are read once at start-up (ADR 0092): a rotation in Infisical is applied by a restart.
  secrets.startBackgroundRefresh({
    logger,
    onChange: (names) => logger.warn({ names }, "secrets changed in Infisical: restart to apply them"),
  });
  const [principal, services] = await Promise.all([
    resolvePrincipal(config),
    createMcpServices({ ...config.services, logger }),
  ]);
  const tasks = createMcpTasks(createMemoryTaskStore(config.taskLimits));
  const server = createMcpServer({
    services: { ...services, tasks },
    principalOf: () => {
      if (principal.expiresAt.getTime() <= Date.now()) {
        throw new McpServerError("FORBIDDEN", "MCP_TOKEN has expired; restart with a fresh token.");
      }
      return principal;
    },
  });
  const transport = new StdioServerTransport();
  let requests: Drain | undefined;
  let closing = false;
  // Requests in flight finish (new ones are refused) before the server closes, within the drain timeout.
  const shutdown = (reason: string) => {
    if (closing) return;
    closing = true;
    void (async () => {
      logger.info(
        { reason, inFlight: requests?.inFlight ?? 0 },
        "shutting down: draining requests in flight",
      );
      // Task runs get the same time as requests; those still going then are stopped.
      const [answered] = await Promise.all([
        requests ? requests.drain(config.drainTimeoutMs) : true,
        tasks.drain(AbortSignal.timeout(config.drainTimeoutMs)),
      ]);
      if (!answered) {
        logger.warn({ inFlight: requests?.inFlight }, "drain timeout: closing with requests unanswered");
      }
      secrets.close();
      await server.close();
      await Promise.all([services.close(), tasks.store.close()]);
      process.exit(0);
    })();
  };
  // Set before connect: the protocol chains its own close handling onto this one.
  transport.onclose = () => shutdown("stdin closed");
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  await server.connect(transport);
  // After connect, which installs the protocol's message handler that this wraps.
  requests = trackRequests(transport);
  logger.info({ user: principal.userId }, "mcp-langgraph stdio server ready");
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`mcp-langgraph-stdio failed to start: ${message}\n`);
  process.exit(1);
});
