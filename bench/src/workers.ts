/**
 * WORKERS=1 next to WORKERS=n (issue 10's targets): the same built app, both modes on the shared
 * backends a multi-process deployment needs (SESSION_BACKEND=redis, CHECKPOINTER_BACKEND=postgres,
 * one LOCAL_SIGNING_KEY), so the only difference between the rows is the number of workers. Each
 * mode is a fresh app measured alone: `tools/call` throughput, then the agent sweep at each size.
 */
import { generateKeyPairSync, randomUUID } from "node:crypto";
import type { Client } from "@modelcontextprotocol/client";
import { type AgentRun, agentRun, openSessions, warmUp } from "./agent-sweep.ts";
import { startApp } from "./app-runner.ts";
import type { BenchChild } from "./children.ts";
import type { LoadResult } from "./load-generator.ts";
import { measureToolsCall, type PhaseTiming } from "./request-path.ts";

export interface WorkersRun {
  workers: number;
  /** `tools/call conversation_get` at the request path's connections, a session per connection. */
  toolsCall?: LoadResult;
  agent: AgentRun[];
  /** What could not be measured in this mode, and why. */
  problems: string[];
}

export interface WorkersOptions {
  workers: number;
  modelUrl: string;
  model: BenchChild<unknown>;
  redisUrl: string;
  databaseUrl: string;
  users: number;
  sizes: number[];
  sessionsFor: (n: number) => number;
  timing: PhaseTiming;
  progress: (line: string) => void;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0];

export async function measureWorkers(options: WorkersOptions): Promise<WorkersRun> {
  const { workers, progress } = options;
  const run: WorkersRun = { workers, agent: [], problems: [] };
  const app = await startApp({
    modelUrl: options.modelUrl,
    users: options.users,
    env: {
      WORKERS: String(workers),
      SESSION_BACKEND: "redis",
      REDIS_URL: options.redisUrl,
      // A fresh key space per mode: nothing of the other mode's sessions is seen.
      SESSION_KEY_PREFIX: `bench:${randomUUID()}:`,
      CHECKPOINTER_BACKEND: "postgres",
      DATABASE_URL: options.databaseUrl,
      // Every worker signs and checks tokens with the same key (a login on one works on the others).
      LOCAL_SIGNING_KEY: JSON.stringify(generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" })),
    },
  });
  let clients: Client[] = [];
  try {
    progress(`WORKERS=${workers}: tools/call conversation_get`);
    try {
      run.toolsCall = await measureToolsCall(app, options.timing);
    } catch (error) {
      run.problems.push(`WORKERS=${workers} tools/call: ${message(error)}`);
    }
    if (options.sizes.length) {
      clients = await openSessions(app, Math.max(...options.sizes.map(options.sessionsFor)));
      await warmUp(clients);
      for (const n of options.sizes) {
        progress(`WORKERS=${workers}: agent sweep, N = ${n}`);
        try {
          const result = await agentRun({
            app,
            clients: clients.slice(0, options.sessionsFor(n)),
            n,
            model: options.model,
          });
          run.agent.push(result);
          progress(`  wall ${(result.wallMs / 1000).toFixed(2)} s, ${result.ok}/${n} ok`);
        } catch (error) {
          run.problems.push(`WORKERS=${workers} agent sweep N = ${n}: ${message(error)}`);
        }
      }
    }
  } finally {
    await Promise.allSettled(clients.map((client) => client.close()));
    await app.stop(10_000);
  }
  return run;
}
