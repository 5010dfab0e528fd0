import { Hono } from "hono";
import { cors } from "hono/cors";
import { bodyLimit } from "./body-limit.js";
import { failureHeaders, httpFailureOf } from "./http-errors.js";
import { JSONRPC_SERVER_ERROR, jsonRpcError, jsonRpcErrorResponse } from "./jsonrpc.js";
import { authenticate } from "./middleware/authenticate.js";
import { requestLog } from "./middleware/request-log.js";
import { traceRequests } from "./middleware/trace-request.js";
import { registerApiKeyRoutes } from "./routes/api-keys.js";
import { registerAuthRoutes } from "./routes/auth.js";
import type { AppEnv, HttpAppDeps } from "./routes/deps.js";
import { registerGdprRoutes } from "./routes/gdpr.js";
import { registerHealthRoutes } from "./routes/health.js";
import { registerMcpRoutes } from "./routes/mcp.js";
import { registerMetricsRoutes } from "./routes/metrics.js";
import { registerOAuthRoutes } from "./routes/oauth.js";
import { unauthorizedResponder } from "./routes/unauthorized.js";
import { registerWellKnownRoutes } from "./routes/well-known.js";
import { hostAndOriginGuard } from "./security.js";

export type { AppEnv, HttpAppDeps } from "./routes/deps.js";

/**
 * The HTTP app: request log, edge guards (Host/Origin, CORS, body size), then the routes, one
 * module per concern (ADR 0090). Order matters: the guards run before any route.
 */
export function createHttpApp(deps: HttpAppDeps): Hono<AppEnv> {
  const { config, logger, identity } = deps;
  const app = new Hono<AppEnv>();
  const unauthorized = unauthorizedResponder(config.publicUrl);

  // Typed failures from the packages become their status here (http-errors.ts); anything else is a
  // bug: logged, answered 500 without details.
  app.onError((error, c) => {
    const failure = httpFailureOf(error);
    if (failure === undefined) {
      logger.error(
        { err: { name: error.name, message: error.message }, path: c.req.path },
        "unhandled request error",
      );
      // The stack helps whoever debugs, and is kept out of the default level's output.
      logger.debug({ err: error }, "unhandled request error: stack");
      return c.json(jsonRpcError(JSONRPC_SERVER_ERROR, "Internal server error"), 500);
    }
    if (failure.status === 503) {
      logger.warn({ code: (error as { code?: unknown }).code, path: c.req.path }, failure.message);
      logger.debug({ err: error }, "backend unavailable: stack");
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

  // First, so the request's span is current for everything after it, its log lines included.
  if (deps.tracing) app.use("*", traceRequests(deps.tracing));
  app.use(
    "*",
    requestLog(logger, {
      maxRequestIdLength: config.requestIdMaxLength,
      debug: config.logLevel === "debug" || config.logLevel === "trace",
      onFinished: deps.metrics?.request,
    }),
  );
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
          "x-request-id",
        ],
        exposeHeaders: ["mcp-session-id", "www-authenticate", "x-request-id"],
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

  registerHealthRoutes(app, deps);
  registerMetricsRoutes(app, deps);
  registerWellKnownRoutes(app, deps);
  if (identity.oauth) {
    registerOAuthRoutes(app, {
      oauth: identity.oauth,
      loginThrottle: deps.loginThrottle,
      trustProxyHops: config.trustProxyHops,
      logger,
    });
  }
  registerAuthRoutes(app, {
    identity,
    loginThrottle: deps.loginThrottle,
    trustProxyHops: config.trustProxyHops,
    authenticated: authenticate({ identity, unauthorized, acceptApiKeys: true }),
  });
  const loginToken = authenticate({ identity, unauthorized, acceptApiKeys: false });
  registerApiKeyRoutes(app, { identity, loginToken });
  registerGdprRoutes(app, { userData: deps.userData, loginToken });
  registerMcpRoutes(app, { ...deps, unauthorized });
  return app;
}
