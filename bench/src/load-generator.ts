/**
 * A closed-loop HTTP load generator for the request path: `connections` keep-alive connections
 * (one undici Client each, no pipelining), each sending its next request as soon as the previous
 * answer has been read. Raw JSON-RPC over HTTP rather than the MCP SDK client, so that on two cores
 * the generator costs little next to the server it measures; it does the MCP handshake itself.
 */
import { availableParallelism } from "node:os";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/client";
import { Client } from "undici";
import { coresBusySince, cpuMs, machineCpu } from "./proc-stats.ts";

const ACCEPT = "application/json, text/event-stream";
const REQUEST_TIMEOUT_MS = 10_000;

type JsonRpcMessage = {
  id?: string | number | null;
  result?: { isError?: boolean; content?: { text?: string }[] };
  error?: { code: number; message: string };
};

/**
 * The JSON-RPC response in an answer body: a JSON body, or an SSE stream whose `data:` lines carry
 * messages (a server may send notifications before the response; the response is the one with an id).
 */
export function parseRpcBody(contentType: string | undefined, text: string): JsonRpcMessage | undefined {
  if (contentType?.includes("text/event-stream")) {
    let found: JsonRpcMessage | undefined;
    for (const line of text.split("\n")) {
      if (!line.startsWith("data:")) continue;
      const data = line.slice(5).trim();
      if (!data) continue;
      const message = JSON.parse(data) as JsonRpcMessage;
      if (message.id !== undefined) found = message;
    }
    return found;
  }
  return text ? (JSON.parse(text) as JsonRpcMessage) : undefined;
}

/** Why an MCP answer is a failure (HTTP status, JSON-RPC error, tool `isError`), or undefined if it is not. */
export function mcpFailure(
  status: number,
  contentType: string | undefined,
  text: string,
): string | undefined {
  if (status !== 200) return `HTTP ${status}`;
  let message: JsonRpcMessage | undefined;
  try {
    message = parseRpcBody(contentType, text);
  } catch {
    return "unparsable body";
  }
  if (!message) return "no JSON-RPC response";
  if (message.error) return `JSON-RPC ${message.error.code}: ${message.error.message.slice(0, 80)}`;
  if (message.result?.isError) return `isError: ${message.result.content?.[0]?.text?.slice(0, 80) ?? ""}`;
  return undefined;
}

export interface McpSession {
  /** Headers every request of this session carries. */
  headers: Record<string, string>;
}

/** `initialize` + `notifications/initialized`, by hand: a stateful server answers with a session id. */
export async function openMcpSession(endpoint: string, token?: string): Promise<McpSession> {
  const base: Record<string, string> = {
    "content-type": "application/json",
    accept: ACCEPT,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
  const response = await fetch(endpoint, {
    method: "POST",
    headers: base,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: "mcp-langgraph-bench", version: "1.0.0" },
      },
    }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  const failure = mcpFailure(response.status, response.headers.get("content-type") ?? undefined, text);
  if (failure) throw new Error(`initialize at ${endpoint}: ${failure}`);
  const result = parseRpcBody(response.headers.get("content-type") ?? undefined, text)?.result as
    | { protocolVersion?: string }
    | undefined;
  const sessionId = response.headers.get("mcp-session-id");
  const headers: Record<string, string> = {
    ...base,
    "mcp-protocol-version": result?.protocolVersion ?? LATEST_PROTOCOL_VERSION,
    ...(sessionId ? { "mcp-session-id": sessionId } : {}),
  };
  const initialized = await fetch(endpoint, {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  await initialized.text();
  if (initialized.status !== 202 && initialized.status !== 200) {
    throw new Error(`notifications/initialized at ${endpoint}: HTTP ${initialized.status}`);
  }
  return { headers };
}

export interface LoadRequest {
  path: string;
  headers: Record<string, string>;
  /** The body of request number `seq`: JSON-RPC ids must differ while requests share a session. */
  body: (seq: number) => string;
}

/** A JSON-RPC request body factory; the text around the id is built once, not per request. */
export function rpcBody(method: string, params?: unknown): (seq: number) => string {
  const suffix = `,"method":${JSON.stringify(method)}${params === undefined ? "" : `,"params":${JSON.stringify(params)}`}}`;
  return (seq) => `{"jsonrpc":"2.0","id":${seq}${suffix}`;
}

export interface LoadOptions {
  origin: string;
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** The request connection number `connection` sends each time (its session, its body). */
  request: (connection: number) => LoadRequest;
  /** Why an answer counts as a failure, or undefined for a success. */
  failure: (status: number, contentType: string | undefined, text: string) => string | undefined;
  /** The server process whose CPU time is read over the timed window. */
  serverPid: number;
}

export interface LoadResult {
  requests: number;
  failures: number;
  failureReasons: Record<string, number>;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuMsPerRequest: number;
  /** The generator's own CPU per request (this process): shows whether it, not the server, was the limit. */
  generatorCpuMsPerRequest: number;
  /** Cores of the whole machine busy on average while recording (every process, not only the server). */
  machineCoresBusy: number;
}

const percentile = (sorted: Float64Array, q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : Number.NaN;

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const clients = Array.from(
    { length: options.connections },
    () => new Client(options.origin, { pipelining: 1, keepAliveTimeout: 60_000 }),
  );
  // Preallocated, grown by doubling: a push per request into a JS array shows up in the generator's CPU.
  let latencies = new Float64Array(1 << 16);
  let recorded = 0;
  let failures = 0;
  const reasons: Record<string, number> = {};
  let recording = false;
  let running = true;
  let seq = 0;

  const worker = async (index: number) => {
    const client = clients[index]!;
    const request = options.request(index);
    while (running) {
      const started = performance.now();
      let reason: string | undefined;
      try {
        const response = await client.request({
          method: "POST",
          path: request.path,
          headers: request.headers,
          body: request.body(++seq),
          headersTimeout: REQUEST_TIMEOUT_MS,
          bodyTimeout: REQUEST_TIMEOUT_MS,
        });
        const text = await response.body.text();
        const contentType = response.headers["content-type"];
        reason = options.failure(
          response.statusCode,
          Array.isArray(contentType) ? contentType[0] : contentType,
          text,
        );
      } catch (error) {
        reason = (error as { code?: string }).code ?? (error as Error).name;
        // A broken connection would otherwise spin: give the server a moment before the next try.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (!recording) continue;
      if (recorded === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[recorded++] = performance.now() - started;
      if (reason !== undefined) {
        failures++;
        reasons[reason] = (reasons[reason] ?? 0) + 1;
      }
    }
  };

  const workers = clients.map((_, index) => worker(index));
  try {
    await new Promise((resolve) => setTimeout(resolve, options.warmupMs));
    const cpuBefore = cpuMs(options.serverPid);
    const generatorBefore = process.cpuUsage();
    const machineBefore = machineCpu();
    const started = performance.now();
    recording = true;
    await new Promise((resolve) => setTimeout(resolve, options.durationMs));
    recording = false;
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuMs(options.serverPid) - cpuBefore;
    const generator = process.cpuUsage(generatorBefore);
    const machineCoresBusy = coresBusySince(machineBefore, availableParallelism());
    running = false;
    await Promise.all(workers);
    const sorted = latencies.subarray(0, recorded).sort();
    return {
      requests: recorded,
      failures,
      failureReasons: reasons,
      seconds,
      requestsPerSecond: recorded / seconds,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      cpuMsPerRequest: recorded ? cpu / recorded : Number.NaN,
      generatorCpuMsPerRequest: recorded ? (generator.user + generator.system) / 1000 / recorded : Number.NaN,
      machineCoresBusy,
    };
  } finally {
    running = false;
    await Promise.allSettled(workers);
    await Promise.allSettled(clients.map((client) => client.destroy()));
  }
}
