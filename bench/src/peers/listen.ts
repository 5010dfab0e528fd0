/** Shared by the peer entries: serve a Hono app on a free loopback port and tell the bench where. */
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { serveParent } from "../children.ts";

export function listenAndAnnounce(app: Hono, path: string): void {
  const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
    serveParent({}, { url: `http://127.0.0.1:${info.port}${path}` });
  });
  process.once("SIGTERM", () => server.close(() => process.exit(0)));
}
