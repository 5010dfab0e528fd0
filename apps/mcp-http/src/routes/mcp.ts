import type { HttpBindings } from "@hono/node-server";
import type { Principal } from "@mcp-langgraph/auth-provider";
import { isInitializeRequest } from "@modelcontextprotocol/server";
import type { Context, Hono, MiddlewareHandler } from "hono";
import { failureHeaders, httpFailureOf, RETRY_BACKEND_SECONDS, unavailable } from "../http-errors.js";
import { JSONRPC_PARSE_ERROR, JSONRPC_SERVER_ERROR, jsonRpcError, jsonRpcErrorResponse } from "../jsonrpc.js";
import { ModernMcpEndpoint } from "../modern-mcp.js";
import { sharedDeadline } from "../shared-deadline.js";
import type { AppEnv, HttpAppDeps } from "./deps.js";
import { AUTH_TIMEOUT_MS, refusalOf } from "./unauthorized.js";

type McpRouteDeps = Pick<
  HttpAppDeps,
  "identity" | "syncRoles" | "mcpSessions" | "modernMcp" | "loopSlicer"
> & {
  unauthorized: (hadCredential: boolean) => Response;
};

/**
 * Authentication of `/mcp`: any bearer credential (login token or API key), then the caller's
 * claim-derived relations brought up to date. Kept apart from the REST routes' middleware because
 * it is the hot path: a shared deadline signal and a turn of the loop slicer first.
 */
function mcpAuthentication({
  identity,
  syncRoles,
  mcpSessions,
  loopSlicer,
  unauthorized,
}: McpRouteDeps): MiddlewareHandler<AppEnv> {
  const authDeadline = sharedDeadline(AUTH_TIMEOUT_MS);
  return async (c, next) => {
    await loopSlicer?.turn("admit");
    const authorization = c.req.header("authorization");
    const sessionId = c.req.header("mcp-session-id");
    try {
      // Bounded in time only: a client that disconnects meanwhile costs at most this one lookup.
      const signal = authDeadline();
      let principal: Principal;
      if (sessionId !== undefined && mcpSessions.checksLoginSessions(sessionId)) {
        // A request on an existing session (SESSION_BACKEND=redis): the token's login session is
        // checked in the script that finds and slides the session's record, one round trip for
        // both (ADR 0188), and still before anything else runs for the request.
        const deferred = await identity.authenticateDeferringLoginSession(authorization, signal);
        principal = deferred.principal;
        if (deferred.loginSession) {
          c.set("touchedMcpSession", await mcpSessions.checkLoginAndTouch(sessionId, deferred.loginSession));
        }
      } else {
        principal = await identity.authenticate(authorization, signal);
      }
      c.set("principal", principal);
      if (syncRoles) {
        try {
          await syncRoles(principal, signal);
        } catch (error) {
          // Relations that may be stale (a revoked group) must not be used: refuse until they are in sync.
          c.get("log").warn(
            { err: error instanceof Error ? error.message : String(error) },
            "role sync failed",
          );
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
      c.get("log").debug(refusalOf(error), "credential refused");
      return unauthorized(authorization !== undefined);
    }
    await next();
  };
}

/** Listens for the client closing the connection before its response ended (Node's `close` on the response). */
function clientGone(c: Context<AppEnv>): ((listener: () => void) => void) | undefined {
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  if (!outgoing) return undefined;
  return (listener) =>
    outgoing.once("close", () => {
      if (!outgoing.writableFinished) listener();
    });
}

/** The answer to any MCP request that arrives while the server shuts down: the client goes elsewhere. */
function shuttingDown(): Response {
  const failure = unavailable(
    "Service Unavailable: the server is shutting down; retry",
    RETRY_BACKEND_SECONDS,
  );
  return jsonRpcErrorResponse(503, JSONRPC_SERVER_ERROR, failure.message, failureHeaders(failure));
}

/**
 * `/mcp` (Streamable HTTP): opens MCP sessions bound to their user and hands requests to them
 * (2025-11-25), and serves requests that declare 2026-07-28 without any session (ADR 0170).
 */
export function registerMcpRoutes(app: Hono<AppEnv>, deps: McpRouteDeps): void {
  const { mcpSessions, modernMcp } = deps;
  app.use("/mcp", mcpAuthentication(deps));
  // Used only with SESSION_BACKEND=redis: the deadline of opening and ending a session in Redis.
  const directoryDeadline = sharedDeadline(AUTH_TIMEOUT_MS);

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
      let found = mcpSessions.lookup(sessionId, principal, c.get("touchedMcpSession"));
      // Memory: answered synchronously, no microtask added on the hot path.
      if (found instanceof Promise) found = await found;
      if (found.kind === "not-found")
        return c.json(jsonRpcError(JSONRPC_SERVER_ERROR, "Session not found"), 404);
      const options = { parsedBody, authInfo, onClientGone: clientGone(c) };
      if (c.req.method !== "DELETE") return found.transport.handleRequest(c.req.raw, options);
      const response = await found.transport.handleRequest(c.req.raw, options);
      // Ended here: ended everywhere before the client hears so (with SESSION_BACKEND=redis).
      if (response.status === 200) await mcpSessions.ended(sessionId, principal, directoryDeadline());
      return response;
    }
    // Only a POST without a session id is classified: a session's own requests (the hot path) pay nothing.
    if (
      c.req.method === "POST" &&
      !isInitializeRequest(parsedBody) &&
      (await ModernMcpEndpoint.claims(c.req.raw, parsedBody))
    ) {
      if (modernMcp.draining) return shuttingDown();
      return modernMcp.handle(c.req.raw, parsedBody, authInfo);
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
    // A session opened now would be cut off by the shutdown in progress.
    if (mcpSessions.draining) return shuttingDown();
    const opened = await mcpSessions.open(principal, parsedBody.params, directoryDeadline());
    const response = await opened.transport.handleRequest(c.req.raw, { parsedBody, authInfo });
    if (response.status !== 200) await mcpSessions.discard(opened.sessionId, principal, directoryDeadline());
    return response;
  });
}
