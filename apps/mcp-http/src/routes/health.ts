import type { Hono } from "hono";
import type { AppEnv, HttpAppDeps } from "./deps.js";

/** Liveness and readiness probes: no authentication, no body. */
export function registerHealthRoutes(app: Hono<AppEnv>, { readiness }: Pick<HttpAppDeps, "readiness">): void {
  app.get("/health/live", (c) => c.json({ status: "ok" }));
  app.get("/health/ready", async (c) => {
    const { ready, draining, checks } = await readiness.check();
    const status = draining ? "draining" : ready ? "ready" : "unavailable";
    return c.json({ status, checks }, ready ? 200 : 503);
  });
}
