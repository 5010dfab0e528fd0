/**
 * Throughput of the whole HTTP path: bearer auth, MCP session lookup, tool
 * authorization, the LangGraph agent (offline model + calculator) and the
 * checkpointer, with many concurrent MCP clients against one server process.
 *
 *   pnpm --filter @mcp-langgraph/mcp-http bench [-- --clients 100 --seconds 10]
 */
import { parseArgs } from "node:util";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { startBuiltApp } from "./built-app.ts";

const { values } = parseArgs({
  options: { clients: { type: "string", default: "100" }, seconds: { type: "string", default: "10" } },
});
const clients = Number(values.clients);
const seconds = Number(values.seconds);

// The server runs as its own process (the built app), as in production; this process only plays the clients.
const users = Array.from({ length: 10 }, (_, i) => `user${i}:pw-${i}:user`).join(",");
const server = await startBuiltApp({ LOCAL_USERS: users, MCP_MAX_SESSIONS_PER_USER: "1000" });

async function token(index: number): Promise<string> {
  const response = await fetch(`${server.url}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: `user${index}`, password: `pw-${index}` }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => token(i)));
const sessions = await Promise.all(
  Array.from({ length: clients }, async (_, i) => {
    const client = new Client({ name: `bench-${i}`, version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${tokens[i % tokens.length]}` } },
      }),
    );
    return client;
  }),
);

// Warm-up: every client's first calls (JIT, lazy imports, first checkpoints) are not measured.
await Promise.all(
  sessions.map(async (client, i) => {
    for (let turn = 0; turn < 3; turn++) {
      await client.callTool({ name: "agent_chat", arguments: { message: `warm up ${i} + ${turn}` } });
    }
  }),
);

const latencies: number[] = [];
let failures = 0;
const deadline = performance.now() + seconds * 1000;
const started = performance.now();
await Promise.all(
  sessions.map(async (client, i) => {
    for (let turn = 0; performance.now() < deadline; turn++) {
      const t0 = performance.now();
      const result = await client.callTool({
        name: "agent_chat",
        arguments: { message: `what is ${i} + ${turn}?` },
      });
      latencies.push(performance.now() - t0);
      if (result.isError) failures++;
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]?.toFixed(1);
process.stdout.write(
  `agent_chat over Streamable HTTP: ${clients} concurrent clients, ${latencies.length} calls in ${elapsed.toFixed(1)} s\n`,
);
process.stdout.write(
  `  ${(latencies.length / elapsed).toFixed(0)} calls/s, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, p99 ${at(0.99)} ms, errors ${failures}\n`,
);
await Promise.all(sessions.map((client) => client.close()));
await server.close();
