import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import {
  AuthError,
  createLocalProvider,
  type LocalProvider,
  type LocalUserInput,
  type Principal,
  parseLocalUsers,
} from "@mcp-langgraph/auth-provider";
import type { Logger } from "@mcp-langgraph/core";
import { createMcpServer, createMcpServices, McpServerError } from "@mcp-langgraph/mcp-server";
import { createSessionStore } from "@mcp-langgraph/session";
import { createHttpApp } from "./app.js";
import type { AppConfig } from "./config.js";
import { McpSessionRegistry } from "./mcp-sessions.js";

export interface RunningHttpServer {
  url: string;
  /** Stops accepting connections, closes MCP sessions and backends; waits at most the drain timeout. */
  close(): Promise<void>;
}

/** Users from LOCAL_USERS, or one `dev` user with a fresh random password announced once on stderr. */
function localUsers(spec: string | undefined): LocalUserInput[] {
  if (spec?.trim()) return parseLocalUsers(spec);
  const password = randomBytes(18).toString("base64url");
  process.stderr.write(
    `\nLOCAL_USERS is not set: created user "dev" with password "${password}" (roles: user, admin).\n` +
      `This password is shown once; set LOCAL_USERS="name:password:role1|role2" to choose your own.\n\n`,
  );
  return [{ username: "dev", password, roles: ["user", "admin"] }];
}

const ANONYMOUS_LOOPBACK_PRINCIPAL: Principal = {
  userId: "user:local",
  username: "local",
  roles: ["user"],
  scopes: [],
  expiresAt: new Date(8_640_000_000_000_000),
  claims: {},
};

export async function startHttpServer(config: AppConfig, logger: Logger): Promise<RunningHttpServer> {
  const services = await createMcpServices({ ...config.services, logger });
  const sessions = await createSessionStore(config.sessions, {
    ttlSeconds: config.sessionTtlSeconds,
    maxConcurrentSessions: config.sessionMaxPerUser,
    logger,
  });

  let localProvider: LocalProvider | undefined;
  if (config.auth.mode === "required") {
    localProvider = await createLocalProvider({
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      users: localUsers(config.auth.localUsers),
      tokenTtlSeconds: config.auth.tokenTtlSeconds,
      ...(config.auth.signingKey ? { privateKeyJwk: config.auth.signingKey } : {}),
    });
  }

  const authenticate = async (authorization: string | undefined, signal: AbortSignal): Promise<Principal> => {
    if (!localProvider) return ANONYMOUS_LOOPBACK_PRINCIPAL;
    const match = /^Bearer ([^\s]+)$/i.exec(authorization ?? "");
    if (!match?.[1]) throw new AuthError("TOKEN_INVALID", "missing bearer token");
    const principal = await localProvider.verifyToken(match[1], { signal });
    // A token names its login session: logout or revocation ends it on the next request.
    if (principal.sessionId && !(await sessions.get(principal.sessionId, { signal }))) {
      throw new AuthError("TOKEN_INVALID", "login session ended");
    }
    return principal;
  };

  const mcpSessions = new McpSessionRegistry({
    createServer: () =>
      createMcpServer({
        services,
        principalOf: (ctx) => {
          // Set by the /mcp authentication middleware on every request; its absence is a bug, never an identity.
          const principal = ctx.http?.authInfo?.extra?.principal as Principal | undefined;
          if (!principal) throw new McpServerError("FORBIDDEN", "The request is not authenticated.");
          return principal;
        },
        conformanceFixtures: config.mcp.conformanceFixtures,
      }),
    idleMs: config.mcp.idleSeconds * 1000,
    maxSessionsPerUser: config.mcp.maxSessionsPerUser,
    logger,
  });

  const readiness = async () => {
    const signal = AbortSignal.timeout(2_000);
    const [sessionStore, authorizer] = await Promise.all([
      sessions.ping({ signal }).catch(() => false),
      services.authorizer
        .check({ user: "role:user#assignee", relation: "executor", object: "tool:agent_chat" }, { signal })
        .catch(() => false),
    ]);
    return { sessionStore, authorizer };
  };

  const app = createHttpApp({
    config,
    logger,
    authenticate,
    localProvider,
    sessions,
    mcpSessions,
    readiness,
  });
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
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
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      await mcpSessions.closeAll();
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, config.drainTimeoutMs).unref());
      await Promise.race([drained, deadline]);
      if ("closeAllConnections" in server) server.closeAllConnections();
      await Promise.allSettled([sessions.close(), services.close()]);
    })();
    return closing;
  };
  return { url, close };
}
