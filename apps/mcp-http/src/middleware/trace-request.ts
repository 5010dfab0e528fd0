import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../routes/deps.js";
import type { AppTracing } from "../tracing.js";
import { routeOf } from "./request-log.js";

/** The methods HTTP semantic conventions name; any other is `_OTHER` (a client picks the method). */
const KNOWN_METHODS = new Set([
  "CONNECT",
  "DELETE",
  "GET",
  "HEAD",
  "OPTIONS",
  "PATCH",
  "POST",
  "PUT",
  "TRACE",
]);

/**
 * One server span per request, the parent of everything the request does (tool calls, agent turns,
 * model calls, authorization checks), continuing the caller's trace when it sends `traceparent`.
 * Named and labelled by route pattern (HTTP semantic conventions): never the path's values, the
 * query string, headers or bodies.
 */
export function traceRequests(tracing: AppTracing): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const parent = tracing.extract(c.req.raw.headers);
    const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : "_OTHER";
    const span = tracing.tracer.startSpan(
      method === "_OTHER" ? "HTTP" : method,
      { kind: SpanKind.SERVER, attributes: { "http.request.method": method, "url.scheme": "http" } },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      const route = routeOf(c.req.matchedRoutes);
      const status = c.res.status;
      if (route !== "*") {
        span.updateName(`${method === "_OTHER" ? "HTTP" : method} ${route}`);
        span.setAttribute("http.route", route);
      }
      span.setAttribute("http.response.status_code", status);
      // Server spans are errors for 5xx only: a 4xx is the client's mistake, answered as designed.
      if (status >= 500) {
        span.setAttribute("error.type", String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }
  };
}
