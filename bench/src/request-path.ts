/**
 * The request path: requests per second, latency and server CPU per request for cheap MCP requests
 * at 64 connections, for this app and for peers measured on the same machine in the same run. One
 * server process runs at a time, so each has the cores to itself (apart from the load generator).
 */
import type { RunningApp } from "./app-runner.ts";
import { type BenchChild, startBenchChild } from "./children.ts";
import {
  type LoadResult,
  mcpFailure,
  openMcpSession,
  parseRpcBody,
  rpcBody,
  runLoad,
} from "./load-generator.ts";

export const CONNECTIONS = 64;

export interface PathRow {
  server: string;
  /** "1 session", "64 sessions", "stateless" or "—". */
  sessions: string;
  method: string;
  result: LoadResult;
}

export interface PhaseTiming {
  warmupMs: number;
  durationMs: number;
}

/** Creates a thread for the user behind `token` (one agent_chat) and returns its id. */
async function createThread(endpoint: string, token: string): Promise<string> {
  const session = await openMcpSession(endpoint, token);
  const response = await fetch(endpoint, {
    method: "POST",
    headers: session.headers,
    body: rpcBody("tools/call", { name: "agent_chat", arguments: { message: "hello" } })(1),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await response.text();
  const contentType = response.headers.get("content-type") ?? undefined;
  const failure = mcpFailure(response.status, contentType, text);
  if (failure) throw new Error(`agent_chat to create a thread failed: ${failure}`);
  const result = parseRpcBody(contentType, text)?.result as { structuredContent?: { thread_id?: string } };
  const threadId = result?.structuredContent?.thread_id;
  if (!threadId) throw new Error("agent_chat returned no thread_id");
  return threadId;
}

/**
 * `tools/call conversation_get` alone, a session per connection: the request the WORKERS comparison
 * measures (each call reads its checkpoint from the configured backend).
 */
export async function measureToolsCall(app: RunningApp, timing: PhaseTiming): Promise<LoadResult> {
  const endpoint = `${app.url}/mcp`;
  const threads = await Promise.all(app.tokens.map((token) => createThread(endpoint, token)));
  const sessions = await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) =>
      openMcpSession(endpoint, app.tokens[i % app.tokens.length]),
    ),
  );
  return runLoad({
    origin: app.url,
    connections: CONNECTIONS,
    ...timing,
    serverPid: app.pid,
    failure: mcpFailure,
    request: (connection) => ({
      path: "/mcp",
      headers: sessions[connection]!.headers,
      body: rpcBody("tools/call", {
        name: "conversation_get",
        arguments: { thread_id: threads[connection % app.tokens.length] },
      }),
    }),
  });
}

/** The app: ping, tools/list and conversation_get, on one shared session and on a session per connection. */
export async function measureApp(app: RunningApp, timing: PhaseTiming): Promise<PathRow[]> {
  const endpoint = `${app.url}/mcp`;
  // conversation_get needs a conversation the caller owns: one thread per user, made beforehand.
  const threads = await Promise.all(app.tokens.map((token) => createThread(endpoint, token)));
  const sessions = await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) =>
      openMcpSession(endpoint, app.tokens[i % app.tokens.length]),
    ),
  );
  const methods: { method: string; body: (connection: number) => (seq: number) => string }[] = [
    { method: "ping", body: () => rpcBody("ping") },
    { method: "tools/list", body: () => rpcBody("tools/list") },
    {
      method: "tools/call conversation_get",
      body: (connection) =>
        rpcBody("tools/call", {
          name: "conversation_get",
          arguments: { thread_id: threads[connection % app.tokens.length] },
        }),
    },
  ];
  const rows: PathRow[] = [];
  for (const shared of [true, false]) {
    for (const { method, body } of methods) {
      // With one shared session every connection acts as session 0's user, whose thread is threads[0].
      const sessionOf = (connection: number) => (shared ? 0 : connection);
      const result = await runLoad({
        origin: app.url,
        connections: CONNECTIONS,
        ...timing,
        serverPid: app.pid,
        failure: mcpFailure,
        request: (connection) => ({
          path: "/mcp",
          headers: sessions[sessionOf(connection)]!.headers,
          body: body(sessionOf(connection)),
        }),
      });
      rows.push({
        server: "this app",
        sessions: shared ? "1 session" : `${CONNECTIONS} sessions`,
        method,
        result,
      });
    }
  }
  return rows;
}

async function measurePeerMcp(
  peer: BenchChild<{ url: string }>,
  server: string,
  sessionsLabel: string,
  stateless: boolean,
  timing: PhaseTiming,
): Promise<PathRow[]> {
  const endpoint = new URL(peer.ready.url);
  // Stateless: one handshake for the protocol version header; stateful: a session per connection.
  const sessions = await Promise.all(
    Array.from({ length: stateless ? 1 : CONNECTIONS }, () => openMcpSession(endpoint.href)),
  );
  const methods = [
    { method: "ping", body: rpcBody("ping") },
    { method: "tools/list", body: rpcBody("tools/list") },
    { method: "tools/call echo", body: rpcBody("tools/call", { name: "echo", arguments: { text: "hi" } }) },
  ];
  const rows: PathRow[] = [];
  for (const { method, body } of methods) {
    const result = await runLoad({
      origin: endpoint.origin,
      connections: CONNECTIONS,
      ...timing,
      serverPid: peer.pid,
      failure: mcpFailure,
      request: (connection) => ({
        path: endpoint.pathname,
        headers: sessions[stateless ? 0 : connection]!.headers,
        body,
      }),
    });
    rows.push({ server, sessions: sessionsLabel, method, result });
  }
  return rows;
}

/** Each peer in its own process, started, measured and stopped before the next one. */
export async function measurePeers(timing: PhaseTiming): Promise<PathRow[]> {
  const rows: PathRow[] = [];
  const entry = (name: string) => new URL(`./peers/${name}.ts`, import.meta.url);

  const stateless = await startBenchChild<{ url: string }>(entry("stateless-sdk"), {
    name: "stateless SDK peer",
  });
  try {
    rows.push(
      ...(await measurePeerMcp(stateless, "SDK stateless (server per request)", "stateless", true, timing)),
    );
  } finally {
    await stateless.stop();
  }

  const fastmcp = await startBenchChild<{ url: string }>(entry("fastmcp"), { name: "FastMCP peer" });
  try {
    rows.push(...(await measurePeerMcp(fastmcp, "FastMCP", `${CONNECTIONS} sessions`, false, timing)));
  } finally {
    await fastmcp.stop();
  }

  const hono = await startBenchChild<{ url: string }>(entry("bare-hono"), { name: "bare Hono peer" });
  try {
    const endpoint = new URL(hono.ready.url);
    const result = await runLoad({
      origin: endpoint.origin,
      connections: CONNECTIONS,
      ...timing,
      serverPid: hono.pid,
      failure: (status, _contentType, text) => {
        if (status !== 200) return `HTTP ${status}`;
        try {
          JSON.parse(text);
          return undefined;
        } catch {
          return "unparsable body";
        }
      },
      request: () => ({
        path: endpoint.pathname,
        headers: { "content-type": "application/json" },
        body: rpcBody("ping"),
      }),
    });
    rows.push({ server: "bare Hono JSON route", sessions: "—", method: "POST JSON", result });
  } finally {
    await hono.stop();
  }
  return rows;
}
