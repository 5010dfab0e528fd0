/**
 * Peer: the floor of an HTTP JSON endpoint on this stack (Hono on @hono/node-server), no MCP: it
 * parses a JSON-RPC-shaped body and answers a small JSON object.
 */
import { Hono } from "hono";
import { listenAndAnnounce } from "./listen.ts";

const app = new Hono();
app.post("/rpc", async (c) => {
  const body = (await c.req.json()) as { id?: unknown };
  return c.json({ jsonrpc: "2.0", id: body.id ?? null, result: {} });
});
listenAndAnnounce(app, "/rpc");
