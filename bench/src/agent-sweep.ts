/**
 * The agent sweep: N concurrent `agent_chat` calls through the official MCP client over many MCP
 * sessions, against the built app whose model answers after 2 s. Measures wall time, outcomes by
 * error code, the server's CPU per call and added memory, and how many calls reached the model at
 * once. Also the one-at-a-time baseline (the same call, sequentially).
 */
import { availableParallelism } from "node:os";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { RunningApp } from "./app-runner.ts";
import type { BenchChild } from "./children.ts";
import type { ProbeReport } from "./health-probe.ts";
import { coresBusySince, cpuMs, machineCpu, rssKb, sampleRss } from "./proc-stats.ts";

/** Every agent call's deadline: a stuck call fails the call, never hangs the bench. */
export const AGENT_CALL_DEADLINE_MS = 120_000;

export interface ModelStats {
  served: number;
  inFlight: number;
  maxInFlight: number;
}

export interface AgentRun {
  n: number;
  sessions: number;
  wallMs: number;
  ok: number;
  failures: Record<string, number>;
  serverCpuMsPerCall: number;
  /** CPU of the bench process (the MCP clients) over the phase: it shares the two cores with the server. */
  clientCpuMs: number;
  /** Cores of the whole machine busy on average over the phase (server, clients, model, backends). */
  machineCoresBusy: number;
  rssAddedMb: number;
  maxAtModel: number;
  health?: ProbeReport;
}

export async function openSessions(app: RunningApp, count: number): Promise<Client[]> {
  const open = async (index: number) => {
    const client = new Client({ name: `bench-${index}`, version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${app.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${app.tokens[index % app.tokens.length]}` } },
      }),
      { timeout: 30_000 },
    );
    return client;
  };
  // In batches: a few hundred simultaneous initialize requests would only measure the accept queue.
  const clients: Client[] = [];
  for (let start = 0; start < count; start += 50) {
    const batch = Array.from({ length: Math.min(50, count - start) }, (_, i) => open(start + i));
    clients.push(...(await Promise.all(batch)));
  }
  return clients;
}

/** How a call ended: undefined for success, else the error code the client saw. */
async function agentChat(client: Client, message: string): Promise<string | undefined> {
  try {
    const result = await client.callTool(
      { name: "agent_chat", arguments: { message } },
      { timeout: AGENT_CALL_DEADLINE_MS, signal: AbortSignal.timeout(AGENT_CALL_DEADLINE_MS + 5_000) },
    );
    if (!result.isError) return undefined;
    const code = (result.structuredContent as { error?: { code?: string } } | undefined)?.error?.code;
    if (code) return code;
    const text = (result.content as { text?: string }[] | undefined)?.[0]?.text ?? "";
    return `isError: ${text.slice(0, 60)}`;
  } catch (error) {
    // Thrown: an HTTP refusal (SdkHttpError carries the status), the SDK's own request timeout,
    // a JSON-RPC error or a transport failure. The HTTP status leads, so 429/503 group together.
    const status = (error as { data?: { status?: unknown } }).data?.status;
    const code = (error as { code?: unknown }).code;
    const name = error instanceof Error ? error.name : "Error";
    const message = error instanceof Error ? error.message : String(error);
    const head = typeof status === "number" ? `HTTP ${status}` : name;
    // fetch wraps the reason ("fetch failed"): its cause's code (e.g. UND_ERR_CONNECT_TIMEOUT) says why.
    const cause = (error as { cause?: { code?: unknown; name?: unknown } }).cause;
    const why = cause ? ` (${String(cause.code ?? cause.name)})` : "";
    return `${head}${code !== undefined ? ` ${String(code)}` : ""}: ${message.slice(0, 60)}${why}`;
  }
}

/** A couple of calls per session, not measured: JIT, lazy imports, the client's tool cache, first checkpoints. */
export async function warmUp(clients: Client[], callsPerSession = 2): Promise<Record<string, number>> {
  const outcomes: Record<string, number> = {};
  await Promise.all(
    clients.map(async (client, i) => {
      for (let turn = 0; turn < callsPerSession; turn++) {
        const outcome = (await agentChat(client, `warm up ${i}.${turn}`)) ?? "ok";
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }
    }),
  );
  return outcomes;
}

export async function sequentialBaseline(client: Client, calls: number) {
  const durations: number[] = [];
  const failures: Record<string, number> = {};
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    const outcome = await agentChat(client, `one at a time ${i}`);
    durations.push(performance.now() - started);
    if (outcome) failures[outcome] = (failures[outcome] ?? 0) + 1;
  }
  const perCallMs = durations.reduce((sum, value) => sum + value, 0) / calls;
  return { calls, perCallMs, failures };
}

export async function agentRun(options: {
  app: RunningApp;
  clients: Client[];
  n: number;
  model: BenchChild<unknown>;
  probe?: BenchChild<unknown>;
}): Promise<AgentRun> {
  const { app, clients, n, model, probe } = options;
  await model.call("reset");
  if (probe) await probe.call("start", { url: `${app.url}/health/live`, intervalMs: 100 });
  const rssBefore = rssKb(app.pid);
  const rss = sampleRss(app.pid, 100);
  const cpuBefore = cpuMs(app.pid);
  const clientCpuBefore = process.cpuUsage();
  const machineBefore = machineCpu();
  const failures: Record<string, number> = {};
  let ok = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const outcome = await agentChat(clients[i % clients.length]!, `hello ${i}`);
      if (outcome === undefined) ok++;
      else failures[outcome] = (failures[outcome] ?? 0) + 1;
    }),
  );
  const wallMs = performance.now() - started;
  const serverCpuMs = cpuMs(app.pid) - cpuBefore;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const machineCoresBusy = coresBusySince(machineBefore, availableParallelism());
  const rssPeak = rss.stop();
  const health = probe ? await probe.call<ProbeReport>("stop") : undefined;
  const stats = await model.call<ModelStats>("stats");
  return {
    n,
    sessions: clients.length,
    wallMs,
    ok,
    failures,
    serverCpuMsPerCall: serverCpuMs / n,
    clientCpuMs: (clientCpu.user + clientCpu.system) / 1000,
    machineCoresBusy,
    rssAddedMb: (rssPeak - rssBefore) / 1024,
    maxAtModel: stats.maxInFlight,
    ...(health ? { health } : {}),
  };
}
