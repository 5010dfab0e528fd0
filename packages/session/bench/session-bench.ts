/**
 * Throughput of create / get / update on both stores with 100 concurrent callers,
 * next to a peer measured in the same run (a bare Map lookup for memory, a bare
 * pipelined HGETALL on the same Redis for redis), so the figures read as ratios
 * rather than absolutes. Prints; asserts nothing.
 *
 *   pnpm --filter @mcp-langgraph/session bench        (REDIS_URL, default redis://127.0.0.1:6379)
 */
import { randomUUID } from "node:crypto";
import { createClient } from "@redis/client";
import { createSessionStore, type SessionStore } from "../src/index.ts";

const CALLERS = 100;
const DURATION_MS = Number(process.argv[2] ?? 2000);
const USERS = 1000;
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

interface Result {
  store: string;
  op: string;
  opsPerSecond: number;
}

const WARMUP_MS = 300;
/** Operations each caller runs between clock reads, so the harness costs little next to a memory op. */
const BATCH = 32;

/** Runs `op` from CALLERS concurrent loops for `durationMs`; returns completed operations per second. */
async function run(op: (i: number) => Promise<unknown>, durationMs: number): Promise<number> {
  let completed = 0;
  let next = 0;
  const started = performance.now();
  const stopAt = started + durationMs;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() < stopAt) {
        for (let i = 0; i < BATCH; i++) await op(next++);
        completed += BATCH;
      }
    }),
  );
  return completed / ((performance.now() - started) / 1000);
}

async function measure(op: (i: number) => Promise<unknown>): Promise<number> {
  await run(op, WARMUP_MS);
  return run(op, DURATION_MS);
}

async function benchStore(name: string, store: SessionStore, results: Result[]): Promise<string[]> {
  const user = (i: number) => ({ userId: `bench-user-${i % USERS}`, username: "bench", roles: ["user"] });
  const ids = await Promise.all(
    Array.from({ length: USERS }, (_, i) => store.create({ ...user(i), metadata: { plan: "pro", n: i } })),
  );
  results.push({ store: name, op: "get", opsPerSecond: await measure((i) => store.get(ids[i % USERS]!)) });
  results.push({
    store: name,
    op: "update",
    opsPerSecond: await measure((i) => store.update(ids[i % USERS]!, { [`k${i % 8}`]: i })),
  });
  results.push({ store: name, op: "create", opsPerSecond: await measure((i) => store.create(user(i))) });
  return ids;
}

async function main(): Promise<void> {
  const results: Result[] = [];

  const memory = await createSessionStore({ backend: "memory" });
  await benchStore("memory", memory, results);
  const peerMap = new Map(Array.from({ length: USERS }, (_, i) => [`k${i}`, { i }]));
  results.push({
    store: "memory",
    op: "peer: Map.get",
    opsPerSecond: await measure(async (i) => peerMap.get(`k${i % USERS}`)),
  });
  await memory.close();

  const keyPrefix = `bench:session:${randomUUID().slice(0, 8)}:`;
  let redis: SessionStore | undefined;
  try {
    redis = await createSessionStore({ backend: "redis", url: REDIS_URL, keyPrefix });
  } catch (error) {
    console.warn(`[skip] redis bench: ${String(error)}`);
  }
  if (redis) {
    const raw = createClient({ url: REDIS_URL });
    raw.on("error", () => {});
    await raw.connect();
    try {
      const ids = await benchStore("redis", redis, results);
      const keys = ids.map((id) => {
        const [tag, token] = id.split(".");
        return `${keyPrefix}{${tag}}:s:${token}`;
      });
      results.push({
        store: "redis",
        op: "peer: raw HGETALL",
        opsPerSecond: await measure((i) => raw.hGetAll(keys[i % keys.length]!)),
      });
    } finally {
      for await (const page of raw.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 1000 })) {
        if (page.length > 0) await raw.del(page);
      }
      raw.destroy();
      await redis.close();
    }
  }

  const peerOf = (store: string) => results.find((r) => r.store === store && r.op.startsWith("peer"));
  const lines = [`session store throughput, ${CALLERS} concurrent callers, ${DURATION_MS} ms per op`];
  for (const r of results) {
    const peer = peerOf(r.store);
    const ratio = peer && peer !== r ? `  (${(r.opsPerSecond / peer.opsPerSecond).toFixed(2)}x peer)` : "";
    lines.push(
      `${r.store.padEnd(7)} ${r.op.padEnd(18)} ${Math.round(r.opsPerSecond).toLocaleString("en-US").padStart(12)} ops/s${ratio}`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();
