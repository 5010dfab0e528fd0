/**
 * Turns the measurements into Markdown tables (printed, and written to docs/bench/README.md) with
 * the ratios and the targets the server team works to, side by side with what was measured. The
 * "met" column is information for the reader; nothing fails on it (benchmarks are not tests).
 */
import type { AgentRun } from "./agent-sweep.ts";
import type { ProbeStats } from "./health-probe.ts";
import type { PathRow } from "./request-path.ts";
import type { WorkersRun } from "./workers.ts";

export interface MachineFacts {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  clockTicks: number;
  loadBefore: number[];
  loadAfter: number[];
}

export interface BareResult {
  n: number;
  wallMs: number;
  ok: number;
  failures: Record<string, number>;
  cpuMsPerCall: number;
  maxAtModel: number;
}

export interface SequentialResult {
  calls: number;
  perCallMs: number;
  failures: Record<string, number>;
}

export interface BenchResults {
  startedAt: Date;
  durationS: number;
  command: string;
  machine: MachineFacts;
  modelDelayMs: number;
  users: number;
  sessionsCap: number;
  warmUp: Record<string, number>;
  sequential?: SequentialResult;
  agent: AgentRun[];
  bare: BareResult[];
  requestPath: PathRow[];
  requestPhase: { warmupMs: number; durationMs: number; connections: number };
  /** E: the app in each WORKERS mode on Redis + Postgres (empty when not run). */
  workers: WorkersRun[];
  /** Phases that could not run, and why: the report says so instead of leaving rows out silently. */
  problems: string[];
}

// ---- formatting ----

const int = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "—");
const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : "—");
const seconds = (ms: number) => fixed(ms / 1000, 2);
const ratio = (a: number, b: number) => (Number.isFinite(a / b) && b > 0 ? `${fixed(a / b, 2)}×` : "—");
const failedCount = (failures: Record<string, number>) => Object.values(failures).reduce((s, n) => s + n, 0);
const describeFailures = (failures: Record<string, number>) =>
  Object.entries(failures)
    .sort(([, a], [, b]) => b - a)
    .map(([code, count]) => `${code} × ${int(count)}`)
    .join("; ")
    // A table cell cannot hold a pipe or a line break.
    .replace(/\|/g, "/")
    .replace(/\s+/g, " ") || "—";

/** A Markdown table with padded columns, as the repository's formatter (biome) writes them. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) =>
    Math.max(3, cell.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

// ---- targets ----

/**
 * A failure the client may simply retry: a typed server code saying "busy", "overloaded", "rate
 * limited", "unavailable" or "timed out", or an HTTP 429/503 refusal. Anything else (a client-side
 * deadline, a transport error, an INTERNAL) counts as unclear, and a client deadline as a hang.
 */
export const isRetryable = (code: string) =>
  (/^[A-Z][A-Z0-9_]+$/.test(code) && /BUSY|OVERLOAD|RATE_LIMIT|UNAVAILABLE|TIMEOUT|RETRY/.test(code)) ||
  /^HTTP (429|503)\b/.test(code);
const isHang = (code: string) => /timed? ?out|-32001|abort/i.test(code) && !/^[A-Z][A-Z0-9_]+$/.test(code);

const yesNo = (met: boolean | undefined) => (met === undefined ? "—" : met ? "yes" : "**no**");

function targetRows(results: BenchResults): string[][] {
  const agentAt = (n: number) => results.agent.find((run) => run.n === n);
  const bareAt = (n: number) => results.bare.find((run) => run.n === n);
  const rows: string[][] = [];
  const a100 = agentAt(100);
  if (a100) {
    rows.push([
      "100 calls: all succeed, wall ≤ 2.3 s",
      `${int(a100.ok)}/${int(a100.n)} ok, wall ${seconds(a100.wallMs)} s`,
      yesNo(a100.ok === a100.n && a100.wallMs <= 2_300),
    ]);
  }
  const a1k = agentAt(1_000);
  const b1k = bareAt(1_000);
  if (a1k) {
    rows.push(["1,000 calls: all succeed", `${int(a1k.ok)}/${int(a1k.n)} ok`, yesNo(a1k.ok === a1k.n)]);
    rows.push([
      "1,000 calls: wall ≤ bare LangGraph wall",
      `${seconds(a1k.wallMs)} s vs ${b1k ? seconds(b1k.wallMs) : "—"} s`,
      yesNo(b1k ? a1k.wallMs <= b1k.wallMs : undefined),
    ]);
    // A refused call costs the server almost nothing: per-call CPU and memory of a run with refusals
    // would look better than a server that did all the work, so those rows only count when all succeeded.
    const allOk = a1k.ok === a1k.n;
    const onlyIfAllOk = (met: boolean | undefined) =>
      allOk || met === undefined ? yesNo(met) : `**no** (${int(a1k.n - a1k.ok)} calls were not served)`;
    rows.push([
      "1,000 calls: server CPU/call ≤ bare LangGraph CPU/call",
      `${fixed(a1k.serverCpuMsPerCall, 2)} ms vs ${b1k ? fixed(b1k.cpuMsPerCall, 2) : "—"} ms`,
      onlyIfAllOk(b1k ? a1k.serverCpuMsPerCall <= b1k.cpuMsPerCall : undefined),
    ]);
    rows.push([
      "1,000 calls: RSS added ≤ 150 MB",
      `${fixed(a1k.rssAddedMb, 1)} MB`,
      onlyIfAllOk(a1k.rssAddedMb <= 150),
    ]);
  }
  const a5k = agentAt(5_000);
  if (a5k) {
    const codes = Object.entries(a5k.failures);
    const unclear = codes.filter(([code]) => !isRetryable(code)).reduce((sum, [, count]) => sum + count, 0);
    const hung = codes.filter(([code]) => isHang(code)).reduce((sum, [, count]) => sum + count, 0);
    rows.push([
      "5,000 calls: each succeeds or gets a clear retryable error",
      `${int(a5k.ok)} ok, ${int(failedCount(a5k.failures) - unclear)} retryable, ${int(unclear)} other`,
      yesNo(unclear === 0),
    ]);
    rows.push([
      "5,000 calls: none hang (no client deadline hit)",
      `${int(hung)} hit the deadline`,
      yesNo(hung === 0),
    ]);
    rows.push([
      "5,000 calls: /health/live < 100 ms throughout",
      a5k.health
        ? `max ${fixed(a5k.health.newConnection.maxMs, 1)} ms on new connections, ${fixed(a5k.health.keepAlive.maxMs, 1)} ms kept alive (${int(a5k.health.newConnection.probes)} probes each)`
        : "not probed",
      yesNo(
        a5k.health
          ? [a5k.health.newConnection, a5k.health.keepAlive].every((p) => p.maxMs < 100 && p.failures === 0)
          : undefined,
      ),
    ]);
  }
  const pathTargets: [string, number][] = [
    ["ping", 8_000],
    ["tools/list", 6_000],
    ["tools/call conversation_get", 4_000],
  ];
  for (const [method, goal] of pathTargets) {
    const app = results.requestPath.filter((row) => row.server === "this app" && row.method === method);
    if (!app.length) continue;
    rows.push([
      `${method} at 64 connections ≥ ${int(goal)} req/s`,
      app.map((row) => `${int(row.result.requestsPerSecond)} (${row.sessions})`).join(", "),
      app
        .map(
          (row) =>
            `${row.sessions}: ${yesNo(row.result.requestsPerSecond >= goal && row.result.failures === 0)}`,
        )
        .join(", "),
    ]);
  }
  rows.push(...workerTargetRows(results));
  return rows;
}

/** Issue 10's targets: the most workers measured against one, on the same backends in the same run. */
function workerTargetRows(results: BenchResults): string[][] {
  const one = results.workers.find((run) => run.workers === 1);
  const many = results.workers.filter((run) => run.workers > 1).at(-1);
  if (!one || !many) return [];
  const rows: string[][] = [];
  const label = `WORKERS=${many.workers} vs WORKERS=1`;
  if (one.toolsCall && many.toolsCall) {
    const gain = many.toolsCall.requestsPerSecond / one.toolsCall.requestsPerSecond;
    const clean = one.toolsCall.failures === 0 && many.toolsCall.failures === 0;
    rows.push([
      `${label}: tools/call throughput ≥ 1.6×`,
      `${int(many.toolsCall.requestsPerSecond)} vs ${int(one.toolsCall.requestsPerSecond)} req/s (${fixed(gain, 2)}×)`,
      yesNo(clean ? gain >= 1.6 : false),
    ]);
  }
  const delay = results.modelDelayMs;
  for (const single of one.agent) {
    const multi = many.agent.find((run) => run.n === single.n);
    if (!multi) continue;
    const above = (run: AgentRun) => run.wallMs - delay;
    const share = above(multi) / above(single);
    const allOk = single.ok === single.n && multi.ok === multi.n;
    rows.push([
      `${label}, ${int(single.n)} agent_chat: wall above ${seconds(delay)} s ≤ 0.6× (stretch: wall ≤ ${seconds(delay + 600)} s)`,
      `${seconds(above(multi))} s vs ${seconds(above(single))} s above (${fixed(share, 2)}×); wall ${seconds(multi.wallMs)} s`,
      allOk
        ? `${yesNo(share <= 0.6)}; stretch ${yesNo(multi.wallMs <= delay + 600)}`
        : "**no** (calls failed)",
    ]);
  }
  return rows;
}

// ---- sections ----

const probeCell = (stats: ProbeStats) =>
  `${fixed(stats.maxMs, 1)} (p99 ${fixed(stats.p99Ms, 1)}${stats.failures ? `, ${int(stats.failures)} failed` : ""})`;

export function agentTable(results: BenchResults): string {
  return table(
    [
      "N",
      "sessions",
      "wall (s)",
      `wall / ${results.modelDelayMs / 1000} s`,
      "ok",
      "failed",
      "failures by code",
      "server CPU/call (ms)",
      "RSS added (MB)",
      "max at model",
      "/health/live max, new conn. (ms)",
      "/health/live max, kept alive (ms)",
      "bench client CPU (s)",
    ],
    results.agent.map((run) => [
      int(run.n),
      int(run.sessions),
      seconds(run.wallMs),
      fixed(run.wallMs / results.modelDelayMs, 2),
      int(run.ok),
      int(failedCount(run.failures)),
      describeFailures(run.failures),
      fixed(run.serverCpuMsPerCall, 2),
      fixed(run.rssAddedMb, 1),
      int(run.maxAtModel),
      run.health ? probeCell(run.health.newConnection) : "—",
      run.health ? probeCell(run.health.keepAlive) : "—",
      fixed(run.clientCpuMs / 1000, 2),
    ]),
  );
}

export function bareTable(results: BenchResults): string {
  return table(
    [
      "N",
      "wall (s)",
      `wall / ${results.modelDelayMs / 1000} s`,
      "ok",
      "failed",
      "CPU/call (ms)",
      "max at model",
    ],
    results.bare.map((run) => [
      int(run.n),
      seconds(run.wallMs),
      fixed(run.wallMs / results.modelDelayMs, 2),
      int(run.ok),
      int(failedCount(run.failures)) +
        (failedCount(run.failures) ? ` (${describeFailures(run.failures)})` : ""),
      fixed(run.cpuMsPerCall, 2),
      int(run.maxAtModel),
    ]),
  );
}

export function agentRatioTable(results: BenchResults): string {
  const rows = results.agent.flatMap((run) => {
    const bare = results.bare.find((b) => b.n === run.n);
    if (!bare) return [];
    return [[int(run.n), ratio(run.wallMs, bare.wallMs), ratio(run.serverCpuMsPerCall, bare.cpuMsPerCall)]];
  });
  return table(["N", "app wall / bare wall", "app CPU/call / bare CPU/call"], rows);
}

export function sequentialTable(results: BenchResults): string {
  const seq = results.sequential;
  if (!seq) return "(not run)";
  return table(
    ["calls", "per call (s)", "failed", "N = 100 one at a time (s), **extrapolated** = 100 × per call"],
    [
      [
        int(seq.calls),
        seconds(seq.perCallMs),
        failedCount(seq.failures) ? describeFailures(seq.failures) : "0",
        `${seconds(seq.perCallMs * 100)} (extrapolated)`,
      ],
    ],
  );
}

export function requestPathTable(results: BenchResults): string {
  return table(
    [
      "server",
      "sessions",
      "method",
      "req/s",
      "p50 (ms)",
      "p99 (ms)",
      "server CPU/req (ms)",
      "load generator CPU/req (ms)",
      "failed",
    ],
    results.requestPath.map((row) => [
      row.server,
      row.sessions,
      row.method,
      int(row.result.requestsPerSecond),
      fixed(row.result.p50Ms, 2),
      fixed(row.result.p99Ms, 2),
      fixed(row.result.cpuMsPerRequest, 3),
      fixed(row.result.generatorCpuMsPerRequest, 3),
      int(row.result.failures) +
        (row.result.failures ? ` (${describeFailures(row.result.failureReasons)})` : ""),
    ]),
  );
}

/** App req/s over each peer's for the corresponding request (a tool call compares with a tool call). */
export function requestRatioTable(results: BenchResults): string {
  const peerMethodFor = (method: string) => (method.startsWith("tools/call") ? "tools/call echo" : method);
  const peers = [
    ...new Set(results.requestPath.filter((row) => row.server !== "this app").map((row) => row.server)),
  ];
  const rows: string[][] = [];
  for (const app of results.requestPath.filter((row) => row.server === "this app")) {
    const cells = peers.map((peer) => {
      const match =
        results.requestPath.find((row) => row.server === peer && row.method === peerMethodFor(app.method)) ??
        results.requestPath.find((row) => row.server === peer && row.method === "POST JSON");
      return match ? ratio(app.result.requestsPerSecond, match.result.requestsPerSecond) : "—";
    });
    rows.push([`${app.method} (${app.sessions})`, ...cells]);
  }
  return table(["this app: method (sessions)", ...peers.map((peer) => `÷ ${peer}`)], rows);
}

/** E: one row per WORKERS mode and measurement (tools/call, then each agent sweep size). */
export function workersTable(results: BenchResults): string {
  const rows: string[][] = [];
  for (const run of results.workers) {
    const call = run.toolsCall;
    if (call) {
      rows.push([
        String(run.workers),
        `tools/call conversation_get, ${results.requestPhase.connections} connections`,
        `${int(call.requestsPerSecond)} req/s`,
        `p50 ${fixed(call.p50Ms, 2)} / p99 ${fixed(call.p99Ms, 2)} ms`,
        fixed(call.cpuMsPerRequest, 3),
        fixed(call.machineCoresBusy, 2),
        int(call.failures) + (call.failures ? ` (${describeFailures(call.failureReasons)})` : ""),
      ]);
    }
    for (const agent of run.agent) {
      rows.push([
        String(run.workers),
        `${int(agent.n)} agent_chat over ${int(agent.sessions)} sessions`,
        `wall ${seconds(agent.wallMs)} s`,
        `${seconds(agent.wallMs - results.modelDelayMs)} s above the model's ${seconds(results.modelDelayMs)} s`,
        fixed(agent.serverCpuMsPerCall, 2),
        fixed(agent.machineCoresBusy, 2),
        int(failedCount(agent.failures)) +
          (failedCount(agent.failures) ? ` (${describeFailures(agent.failures)})` : ""),
      ]);
    }
  }
  return table(
    [
      "WORKERS",
      "measurement",
      "result",
      "latency",
      "server CPU/req (ms, all workers)",
      `machine cores busy (of ${results.machine.cores}, every process)`,
      "failed",
    ],
    rows,
  );
}

export function targetsTable(results: BenchResults): string {
  return table(["target", "measured", "met"], targetRows(results));
}

export function machineLine(results: BenchResults): string {
  const m = results.machine;
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(" ");
  return `${m.cores} cores (nproc), ${m.cpuModel}, ${m.memoryGb.toFixed(0)} GiB, Node ${m.node} on ${m.platform}; load average before ${load(m.loadBefore)}, after ${load(m.loadAfter)}; CLK_TCK ${m.clockTicks}`;
}

/** The tables for the terminal, in the order the README gives them. */
export function printable(results: BenchResults): string {
  const parts = [
    `mcp-langgraph bench, ${results.startedAt.toISOString()}, ${results.durationS.toFixed(0)} s`,
    machineLine(results),
    "",
    `A. Agent sweep: N concurrent agent_chat over MCP (model answers after ${results.modelDelayMs} ms)`,
    agentTable(results),
    "",
    "B. Bare LangGraph floor (same model, own process, no HTTP)",
    bareTable(results),
    "",
    "A ÷ B",
    agentRatioTable(results),
    "",
    "C. One at a time",
    sequentialTable(results),
    "",
    `D. Request path, ${results.requestPhase.connections} connections, ${results.requestPhase.durationMs / 1000} s each after ${results.requestPhase.warmupMs / 1000} s warm-up`,
    requestPathTable(results),
    "",
    "D. this app's req/s ÷ each peer's",
    requestRatioTable(results),
    "",
    "",
    "E. WORKERS modes, each on SESSION_BACKEND=redis + CHECKPOINTER_BACKEND=postgres",
    results.workers.length ? workersTable(results) : "(not run)",
    "",
    "Targets",
    targetsTable(results),
  ];
  if (results.problems.length)
    parts.push("", "Problems", ...results.problems.map((problem) => `- ${problem}`));
  return `${parts.join("\n")}\n`;
}

export function readme(results: BenchResults, svgName: string): string {
  const warm = describeFailures(results.warmUp);
  return `# Benchmark: the app at scale, next to bare LangGraph and peer MCP servers

Generated by \`${results.command}\` (the \`@mcp-langgraph/bench\` workspace, \`bench/\`). Every figure below
comes from one run on ${results.startedAt.toISOString().slice(0, 10)}; rerun the command to refresh this file and the chart.

- When: ${results.startedAt.toISOString()}, ${results.durationS.toFixed(0)} s in all
- Machine: ${machineLine(results)}
- **Shared machine**: other work ran on the same 2 cores during the run, so absolute figures
  move between runs; compare rows of the same run (that is why the floor and the peers are measured
  alongside).

![wall time vs concurrent calls](./${svgName})

## How it measures

Each server runs as its own process, so its CPU (utime + stime from \`/proc/<pid>/stat\`) and memory
(\`VmRSS\` from \`/proc/<pid>/status\`, sampled every 100 ms, plus \`VmHWM\` after a reset) are its own.

- **Model**: a loopback OpenAI-compatible server (own process) answering every chat completion after
  ${results.modelDelayMs} ms; it counts the requests in flight ("max at model").
- **A. Agent sweep**: the built app (\`apps/mcp-http/dist/main.mjs\`) on defaults except
  \`LLM_PROVIDER=openai-compatible\`, \`OPENAI_BASE_URL\` (the loopback model), \`MODEL_NAME=gpt-4o-mini\`,
  \`LOCAL_USERS\` (${results.users} users, each logged in once via \`POST /auth/login\`), \`LOG_LEVEL=silent\`,
  \`MCP_MAX_SESSIONS_PER_USER=100000\`. The official client (\`@modelcontextprotocol/client\` \`Client\` +
  \`StreamableHTTPClientTransport\`) opens min(N/2, ${results.sessionsCap}) MCP sessions across those users
  before the timed phase; every session is warmed up first with two \`agent_chat\` calls (outcomes: ${warm}).
  Then N \`agent_chat\` calls start at once, round-robin over the sessions, each with a 120 s deadline.
  Failures are grouped by \`structuredContent.error.code\` (or the \`isError\` text, or the thrown error).
  Server CPU/call = server CPU over the phase ÷ N. RSS added = peak during the phase − RSS before.
  During every N a separate process probes \`GET /health/live\` every 100 ms, on a new connection (as an
  orchestrator does; a full accept queue shows there) and on a kept-alive one (only the event loop is in
  the way); a probe fails after 5 s. The < 100 ms target applies to N = 5,000.
  "bench client CPU" is the bench process's own CPU (the MCP clients) over the phase: on 2 cores it
  competes with the server.
- **B. Bare LangGraph floor**: in its own process, a one-node \`StateGraph(MessagesAnnotation)\` whose node
  calls \`ChatOpenAI\` (\`@langchain/openai\`, the repo's version) with one bound tool, a \`MemorySaver\`,
  N concurrent \`graph.invoke\` on distinct threads; no HTTP.
- **C. One at a time**: the same \`agent_chat\` call issued sequentially on one warmed session; the
  N = 100 figure is **extrapolated** (100 × per call), not measured.
- **D. Request path**: a raw HTTP load generator (undici, one keep-alive connection per worker, no
  pipelining, closed loop) sends JSON-RPC POSTs with the MCP headers after doing the \`initialize\` +
  \`notifications/initialized\` handshake itself; JSON and SSE answers are parsed and JSON-RPC errors or
  \`isError\` results count as failures. The generator's own CPU per request is shown next to the
  server's, to check that the generator was not the limit. ${results.requestPhase.connections} connections, ${results.requestPhase.warmupMs / 1000} s warm-up,
  then ${results.requestPhase.durationMs / 1000} s measured. The app (a fresh process) is measured with all connections on one
  MCP session and with a session per connection; \`conversation_get\` reads a thread made beforehand by
  \`agent_chat\`. Peers, one process at a time: the SDK's stateless pattern (new \`McpServer\` +
  \`WebStandardStreamableHTTPServerTransport\` per request on Hono), FastMCP (HTTP stream, stateful), and a
  bare Hono JSON route.

A failure counts as _retryable_ when its code is a typed server code containing BUSY, OVERLOAD,
RATE_LIMIT, UNAVAILABLE, TIMEOUT or RETRY, or an HTTP 429/503 answer; a call that hit the client's
deadline counts as hung.

## Targets

${targetsTable(results)}

## A. Agent sweep: N concurrent \`agent_chat\`, model answers after ${results.modelDelayMs / 1000} s

${agentTable(results)}

## B. Bare LangGraph floor (same run, same model)

${bareTable(results)}

### A ÷ B

${agentRatioTable(results)}

## C. One at a time (the "sync" baseline)

${sequentialTable(results)}

## D. Request path at ${results.requestPhase.connections} connections

${requestPathTable(results)}

### This app's req/s ÷ each peer's (tool call vs tool call; the bare route is the HTTP floor)

${requestRatioTable(results)}

## E. \`WORKERS=1\` next to \`WORKERS=n\` (Redis + Postgres)

Each mode is a fresh app started with \`WORKERS\`, \`SESSION_BACKEND=redis\`, \`CHECKPOINTER_BACKEND=postgres\`
and one \`LOCAL_SIGNING_KEY\` (so the rows differ only in the number of workers), measured alone after
everything above has stopped: \`tools/call conversation_get\` with a session per connection (as in D),
then N concurrent \`agent_chat\` (as in A, without the health probe). Server CPU is the primary's and
every worker's (the process tree).

${results.workers.length ? workersTable(results) : "(not run)"}
${results.problems.length ? `\n## Problems during this run\n\n${results.problems.map((problem) => `- ${problem}`).join("\n")}\n` : ""}`;
}
