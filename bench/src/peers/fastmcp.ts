/**
 * Peer: FastMCP (npm `fastmcp`) on its HTTP stream transport, stateful sessions (its default), one
 * tool. Its server-initiated keep-alive pings are off so they do not mix into the measured traffic.
 */
import { freePort } from "@mcp-langgraph/tooling/testing";
import { FastMCP } from "fastmcp";
import { z } from "zod";
import { serveParent } from "../children.ts";

const server = new FastMCP({ name: "fastmcp-peer", version: "1.0.0", ping: { enabled: false } });
server.addTool({
  name: "echo",
  description: "Echoes its text.",
  parameters: z.object({ text: z.string() }),
  execute: async ({ text }) => text,
});
const port = await freePort();
await server.start({
  transportType: "httpStream",
  httpStream: { host: "127.0.0.1", port, endpoint: "/mcp" },
});
serveParent({}, { url: `http://127.0.0.1:${port}/mcp` });
process.once("SIGTERM", () => {
  void server.stop().finally(() => process.exit(0));
});
