/**
 * Peer: the official SDK's stateless Streamable HTTP pattern, as its own Hono example shows it: a
 * new McpServer and a new transport (`sessionIdGenerator: undefined`) for every request, one tool.
 */
import { McpServer, WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/server";
import { Hono } from "hono";
import { z } from "zod";
import { listenAndAnnounce } from "./listen.ts";

const app = new Hono();
app.post("/mcp", async (c) => {
  const server = new McpServer({ name: "stateless-peer", version: "1.0.0" });
  server.registerTool(
    "echo",
    { description: "Echoes its text.", inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  await server.connect(transport);
  return transport.handleRequest(c.req.raw);
});
listenAndAnnounce(app, "/mcp");
