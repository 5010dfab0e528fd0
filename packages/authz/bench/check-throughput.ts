// Prints check throughput of the embedded engine on the project model with
// 100,000 tuples: raw engine, the Authorizer uncached and cached, and batch-check of 100.
import { performance } from "node:perf_hooks";
import { type CheckQuery, createAuthorizer, loadProjectModel, type Tuple } from "../src/index.ts";
import { Engine } from "../src/internal.ts";

const USERS = 10_000;
const ORGANIZATIONS = 100;
const CONVERSATIONS = 40_000;
const TOOLS = 20;

/** A deterministic pseudo-random sequence, so every run measures the same data. */
function random(seed: number) {
  let state = seed;
  return (limit: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % limit;
  };
}

function projectTuples(): Tuple[] {
  const pick = random(42);
  const tuples: Tuple[] = [];
  for (let u = 0; u < USERS; u++) {
    tuples.push({ user: `user:u${u}`, relation: "member", object: `organization:o${u % ORGANIZATIONS}` });
  }
  for (let t = 0; t < TOOLS; t++) {
    tuples.push({ user: "role:user#assignee", relation: "executor", object: `tool:t${t}` });
  }
  for (let c = 0; c < CONVERSATIONS; c++) {
    tuples.push({ user: `user:u${pick(USERS)}`, relation: "owner", object: `conversation:c${c}` });
  }
  for (let c = 0; c < CONVERSATIONS / 2; c++) {
    tuples.push({
      user: `organization:o${pick(ORGANIZATIONS)}#member`,
      relation: "viewer",
      object: `conversation:c${c}`,
    });
  }
  let editors = 0;
  while (tuples.length < 100_000) {
    tuples.push({
      user: `user:u${editors}`,
      relation: "editor",
      object: `conversation:c${CONVERSATIONS - 1 - editors}`,
    });
    editors++;
  }
  return tuples;
}

function queries(count: number, seed: number): CheckQuery[] {
  const pick = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const user = `user:u${pick(USERS)}`;
    return i % 4 === 3
      ? { user, relation: "owner", object: `conversation:c${pick(CONVERSATIONS)}` }
      : { user, relation: "viewer", object: `conversation:c${pick(CONVERSATIONS)}` };
  });
}

const rate = (count: number, ms: number) => Math.round((count / ms) * 1000).toLocaleString("en-US");

async function main() {
  const model = await loadProjectModel();
  const tuples = projectTuples();
  const engine = new Engine(model);
  let started = performance.now();
  engine.write(tuples);
  process.stdout.write(
    `loaded ${engine.size.toLocaleString("en-US")} tuples in ${Math.round(performance.now() - started)} ms\n`,
  );

  const workload = queries(200_000, 7);
  let allowed = 0;
  for (const query of workload.slice(0, 20_000)) if (engine.check(query)) allowed++;
  started = performance.now();
  allowed = 0;
  for (const query of workload) if (engine.check(query)) allowed++;
  const engineMs = performance.now() - started;
  process.stdout.write(
    `engine.check (sync, uncached):        ${rate(workload.length, engineMs)} checks/s (${allowed} allowed of ${workload.length})\n`,
  );

  const uncached = await createAuthorizer({ backend: "embedded", model }, { cache: false });
  await uncached.writeTuples(tuples);
  started = performance.now();
  for (const query of workload) await uncached.check(query);
  process.stdout.write(
    `authorizer.check (async, uncached):   ${rate(workload.length, performance.now() - started)} checks/s\n`,
  );

  const cached = await createAuthorizer(
    { backend: "embedded", model },
    { cache: { maxEntries: 10_000, ttlMs: 60_000 } },
  );
  await cached.writeTuples(tuples);
  const hot = queries(1_000, 11);
  for (const query of hot) await cached.check(query);
  const rounds = 2_000;
  started = performance.now();
  for (let round = 0; round < rounds; round++) for (const query of hot) await cached.check(query);
  process.stdout.write(
    `authorizer.check (async, cached hits): ${rate(rounds * hot.length, performance.now() - started)} checks/s\n`,
  );

  const batches = Array.from({ length: 1_000 }, (_, b) => workload.slice(b * 100, b * 100 + 100));
  started = performance.now();
  for (const batch of batches) await uncached.batchCheck(batch);
  const batchMs = performance.now() - started;
  process.stdout.write(
    `batchCheck of 100 (uncached):         ${rate(batches.length, batchMs)} batches/s = ${rate(batches.length * 100, batchMs)} checks/s, ${(batchMs / batches.length).toFixed(3)} ms per batch\n`,
  );
  await Promise.all([uncached.close(), cached.close()]);
}

await main();
