import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { createOfflineChatModel } from "@mcp-langgraph/llm-factory";
import pg from "pg";
import {
  type ClosableCheckpointer,
  createAgent,
  createCheckpointer,
  evaluateArithmetic,
} from "../src/index.ts";

// Prints figures only; nothing here asserts. Sized for a shared 2-core machine.
const TURNS = 60;
const CONCURRENCY = 8;
/** A long conversation: turns to fill it (two messages each), then turns measured on it. */
const LONG_FILL_TURNS = 200;
const LONG_MEASURED_TURNS = 10;
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function measureTurns(label: string, checkpointer: ClosableCheckpointer) {
  const agent = createAgent({ model: createOfflineChatModel(), checkpointer });
  await agent.chat({ threadId: `warmup-${label}`, message: "what is 1+1?" });
  const sequential: number[] = [];
  for (let i = 0; i < TURNS; i++) {
    const started = performance.now();
    await agent.chat({ threadId: `seq-${label}-${i % 10}`, message: `what is ${i}*7?` });
    sequential.push(performance.now() - started);
  }
  sequential.sort((a, b) => a - b);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TURNS) {
        const i = next++;
        await agent.chat({ threadId: `par-${label}-${i}`, message: `what is ${i}+1?` });
      }
    }),
  );
  const concurrentTurnsPerSecond = TURNS / ((performance.now() - started) / 1000);
  const searchStarted = performance.now();
  const threadIds = Array.from({ length: 10 }, (_, i) => `seq-${label}-${i}`);
  await agent.searchConversations(threadIds, "answer");
  const searchMs = performance.now() - searchStarted;
  const longThread = `long-${label}`;
  for (let i = 0; i < LONG_FILL_TURNS; i++) {
    await agent.chat({ threadId: longThread, message: `note ${i}: ${"words ".repeat(40)}` });
  }
  // CPU rather than wall time: each turn loads and stores the whole thread, which is CPU on this process.
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < LONG_MEASURED_TURNS; i++) {
    await agent.chat({ threadId: longThread, message: `one more, ${i}` });
  }
  const cpu = process.cpuUsage(cpuBefore);
  const longTurnCpuMs = (cpu.user + cpu.system) / 1000 / LONG_MEASURED_TURNS;
  return {
    backend: label,
    "p50 turn ms": percentile(sequential, 50).toFixed(2),
    "p95 turn ms": percentile(sequential, 95).toFixed(2),
    [`turns/s @${CONCURRENCY}`]: concurrentTurnsPerSecond.toFixed(1),
    "search 10 threads ms": searchMs.toFixed(2),
    [`CPU ms/turn @${LONG_FILL_TURNS * 2} messages`]: longTurnCpuMs.toFixed(1),
    turnsPerSecond: concurrentTurnsPerSecond,
  };
}

function measureCalculator() {
  const expressions = ["6*7", "(1 + 2) * 3 ^ 2 / 7 % 5", `${"(".repeat(30)}1${")".repeat(30)}`];
  const iterations = 50_000;
  const started = performance.now();
  for (let i = 0; i < iterations; i++) evaluateArithmetic(expressions[i % expressions.length]!);
  const ms = performance.now() - started;
  return { iterations, "µs per expression": ((ms * 1000) / iterations).toFixed(2) };
}

const rows = [await measureTurns("memory", await createCheckpointer({ backend: "memory" }))];
const schema = `agent_bench_${randomBytes(6).toString("hex")}`;
let postgres: ClosableCheckpointer | undefined;
try {
  postgres = await createCheckpointer({ backend: "postgres", connectionString: DATABASE_URL, schema });
  rows.push(await measureTurns("postgres", postgres));
} catch (error) {
  console.warn(`[skip] postgres bench: ${(error as Error).message}`);
} finally {
  await postgres?.close();
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client
    .connect()
    .then(() => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))
    .catch(() => {})
    .finally(() => client.end());
}

function table(rows: Record<string, unknown>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const cells = [columns, ...rows.map((row) => columns.map((column) => String(row[column])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((cell, i) => cell.padEnd(widths[i]!)).join("  ")).join("\n");
}

const lines = [
  `agent turns ("what is N*7?": agent → calculator → agent), offline model, ${TURNS} turns`,
  table(rows.map(({ turnsPerSecond: _, ...row }) => row)),
];
if (rows.length === 2) {
  lines.push(
    `memory/postgres throughput ratio: ${(rows[0]!.turnsPerSecond / rows[1]!.turnsPerSecond).toFixed(2)}x`,
  );
}
lines.push("", "calculator (recursive descent, no eval):", table([measureCalculator()]));
process.stdout.write(`${lines.join("\n")}\n`);
