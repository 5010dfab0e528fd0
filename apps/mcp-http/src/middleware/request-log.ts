import { randomUUID } from "node:crypto";
import type { Logger } from "@mcp-langgraph/core";
import type { MiddlewareHandler } from "hono";
import { requestLogContext } from "../request-context.js";
import type { AppEnv } from "../routes/deps.js";

const REQUEST_ID_CHARS = /^[A-Za-z0-9._:-]+$/;

/**
 * A caller's `x-request-id` is kept when it is short and made of safe characters (it is echoed in
 * a header and written to logs: no spaces, quotes or control characters that could forge lines);
 * anything else gets a fresh id.
 */
export function acceptedRequestId(given: string | undefined, maxLength: number): string {
  if (given !== undefined && given.length <= maxLength && REQUEST_ID_CHARS.test(given)) return given;
  return randomUUID();
}

/**
 * The first middleware: gives the request its id (returned in `x-request-id`), runs the rest of
 * the request in that id's log context, and writes one access line when the response is ready.
 * The line has the route pattern, never the path's values or the query string (which may carry
 * secrets), nor any body.
 */
export type FinishedRequest = {
  method: string;
  /** The route pattern (see routeOf). */
  route: string;
  status: number;
  durationMs: number;
};

export function requestLog(
  logger: Logger,
  {
    maxRequestIdLength,
    debug,
    onFinished,
  }: {
    maxRequestIdLength: number;
    debug: boolean;
    /** Told of every request with what its access line says (metrics: one timing path for both). */
    onFinished?: ((request: FinishedRequest) => void) | undefined;
  },
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const reqId = acceptedRequestId(c.req.header("x-request-id"), maxRequestIdLength);
    c.set("requestId", reqId);
    c.set("log", logger);
    await requestLogContext.run({ reqId }, async () => {
      // The headers help debug Host/Origin and auth problems; credentials in them are redacted by name.
      if (debug) {
        logger.debug(
          { method: c.req.method, path: c.req.path, headers: Object.fromEntries(c.req.raw.headers) },
          "request received",
        );
      }
      await next();
      c.res.headers.set("x-request-id", reqId);
      const finished: FinishedRequest = {
        method: c.req.method,
        route: routeOf(c.req.matchedRoutes),
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      };
      logger.info(finished, "request");
      onFinished?.(finished);
    });
  };
}

/** The handler's route pattern (e.g. `/auth/api-keys/:id`), or `*` when no route matched. */
export function routeOf(matched: readonly { method: string; path: string }[]): string {
  for (let i = matched.length - 1; i >= 0; i--) {
    const route = matched[i];
    if (route && route.method !== "ALL") return route.path;
  }
  return "*";
}
