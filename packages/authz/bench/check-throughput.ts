// Prints check throughput of the embedded engine on the project model with
// 100,000 tuples: raw engine, the Authorizer uncached and cached, batch-check of 100, list-objects.
// Rates are given per wall-clock second and per second of this process's CPU time: on a shared
// machine the second is the steadier figure for "one core".
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import type * as Authz from "../src/index.ts";
import type { CheckQuery, Tuple } from "../src/index.ts";

// The built package is measured (what ships), not the sources through a transpiler;
// `pnpm bench` builds first. The sources only lend their types.
const { createAuthorizer, EmbeddedAuthorizer, loadProjectModel } = (await import(
  new URL("../dist/index.mjs", import.meta.url).href
)) as typeof Authz;

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
  for (let editor = 0; tuples.length < 100_000; editor++) {
    tuples.push({
      user: `user:u${editor}`,
      relation: "editor",
      object: `conversation:c${CONVERSATIONS - 1 - editor}`,
    });
  }
  return tuples;
}

/** Viewer and owner checks on random conversations, a quarter of them with the user's role as a contextual tuple. */
function queries(count: number, seed: number): CheckQuery[] {
  const pick = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const user = `user:u${pick(USERS)}`;
    if (i % 8 === 7) {
      return {
        user,
        relation: "executor",
        object: `tool:t${pick(TOOLS)}`,
        contextualTuples: [{ user, relation: "assignee", object: "role:user" }],
      };
    }
    return {
      user,
      relation: i % 4 === 3 ? "owner" : "viewer",
      object: `conversation:c${pick(CONVERSATIONS)}`,
    };
  });
}

const format = (value: number) => Math.round(value).toLocaleString("en-US");

async function measure(label: string, operations: number, unit: string, run: () => Promise<void> | void) {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await run();
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(
    `${label.padEnd(40)} ${format((operations / wallMs) * 1000).padStart(11)} ${unit}/s wall  ${format((operations / cpuMs) * 1000).padStart(11)} ${unit}/s CPU\n`,
  );
}

async function main() {
  process.stdout.write(
    `node ${process.version}, load average ${loadavg()
      .map((load) => load.toFixed(2))
      .join(" ")}\n`,
  );
  const model = await loadProjectModel();
  const tuples = projectTuples();
  const { engine } = new EmbeddedAuthorizer(model);
  engine.write(tuples);
  process.stdout.write(`project model, ${engine.size.toLocaleString("en-US")} tuples\n`);

  const workload = queries(200_000, 7);
  for (const query of workload.slice(0, 20_000)) engine.check(query);
  let allowed = 0;
  await measure("engine.check (sync, uncached)", workload.length, "checks", () => {
    for (const query of workload) if (engine.check(query)) allowed++;
  });
  process.stdout.write(
    `  (${allowed.toLocaleString("en-US")} of ${workload.length.toLocaleString("en-US")} allowed)\n`,
  );

  const uncached = await createAuthorizer({ backend: "embedded", model }, { cache: false });
  await uncached.writeTuples(tuples);
  await measure("authorizer.check (uncached)", workload.length, "checks", async () => {
    for (const query of workload) await uncached.check(query);
  });

  const batches = Array.from({ length: 2_000 }, (_, b) => workload.slice(b * 100, b * 100 + 100));
  await measure("authorizer.batchCheck of 100 (uncached)", batches.length, "batches", async () => {
    for (const batch of batches) await uncached.batchCheck(batch);
  });

  const cached = await createAuthorizer(
    { backend: "embedded", model },
    { cache: { maxEntries: 10_000, ttlMs: 60_000 } },
  );
  await cached.writeTuples(tuples);
  const hot = queries(1_000, 11).filter((query) => query.contextualTuples === undefined);
  for (const query of hot) await cached.check(query);
  const rounds = 2_000;
  await measure("authorizer.check (cached, awaited 1 by 1)", rounds * hot.length, "checks", async () => {
    for (let round = 0; round < rounds; round++) for (const query of hot) await cached.check(query);
  });
  await measure("authorizer.check (cached, 1,000 in flight)", rounds * hot.length, "checks", async () => {
    for (let round = 0; round < rounds; round++) await Promise.all(hot.map((query) => cached.check(query)));
  });

  const listUsers = Array.from({ length: 500 }, (_, i) => `user:u${(i * 37) % USERS}`);
  let listed = 0;
  await measure("authorizer.listObjects viewer/conversation", listUsers.length, "calls", async () => {
    for (const user of listUsers) {
      listed += (await uncached.listObjects({ user, relation: "viewer", type: "conversation" })).length;
    }
  });
  process.stdout.write(
    `  (${Math.round(listed / listUsers.length)} conversations listed per call on average)\n`,
  );
  await Promise.all([uncached.close(), cached.close()]);
}

await main();
