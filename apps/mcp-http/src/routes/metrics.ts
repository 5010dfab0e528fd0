import { getConnInfo } from "@hono/node-server/conninfo";
import type { Hono } from "hono";
import { metricsAccess } from "../metrics-access.js";
import type { AppEnv, HttpAppDeps } from "./deps.js";

/** `GET /metrics` in Prometheus text: bearer token when METRICS_TOKEN is set, loopback peers otherwise. */
export function registerMetricsRoutes(
  app: Hono<AppEnv>,
  { config, metrics }: Pick<HttpAppDeps, "config" | "metrics">,
): void {
  if (!metrics) return;
  app.get("/metrics", async (c) => {
    // The TCP peer, never X-Forwarded-For: a header anyone can write must not pass for loopback.
    const access = metricsAccess(
      config.metricsToken,
      c.req.header("authorization"),
      getConnInfo(c).remote.address,
    );
    if (access === "unauthorized") {
      return c.json({ error: "unauthorized", message: "/metrics requires the metrics bearer token" }, 401, {
        "www-authenticate": 'Bearer realm="metrics"',
      });
    }
    if (access === "forbidden") {
      return c.json({ error: "forbidden", message: "/metrics is served to loopback callers only" }, 403);
    }
    return c.body(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType });
  });
}
