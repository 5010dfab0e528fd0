// A small upstream MCP server for the gateway's tests, in plain JavaScript so that the app under
// test can start it over stdio with `node` alone. Imported by upstream-http.ts for the HTTP variant.
import { appendFileSync } from "node:fs";
import { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";

/**
 * Builds the server. `record(call)` is told of every tool call that reached it, so a test can prove
 * a refused call never did.
 * @param {(call: { tool: string, args: Record<string, unknown> }) => void} record
 */
export function createUpstreamServer(record) {
  const server = new McpServer(
    { name: "upstream-fixture", version: "1.0.0" },
    { capabilities: { tools: {} } },
  );
  const text = (value) => ({ content: [{ type: "text", text: value }] });
  server.registerTool(
    "echo",
    { description: "Echoes the text back", inputSchema: z.object({ text: z.string() }) },
    async ({ text: value }) => {
      record({ tool: "echo", args: { text: value } });
      return text(`echo: ${value}`);
    },
  );
  server.registerTool(
    "delete_file",
    { description: "Deletes a file (needs approval)", inputSchema: z.object({ path: z.string() }) },
    async ({ path }) => {
      record({ tool: "delete_file", args: { path } });
      return text(`deleted ${path}`);
    },
  );
  server.registerTool(
    "slow",
    { description: "Answers after ms milliseconds", inputSchema: z.object({ ms: z.number() }) },
    async ({ ms }, ctx) => {
      record({ tool: "slow", args: { ms } });
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        ctx.mcpReq.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
      return text("finally");
    },
  );
  server.registerTool(
    "hidden",
    { description: "Not on the allow-list of the tests' configuration", inputSchema: z.object({}) },
    async () => {
      record({ tool: "hidden", args: {} });
      return text("should never be offered");
    },
  );
  return server;
}

// Run over stdio when started as a program; each call is appended as a JSON line to UPSTREAM_CALL_LOG.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { StdioServerTransport } = await import("@modelcontextprotocol/server/stdio");
  const log = process.env.UPSTREAM_CALL_LOG;
  const server = createUpstreamServer((call) => {
    if (log)
      appendFileSync(log, `${JSON.stringify({ ...call, env: process.env.UPSTREAM_SECRET_SEEN ?? null })}\n`);
  });
  await server.connect(new StdioServerTransport());
}
