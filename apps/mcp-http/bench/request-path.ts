/**
 * The request path at 64 connections (docs/performance.md, "Request path"): `ping`, `tools/list`
 * and `tools/call conversation_get`, on one MCP session and on 64, against the built server as its
 * own process. Load comes from wrk (C, one thread: `apt-get install wrk`), so the client takes
 * little of the CPU it shares with the server; server CPU per request is read from /proc.
 *
 *   pnpm build && pnpm --filter @mcp-langgraph/mcp-http bench:request-path [--seconds 6]
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startBuiltApp } from "./built-app.ts";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "6" }, connections: { type: "string", default: "64" } },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);

const app = await startBuiltApp({
  LOCAL_USERS: "u:p:user",
  MCP_MAX_SESSIONS_PER_USER: String(connections + 1),
});
const { child, url } = app;

const login = await fetch(`${url}/auth/login`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ username: "u", password: "p" }),
});
const { access_token: token } = (await login.json()) as { access_token: string };
const headers = {
  authorization: `Bearer ${token}`,
  accept: "application/json, text/event-stream",
  "content-type": "application/json",
  "mcp-protocol-version": "2025-11-25",
};

/** The last JSON-RPC message of an answer, whether it came as JSON or as SSE. */
async function lastMessage(response: Response): Promise<{ result?: Record<string, unknown> }> {
  const text = await response.text();
  if (!response.headers.get("content-type")?.includes("text/event-stream")) return JSON.parse(text);
  const data = text.split("\n").filter((line) => line.startsWith("data: ") && line.length > 7);
  return JSON.parse((data.at(-1) ?? "data: {}").slice(6));
}

async function openSession(): Promise<string> {
  const initialize = await fetch(`${url}/mcp`, {
    method: "POST",
    headers,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "bench", version: "1" },
      },
    }),
  });
  const sessionId = initialize.headers.get("mcp-session-id") ?? "";
  await lastMessage(initialize);
  await fetch(`${url}/mcp`, {
    method: "POST",
    headers: { ...headers, "mcp-session-id": sessionId },
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  });
  return sessionId;
}

const sessions: string[] = [];
for (let i = 0; i < connections; i++) sessions.push(await openSession());
const chat = await lastMessage(
  await fetch(`${url}/mcp`, {
    method: "POST",
    headers: { ...headers, "mcp-session-id": sessions[0] ?? "" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "agent_chat", arguments: { message: "what is (6+1)*6?" } },
    }),
  }),
);
const threadId = (chat.result?.structuredContent as { thread_id?: string } | undefined)?.thread_id;
if (!threadId) throw new Error(`agent_chat gave no thread: ${JSON.stringify(chat)}`);

const bodies: Record<string, string> = {
  ping: `{"jsonrpc":"2.0","id":ID,"method":"ping"}`,
  "tools/list": `{"jsonrpc":"2.0","id":ID,"method":"tools/list"}`,
  conversation_get: `{"jsonrpc":"2.0","id":ID,"method":"tools/call","params":{"name":"conversation_get","arguments":{"thread_id":"${threadId}"}}}`,
};

/** wrk script: a unique JSON-RPC id per request, sessions round-robin, a result counted only if it is one. */
const script = (body: string, sessionIds: string[]) => `
local sessions = {${sessionIds.map((id) => `"${id}"`).join(",")}}
local n = 0
ok, bad = 0, 0
wrk.method = "POST"
${Object.entries(headers)
  .map(([name, value]) => `wrk.headers["${name}"] = "${value}"`)
  .join("\n")}
request = function()
  n = n + 1
  wrk.headers["mcp-session-id"] = sessions[(n % #sessions) + 1]
  return wrk.format(nil, "/mcp", nil, (string.gsub('${body}', "ID", tostring(n))))
end
response = function(status, headers, body)
  if status == 200 and string.find(body, '"result"', 1, true) and not string.find(body, '"isError":true', 1, true) then
    ok = ok + 1
  else
    bad = bad + 1
  end
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local good, failed = 0, summary.errors.timeout + summary.errors.status
  for _, thread in ipairs(threads) do good = good + thread:get("ok"); failed = failed + thread:get("bad") end
  io.write(string.format("RESULT %d %d %.2f %.2f\\n", good, failed, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
`;

/** Server CPU (user + system) in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
function serverCpuMs(): number {
  const fields = (readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1] ?? "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const scriptPath = join(tmpdir(), `request-path-${process.pid}.lua`);
process.stdout.write(
  "| request | req/s | failed | p50 ms | p99 ms | server CPU µs/req |\n| --- | --: | --: | --: | --: | --: |\n",
);
for (const [name, body] of Object.entries(bodies)) {
  for (const [mode, sessionIds] of [
    ["1 session", sessions.slice(0, 1)],
    [`${connections} sessions`, sessions],
  ] as const) {
    writeFileSync(scriptPath, script(body, sessionIds));
    const wrk = (duration: number) =>
      execFileSync("wrk", ["-t1", `-c${connections}`, `-d${duration}s`, "-s", scriptPath, `${url}/mcp`]);
    wrk(2); // warm-up
    const cpuBefore = serverCpuMs();
    const started = performance.now();
    const output = wrk(seconds).toString();
    const wall = (performance.now() - started) / 1000;
    const cpu = serverCpuMs() - cpuBefore;
    const [good, failed, p50, p99] = (/RESULT (\S+) (\S+) (\S+) (\S+)/.exec(output) ?? [])
      .slice(1)
      .map(Number);
    const requests = (good ?? 0) + (failed ?? 0);
    const cells = [
      `\`${name}\`, ${mode}`,
      Math.round(requests / wall),
      failed,
      p50,
      p99,
      Math.round((cpu * 1000) / requests),
    ];
    process.stdout.write(`| ${cells.join(" | ")} |\n`);
  }
}
await app.close();
