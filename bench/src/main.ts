/**
 * `pnpm bench`: the app at scale next to bare LangGraph and peer MCP servers, in one run. Prints the
 * tables and writes docs/bench/README.md and docs/bench/wall-vs-concurrency.svg. Nothing here
 * asserts (benchmarks are not tests); a phase that fails is reported as a problem and the run goes on.
 *
 *   pnpm bench [--filter @mcp-langgraph/bench] [-- --sizes 100,1000 --seconds 5 --no-docs]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Client } from "@modelcontextprotocol/client";
import {
  type AgentRun,
  agentRun,
  type ModelStats,
  openSessions,
  sequentialBaseline,
  warmUp,
} from "./agent-sweep.ts";
import { type RunningApp, startApp } from "./app-runner.ts";
import type { BareRun } from "./bare-langgraph.ts";
import { type BenchChild, type Child, startBenchChild, stopAll } from "./children.ts";
import { CLOCK_TICKS, cpuMs } from "./proc-stats.ts";
import { type BareResult, type BenchResults, type MachineFacts, printable, readme } from "./report.ts";
import { CONNECTIONS, measureApp, measurePeers } from "./request-path.ts";
import { wallVsConcurrencySvg } from "./svg.ts";
import { measureWorkers, type WorkersRun } from "./workers.ts";

const { values: args } = parseArgs({
  // pnpm passes the `--` of `pnpm --filter @mcp-langgraph/bench bench -- --sizes …` through: without
  // dropping it, every option after it would be a positional argument and the run would refuse to start.
  args: process.argv.slice(2).filter((arg, index) => !(index === 0 && arg === "--")),
  options: {
    sizes: { type: "string", default: "100,1000,5000" },
    "bare-sizes": { type: "string", default: "100,1000,5000" },
    seconds: { type: "string", default: "5" },
    "warmup-seconds": { type: "string", default: "2" },
    sequential: { type: "string", default: "5" },
    users: { type: "string", default: "20" },
    "sessions-cap": { type: "string", default: "250" },
    "model-delay-ms": { type: "string", default: "2000" },
    out: { type: "string", default: fileURLToPath(new URL("../../docs/bench/", import.meta.url)) },
    "no-docs": { type: "boolean", default: false },
    "skip-request-path": { type: "boolean", default: false },
    // E: the app with WORKERS=1 and WORKERS=n on Redis + Postgres; "" skips it.
    workers: { type: "string", default: "1,2" },
    "workers-sizes": { type: "string", default: "1000" },
    "redis-url": { type: "string", default: "redis://127.0.0.1:6379" },
    "database-url": { type: "string", default: "postgres://postgres@127.0.0.1:5432/test" },
  },
});
const list = (text: string) =>
  text
    .split(",")
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
const sizes = list(args.sizes);
const bareSizes = list(args["bare-sizes"]);
const workerModes = list(args.workers);
const workerSizes = list(args["workers-sizes"]);
const users = Number(args.users);
const sessionsCap = Number(args["sessions-cap"]);
const modelDelayMs = Number(args["model-delay-ms"]);
const sessionsFor = (n: number) => Math.min(Math.ceil(n / 2), sessionsCap);
const requestPhase = {
  warmupMs: Number(args["warmup-seconds"]) * 1000,
  durationMs: Number(args.seconds) * 1000,
};

const progress = (line: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const problems: string[] = [];
const message = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0];

/** Runs one phase; a failure becomes a line of the report instead of ending the bench. */
async function phase<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
  progress(name);
  try {
    return await run();
  } catch (error) {
    problems.push(`${name}: ${message(error)}`);
    progress(`${name} failed: ${message(error)}`);
    return undefined;
  }
}

function machineFacts(): MachineFacts {
  const cpuModel =
    /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown CPU";
  return {
    cores: availableParallelism(),
    cpuModel,
    memoryGb: totalmem() / 2 ** 30,
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    clockTicks: CLOCK_TICKS,
    loadBefore: loadavg(),
    loadAfter: [],
  };
}

const startedAt = new Date();
const machine = machineFacts();
const agent: AgentRun[] = [];
const bare: BareResult[] = [];
let warmUpOutcomes: Record<string, number> = {};
let sequential: BenchResults["sequential"];
let requestPath: BenchResults["requestPath"] = [];
const workerRuns: WorkersRun[] = [];

const entry = (name: string) => new URL(`./${name}.ts`, import.meta.url);
const children: (Child | undefined)[] = [];
let model: BenchChild<{ url: string }> | undefined;
let app: RunningApp | undefined;
let bareChild: BenchChild<{ pid: number }> | undefined;
let probe: BenchChild<null> | undefined;
let clients: Client[] = [];

try {
  progress(
    `starting the loopback model (${modelDelayMs} ms), the app, the bare LangGraph process and the probe`,
  );
  model = await startBenchChild<{ url: string }>(entry("model-server"), {
    name: "model",
    env: { MODEL_DELAY_MS: String(modelDelayMs) },
  });
  children.push(model);
  const modelUrl = model.ready.url;
  [app, bareChild, probe] = await Promise.all([
    startApp({ modelUrl, users }),
    startBenchChild<{ pid: number }>(entry("bare-langgraph"), {
      name: "bare LangGraph",
      env: { MODEL_URL: modelUrl },
    }),
    startBenchChild<null>(entry("health-probe"), { name: "health probe" }),
  ]);
  children.push(app, bareChild, probe);
  const liveModel = model;
  const liveApp = app;
  const liveBare = bareChild;
  const liveProbe = probe;

  if (sizes.length) {
    const sessionCount = Math.max(...sizes.map(sessionsFor));
    clients =
      (await phase(`opening ${sessionCount} MCP sessions over ${users} users`, () =>
        openSessions(liveApp, sessionCount),
      )) ?? [];
    if (clients.length) {
      warmUpOutcomes =
        (await phase("warming up every session (2 agent_chat calls each)", () => warmUp(clients))) ?? {};
      progress(`warm-up outcomes: ${JSON.stringify(warmUpOutcomes)}`);
      sequential = await phase(`one at a time: ${args.sequential} agent_chat calls`, () =>
        sequentialBaseline(clients[0]!, Number(args.sequential)),
      );
    }
  }

  // Bare LangGraph warms up on its own (JIT, first connections to the model) before its first measured N.
  if (bareSizes.length)
    await phase("bare LangGraph warm-up (100 calls)", () => liveBare.call<BareRun>("run", 100));

  for (const n of [...new Set([...sizes, ...bareSizes])].sort((a, b) => a - b)) {
    if (bareSizes.includes(n)) {
      const result = await phase(`bare LangGraph, N = ${n}`, async () => {
        await liveModel.call("reset");
        const before = cpuMs(liveBare.pid);
        const run = await liveBare.call<BareRun>("run", n, 180_000);
        const cpu = cpuMs(liveBare.pid) - before;
        const stats = await liveModel.call<ModelStats>("stats");
        return { ...run, cpuMsPerCall: cpu / n, maxAtModel: stats.maxInFlight };
      });
      if (result) bare.push(result);
    }
    if (sizes.includes(n) && clients.length) {
      const result = await phase(`agent sweep, N = ${n} over ${sessionsFor(n)} sessions`, () =>
        agentRun({
          app: liveApp,
          clients: clients.slice(0, sessionsFor(n)),
          n,
          model: liveModel,
          probe: liveProbe,
        }),
      );
      if (result) {
        agent.push(result);
        progress(
          `  wall ${(result.wallMs / 1000).toFixed(2)} s, ${result.ok}/${n} ok ${JSON.stringify(result.failures)}`,
        );
      }
    }
  }

  // The sweep's processes are done: the request path gets the cores to itself.
  await Promise.allSettled(clients.map((client) => client.close()));
  clients = [];
  await stopAll([app, bareChild, probe]);

  if (!args["skip-request-path"]) {
    const pathApp = await phase("request path: a fresh app", () => startApp({ modelUrl, users: 8 }));
    if (pathApp) {
      children.push(pathApp);
      try {
        const rows = await phase(`request path: this app, ${CONNECTIONS} connections`, () =>
          measureApp(pathApp, requestPhase),
        );
        requestPath.push(...(rows ?? []));
      } finally {
        await pathApp.stop();
      }
    }
    const peers = await phase("request path: peers", () => measurePeers(requestPhase));
    requestPath = [...requestPath, ...(peers ?? [])];
  }

  // Last, each mode alone on the machine: nothing else of the bench is running but the model.
  for (const workers of workerModes) {
    const run = await phase(`WORKERS=${workers} on Redis + Postgres`, () =>
      measureWorkers({
        workers,
        modelUrl,
        model: liveModel,
        redisUrl: args["redis-url"],
        databaseUrl: args["database-url"],
        users: 8,
        sizes: workerSizes,
        sessionsFor,
        timing: requestPhase,
        progress,
      }),
    );
    if (run) {
      workerRuns.push(run);
      problems.push(...run.problems);
    }
  }
} catch (error) {
  problems.push(`bench stopped early: ${message(error)}`);
  progress(`stopped early: ${message(error)}`);
} finally {
  await Promise.allSettled(clients.map((client) => client.close()));
  await stopAll(children);
}

machine.loadAfter = loadavg();
const results: BenchResults = {
  startedAt,
  durationS: (Date.now() - startedAt.getTime()) / 1000,
  // The root command runs this with no arguments; with some, only this workspace's script takes them.
  command:
    process.argv.length > 2
      ? ["pnpm --filter @mcp-langgraph/bench bench", ...process.argv.slice(2)].join(" ")
      : "pnpm bench",
  machine,
  modelDelayMs,
  users,
  sessionsCap,
  warmUp: warmUpOutcomes,
  ...(sequential ? { sequential } : {}),
  agent,
  bare,
  requestPath,
  requestPhase: { ...requestPhase, connections: CONNECTIONS },
  workers: workerRuns,
  problems,
};

process.stdout.write(printable(results));
if (!args["no-docs"]) {
  const svgName = "wall-vs-concurrency.svg";
  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, "README.md"), readme(results, svgName));
  writeFileSync(join(args.out, svgName), wallVsConcurrencySvg(results));
  progress(`wrote ${join(args.out, "README.md")} and ${svgName}`);
}
