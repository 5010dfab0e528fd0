/**
 * 1,000 concurrent calls through createChatModel (retry, circuit breaker, bulkhead,
 * deadline, usage accounting all on) against a loopback provider that answers after
 * 2 s, compared with the bare @langchain/openai client in the same run; then the same
 * burst after the connections sat idle longer than Node's fetch keeps them (4 s).
 * Prints figures; it asserts nothing (benchmarks are not tests).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { get, type IncomingMessage } from "node:http";
import { availableParallelism, loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ChatOpenAI } from "@langchain/openai";
import { createChatModel, createOfflineChatModel } from "../src/index.ts";

const print = (line: string) => process.stdout.write(`${line}\n`);

const CALLS = 1_000;
const PROVIDER_DELAY_MS = 2_000;
// Alternating rounds: a shared machine's load shifts between them.
const ROUNDS = 3;
const IDLE_ROUNDS = 2;
// Longer than the 4 s Node's fetch keeps an idle connection when the server announces no timeout.
const IDLE_MS = 5_000;

async function startProvider(): Promise<{ url: string; child: ChildProcess }> {
  const script = fileURLToPath(new URL("./slow-provider.mjs", import.meta.url));
  const child = spawn(process.execPath, [script, String(PROVIDER_DELAY_MS)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = (await once(child.stdout!, "data")) as [Buffer];
  return { url: `http://127.0.0.1:${line.toString().trim()}/v1`, child };
}

/** Connections that have carried chat requests so far, asked on a connection of its own. */
async function chatConnections(baseUrl: string): Promise<number> {
  const response = await new Promise<IncomingMessage>((resolve, reject) =>
    get(new URL("/stats", baseUrl), { agent: false }, resolve).on("error", reject),
  );
  let body = "";
  for await (const chunk of response) body += chunk;
  return (JSON.parse(body) as { connections: number }).connections;
}

interface RoundResult {
  wallMs: number;
  /** Client CPU (user + system) per call: steadier than wall time on a shared machine. */
  cpuMsPerCall: number;
  latencies: number[];
  failures: number;
  failureCodes: Map<string, number>;
}

/** Anything answering a prompt: a chat model, or the raw-fetch floor below. */
interface Caller {
  invoke(prompt: string): Promise<unknown>;
}

async function round(model: Caller, calls: number): Promise<RoundResult> {
  const latencies: number[] = [];
  let failures = 0;
  const failureCodes = new Map<string, number>();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: calls }, async (_, index) => {
      const callStarted = performance.now();
      try {
        await model.invoke(`ping ${index}`);
        latencies.push(performance.now() - callStarted);
      } catch (error) {
        failures++;
        const code = (error as { code?: string }).code ?? (error as Error).name;
        failureCodes.set(code, (failureCodes.get(code) ?? 0) + 1);
      }
    }),
  );
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMsPerCall = (cpu.user + cpu.system) / 1000 / calls;
  return { wallMs, cpuMsPerCall, latencies: latencies.sort((a, b) => a - b), failures, failureCodes };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
const ms = (value: number) => `${value.toFixed(1)} ms`;

function describeRound(label: string, result: RoundResult, delayMs: number, extra = "") {
  const added = result.latencies.map((latency) => latency - delayMs);
  print(
    `${label.padEnd(34)} wall ${ms(result.wallMs).padStart(10)} | added per call: mean ${ms(mean(added))}, p50 ${ms(
      percentile(added, 50),
    )}, p99 ${ms(percentile(added, 99))}, max ${ms(percentile(added, 100))} | cpu/call ${result.cpuMsPerCall.toFixed(
      3,
    )} ms | failures ${result.failures}${result.failures ? ` ${JSON.stringify(Object.fromEntries(result.failureCodes))}` : ""}${extra}`,
  );
}

const { url, child } = await startProvider();
try {
  const factoryModel = await createChatModel({
    provider: "openai",
    model: "gpt-4o-mini",
    apiKey: "bench-key",
    baseUrl: url,
    maxConcurrency: CALLS,
    // Generous: on a loaded shared machine a deadline would open the circuit and end the run early.
    timeoutMs: 30_000,
    maxRetries: 2,
  });
  const bareModel = new ChatOpenAI({
    model: "gpt-4o-mini",
    apiKey: "bench-key",
    configuration: { baseURL: url },
    maxRetries: 0,
  });

  print(
    `llm-factory bench: ${CALLS} concurrent calls, loopback provider answering after ${PROVIDER_DELAY_MS} ms (own process)`,
  );
  print(
    `node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} cores, load average ${loadavg()
      .map((load) => load.toFixed(1))
      .join(" ")}`,
  );
  // Warm-up at full concurrency: both clients open their 1,000 keep-alive connections and JIT-compile.
  describeRound("warm-up: factory", await round(factoryModel, CALLS), PROVIDER_DELAY_MS);
  describeRound("warm-up: bare", await round(bareModel, CALLS), PROVIDER_DELAY_MS);
  const results: Record<string, RoundResult[]> = { factory: [], bare: [] };
  // The floor: the same request with Node's fetch and JSON.parse, no SDK, no LangChain.
  const rawFetch: Caller = {
    async invoke(prompt) {
      const response = await fetch(`${url}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer bench-key" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: prompt }] }),
      });
      return response.json();
    },
  };
  describeRound("raw fetch (floor)", await round(rawFetch, CALLS), PROVIDER_DELAY_MS);
  for (let attempt = 1; attempt <= ROUNDS; attempt++) {
    const bare = await round(bareModel, CALLS);
    results.bare!.push(bare);
    describeRound(`bare ChatOpenAI (round ${attempt})`, bare, PROVIDER_DELAY_MS);
    const factory = await round(factoryModel, CALLS);
    results.factory!.push(factory);
    describeRound(`createChatModel stack (round ${attempt})`, factory, PROVIDER_DELAY_MS);
  }
  const best = (runs: RoundResult[]) => Math.min(...runs.map((run) => run.wallMs));
  const factoryBest = best(results.factory!);
  const bareBest = best(results.bare!);
  const stackCost =
    mean(results.factory!.flatMap((run) => run.latencies)) -
    mean(results.bare!.flatMap((run) => run.latencies));
  print(
    `best wall: factory ${ms(factoryBest)} (target ≤ 2300 ms), bare ${ms(bareBest)}, ratio ${(factoryBest / bareBest).toFixed(3)}`,
  );
  print(`resilience stack cost per call (mean latency, factory − bare): ${ms(stackCost)}`);
  const cpuOf = (runs: RoundResult[]) => Math.min(...runs.map((run) => run.cpuMsPerCall));
  print(
    `client CPU per call (best round): factory ${cpuOf(results.factory!).toFixed(3)} ms, bare ${cpuOf(results.bare!).toFixed(3)} ms`,
  );

  // A burst after a quiet moment: the pooled factory keeps its connections, Node's fetch has closed them.
  const afterIdle: Record<string, { cpu: number[]; opened: number[] }> = {
    factory: { cpu: [], opened: [] },
    bare: { cpu: [], opened: [] },
  };
  for (let attempt = 1; attempt <= IDLE_ROUNDS; attempt++) {
    for (const [name, model] of [
      ["bare", bareModel],
      ["factory", factoryModel],
    ] as const) {
      await sleep(IDLE_MS);
      const before = await chatConnections(url);
      const result = await round(model, CALLS);
      const opened = (await chatConnections(url)) - before;
      afterIdle[name]!.cpu.push(result.cpuMsPerCall);
      afterIdle[name]!.opened.push(opened);
      const label = `${name === "bare" ? "bare ChatOpenAI" : "createChatModel stack"} after ${IDLE_MS / 1000} s idle`;
      describeRound(`${label} (${attempt})`, result, PROVIDER_DELAY_MS, ` | new connections ${opened}`);
    }
  }
  const idleSummary = (name: string) =>
    `${Math.min(...afterIdle[name]!.cpu).toFixed(3)} ms (new connections per burst: ${afterIdle[name]!.opened.join(", ")})`;
  print(
    `client CPU per call after ${IDLE_MS / 1000} s idle (best round): factory ${idleSummary("factory")}, bare ${idleSummary("bare")}`,
  );

  const offline = await round(createOfflineChatModel(), CALLS);
  describeRound("offline model (no provider)", offline, 0);
} finally {
  child.kill("SIGTERM");
}
