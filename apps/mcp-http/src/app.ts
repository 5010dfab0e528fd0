import type { LoginThrottle, Principal } from "@mcp-langgraph/auth-provider";
import type { Logger, LoopSlicer } from "@mcp-langgraph/core";
import { isInitializeRequest } from "@modelcontextprotocol/server";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { z } from "zod";
import { bodyLimit } from "./body-limit.js";
import { clientAddress } from "./client-address.js";
import type { AppConfig } from "./config.js";
import { failureHeaders, httpFailureOf, RETRY_BACKEND_SECONDS, unavailable } from "./http-errors.js";
import type { Identity } from "./identity.js";
import { JSONRPC_PARSE_ERROR, JSONRPC_SERVER_ERROR, jsonRpcError, jsonRpcErrorResponse } from "./jsonrpc.js";
import type { McpSessionRegistry } from "./mcp-sessions.js";
import type { RoleSync } from "./role-sync.js";
import { hostAndOriginGuard } from "./security.js";
import { sharedDeadline } from "./shared-deadline.js";

export interface HttpAppDeps {
  config: AppConfig;
  logger: Logger;
  identity: Identity;
  /** Brings the caller's claim-derived relations up to date before their request is authorized. */
  syncRoles: RoleSync | undefined;
  mcpSessions: McpSessionRegistry;
  readiness: () => Promise<Record<string, boolean>>;
  /** When set, MCP requests wait for their share of the event loop, so health probes never queue behind them. */
  loopSlicer?: LoopSlicer | undefined;
  /** Failed-login limits per username+address and per address (429 before any password check). */
  loginThrottle?: LoginThrottle | undefined;
}

type Env = { Variables: { principal: Principal } };

const loginSchema = z.object({
  username: z.string().min(1).max(128),
  password: z.string().min(1).max(1024),
});

const AUTH_TIMEOUT_MS = 5_000;
/**
 * A backend outage (session store, authorizer) answers 503 with this hint: the stores reconnect
 * by themselves, so a client may retry soon; a hint, not a limit.
 */

export function createHttpApp(deps: HttpAppDeps): Hono<Env> {
  const { config, logger, identity, mcpSessions } = deps;
  const app = new Hono<Env>();
  const resourceMetadataUrl = `${config.publicUrl}/.well-known/oauth-protected-resource`;

  function unauthorized(hadCredential: boolean): Response {
    const challenge = hadCredential
      ? `Bearer error="invalid_token", error_description="The access token is invalid or expired", resource_metadata="${resourceMetadataUrl}"`
      : `Bearer resource_metadata="${resourceMetadataUrl}"`;
    return new Response(
      JSON.stringify(jsonRpcError(JSONRPC_SERVER_ERROR, "Unauthorized: a valid bearer token is required")),
      {
        status: 401,
        headers: { "content-type": "application/json", "www-authenticate": challenge },
      },
    );
  }

  /** The caller, or undefined for a missing or bad credential; a backend that cannot answer throws (503). */
  async function callerOf(authorization: string | undefined, signal: AbortSignal) {
    try {
      return await identity.authenticate(authorization, signal);
    } catch (error) {
      if (httpFailureOf(error)?.status === 503) throw error;
      return undefined;
    }
  }

  // Typed failures from the packages become their status here (http-errors.ts); anything else is a
  // bug: logged, answered 500 without details.
  app.onError((error, c) => {
    const failure = httpFailureOf(error);
    if (failure === undefined) {
      logger.error(
        { err: { name: error.name, message: error.message }, path: c.req.path },
        "unhandled request error",
      );
      return c.json(jsonRpcError(JSONRPC_SERVER_ERROR, "Internal server error"), 500);
    }
    if (failure.status === 503) {
      logger.warn({ code: (error as { code?: unknown }).code, path: c.req.path }, failure.message);
    }
    if (failure.error === "invalid_token") return unauthorized(c.req.header("authorization") !== undefined);
    const body = c.req.path.startsWith("/auth/")
      ? { error: failure.error, message: failure.message }
      : jsonRpcError(JSONRPC_SERVER_ERROR, failure.message);
    return new Response(JSON.stringify(body), {
      status: failure.status,
      headers: { "content-type": "application/json", ...failureHeaders(failure) },
    });
  });
  app.notFound((c) => c.json({ error: "not_found" }, 404));

  app.use("*", hostAndOriginGuard(config));
  if (config.allowedOrigins.length > 0) {
    app.use(
      "*",
      cors({
        origin: (origin) => (config.allowedOrigins.includes(origin) ? origin : null),
        allowHeaders: [
          "authorization",
          "content-type",
          "mcp-session-id",
          "mcp-protocol-version",
          "last-event-id",
        ],
        exposeHeaders: ["mcp-session-id", "www-authenticate"],
        allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
        maxAge: 600,
      }),
    );
  }
  app.use(
    "*",
    bodyLimit(config.maxBodyBytes, () =>
      jsonRpcErrorResponse(413, JSONRPC_SERVER_ERROR, `Request body exceeds ${config.maxBodyBytes} bytes`),
    ),
  );

  app.get("/health/live", (c) => c.json({ status: "ok" }));
  app.get("/health/ready", async (c) => {
    const checks = await deps.readiness();
    const ready = Object.values(checks).every(Boolean);
    return c.json({ status: ready ? "ready" : "unavailable", checks }, ready ? 200 : 503);
  });

  app.get("/.well-known/oauth-protected-resource", (c) =>
    c.json({
      resource: config.auth.audience,
      authorization_servers: [identity.issuer],
      bearer_methods_supported: ["header"],
    }),
  );

  const localProvider = identity.localProvider;
  if (localProvider) {
    app.get("/.well-known/jwks.json", (c) => c.json(localProvider.jwks()));
    // Discovery for the local issuer, so any OIDC verifier (e.g. the stdio binary's MCP_TOKEN check) can find its keys.
    app.get("/.well-known/openid-configuration", (c) =>
      c.json({
        issuer: identity.issuer,
        jwks_uri: `${config.publicUrl}/.well-known/jwks.json`,
        response_types_supported: [],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: localProvider.jwks().keys.map((key) => key.alg),
      }),
    );
  }

  const login = identity.login;
  if (login) {
    app.post("/auth/login", async (c) => {
      const body = await c.req.json().catch(() => undefined);
      const parsed = loginSchema.safeParse(body);
      if (!parsed.success) {
        return c.json(
          { error: "invalid_request", message: "Expected a JSON body {username, password}." },
          400,
        );
      }
      // Failures (wrong password 401, throttled 429, hashing pool or session or throttle store
      // down 503) map in onError.
      const { username, password } = parsed.data;
      const signal = AbortSignal.timeout(AUTH_TIMEOUT_MS);
      const verify = () => login(username, password, signal);
      const address = clientAddress(c, config.trustProxyHops);
      const tokens = deps.loginThrottle
        ? await deps.loginThrottle.attempt(username, address, signal, verify)
        : await verify();
      return c.json({
        access_token: tokens.accessToken,
        token_type: tokens.tokenType,
        expires_in: tokens.expiresIn,
      });
    });
  }

  const apiKeys = identity.apiKeys;
  if (apiKeys) {
    const apiKeySchema = z.object({
      name: z.string().min(1).max(64).optional(),
      ttl_days: z.number().int().min(1).max(3650).optional(),
    });
    /** Key management needs a login token: a key cannot mint or list keys (a leaked key stays contained). */
    const tokenPrincipal = async (authorization: string | undefined) => {
      const principal = await callerOf(authorization, AbortSignal.timeout(AUTH_TIMEOUT_MS));
      return principal && principal.claims.api_key_id === undefined ? principal : undefined;
    };
    const describeKey = (info: { id: string; name: string; createdAt: Date; expiresAt?: Date }) => ({
      id: info.id,
      name: info.name,
      created_at: info.createdAt.toISOString(),
      expires_at: info.expiresAt?.toISOString() ?? null,
    });

    app.post("/auth/api-keys", async (c) => {
      const principal = await tokenPrincipal(c.req.header("authorization"));
      if (!principal) return unauthorized(c.req.header("authorization") !== undefined);
      const parsed = apiKeySchema.safeParse(await c.req.json().catch(() => ({})));
      if (!parsed.success)
        return c.json({ error: "invalid_request", message: "Expected {name?, ttl_days?}." }, 400);
      // A name the manager refuses (400) or a full key ring (409) maps in onError.
      const created = await apiKeys.create(
        { username: principal.username, roles: principal.roles },
        {
          ...(parsed.data.name ? { name: parsed.data.name } : {}),
          ...(parsed.data.ttl_days ? { ttlSeconds: parsed.data.ttl_days * 86_400 } : {}),
          signal: AbortSignal.timeout(AUTH_TIMEOUT_MS),
        },
      );
      return c.json({ api_key: created.key, ...describeKey(created.info) }, 201);
    });

    app.get("/auth/api-keys", async (c) => {
      const principal = await tokenPrincipal(c.req.header("authorization"));
      if (!principal) return unauthorized(c.req.header("authorization") !== undefined);
      const keys = await apiKeys.list(principal.username, { signal: AbortSignal.timeout(AUTH_TIMEOUT_MS) });
      return c.json({ keys: keys.map(describeKey) });
    });

    app.delete("/auth/api-keys/:id", async (c) => {
      const principal = await tokenPrincipal(c.req.header("authorization"));
      if (!principal) return unauthorized(c.req.header("authorization") !== undefined);
      await apiKeys.revoke(principal.username, c.req.param("id"), {
        signal: AbortSignal.timeout(AUTH_TIMEOUT_MS),
      });
      return c.body(null, 204);
    });
  }

  app.post("/auth/logout", async (c) => {
    const signal = AbortSignal.timeout(AUTH_TIMEOUT_MS);
    const authorization = c.req.header("authorization");
    const principal = await callerOf(authorization, signal);
    if (!principal) return unauthorized(authorization !== undefined);
    await identity.logout(principal, signal);
    return c.body(null, 204);
  });

  const authDeadline = sharedDeadline(AUTH_TIMEOUT_MS);
  app.use("/mcp", async (c, next) => {
    await deps.loopSlicer?.turn("admit");
    const authorization = c.req.header("authorization");
    try {
      // Bounded in time only: a client that disconnects meanwhile costs at most this one lookup.
      const signal = authDeadline();
      const principal = await identity.authenticate(authorization, signal);
      c.set("principal", principal);
      if (deps.syncRoles) {
        try {
          await deps.syncRoles(principal, signal);
        } catch (error) {
          // Relations that may be stale (a revoked group) must not be used: refuse until they are in sync.
          logger.warn({ err: error instanceof Error ? error.message : String(error) }, "role sync failed");
          const failure = unavailable(
            "Authorization data is unavailable; retry later.",
            RETRY_BACKEND_SECONDS,
          );
          return jsonRpcErrorResponse(503, JSONRPC_SERVER_ERROR, failure.message, failureHeaders(failure));
        }
      }
    } catch (error) {
      // A backend that cannot answer is a 503 (onError); any other failure to authenticate is a 401.
      if (httpFailureOf(error)?.status === 503) throw error;
      return unauthorized(authorization !== undefined);
    }
    await next();
  });

  app.on(["POST", "GET", "DELETE"], "/mcp", async (c) => {
    const principal = c.get("principal");
    const authInfo = {
      token: "",
      clientId: principal.clientId ?? principal.username,
      scopes: principal.scopes,
      expiresAt: Math.floor(principal.expiresAt.getTime() / 1000),
      extra: { principal },
    };
    const sessionId = c.req.header("mcp-session-id");

    let parsedBody: unknown;
    if (c.req.method === "POST") {
      const text = await c.req.text();
      try {
        parsedBody = JSON.parse(text);
      } catch {
        return c.json(jsonRpcError(JSONRPC_PARSE_ERROR, "Parse error: the body is not valid JSON"), 400);
      }
    }

    if (sessionId !== undefined) {
      const found = mcpSessions.lookup(sessionId, principal);
      if (found.kind === "not-found")
        return c.json(jsonRpcError(JSONRPC_SERVER_ERROR, "Session not found"), 404);
      return found.transport.handleRequest(c.req.raw, { parsedBody, authInfo });
    }
    if (c.req.method !== "POST" || !isInitializeRequest(parsedBody)) {
      return c.json(
        jsonRpcError(
          JSONRPC_SERVER_ERROR,
          "Bad Request: no valid session id; start with an initialize request",
        ),
        400,
      );
    }
    const transport = await mcpSessions.open(principal);
    return transport.handleRequest(c.req.raw, { parsedBody, authInfo });
  });

  return app;
}
