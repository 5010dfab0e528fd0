import type { Hono } from "hono";
import type { AppEnv, HttpAppDeps } from "./deps.js";

/** Liveness and readiness probes: no authentication, no body. */
export function registerHealthRoutes(app: Hono<AppEnv>, { readiness }: Pick<HttpAppDeps, "readiness">): void {
  app.get("/health/live", (c) => c.json({ status: "ok" }));
  app.get("/health/ready", async (c) => {
    const checks = await readiness();
    const ready = Object.values(checks).every(Boolean);
    return c.json({ status: ready ? "ready" : "unavailable", checks }, ready ? 200 : 503);
  });
}
