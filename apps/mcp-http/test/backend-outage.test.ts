import { OwnPostgresServer, requirePostgresBinaries } from "@mcp-langgraph/testkit/postgres";
import { OwnRedisServer, requireRedisBinaries } from "@mcp-langgraph/testkit/redis";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, INITIALIZE, login, postMcp, USERS } from "./helpers.ts";
import { type SpawnedApp, spawnApp } from "./spawn.ts";

/** What one agent_chat call ended with, as the client saw it. */
type Outcome =
  | { kind: "ok"; at: number }
  | { kind: "tool-error"; at: number; code: string; retryable: boolean }
  | { kind: "http-error"; at: number; status: number | undefined; message: string }
  | { kind: "timeout"; at: number; message: string };

/** No call may hang: far longer than any store deadline, far shorter than the test's. */
const CALL_TIMEOUT_MS = 30_000;
const WORKERS = 8;

async function chatOnce(client: Client, worker: number): Promise<Outcome> {
  try {
    const result = await client.callTool(
      { name: "agent_chat", arguments: { message: `worker ${worker}: what is 6 * 7?` } },
      { timeout: CALL_TIMEOUT_MS },
    );
    if (!result.isError) return { kind: "ok", at: Date.now() };
    const error = (result.structuredContent as { error?: { code?: string; retryable?: boolean } })?.error;
    return {
      kind: "tool-error",
      at: Date.now(),
      code: error?.code ?? "?",
      retryable: error?.retryable === true,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/timed? ?out/i.test(message)) return { kind: "timeout", at: Date.now(), message };
    const status = (error as { data?: { status?: number } }).data?.status;
    return { kind: "http-error", at: Date.now(), status, message };
  }
}

/** Concurrent agent_chat traffic, one loop per client, until stopped. */
function startTraffic(clients: Client[]) {
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = clients.map(async (client, worker) => {
    while (running) {
      outcomes.push(await chatOnce(client, worker));
      // A short pause keeps the load steady on a shared machine without idling the backends.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });
  return {
    outcomes,
    since: (at: number) => outcomes.filter((outcome) => outcome.at >= at),
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Waits for `condition`, failing at once (with the app's stderr) if the app process died. */
async function until(app: SpawnedApp, what: string, condition: () => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (app.child.exitCode !== null || app.child.signalCode !== null) {
      throw new Error(`the app died while waiting until ${what}:\n${app.stderr()}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const canRun = requirePostgresBinaries() && requireRedisBinaries();

describe.skipIf(!canRun)("regression: Postgres stopped during agent traffic killed the process", () => {
  let postgres: OwnPostgresServer;
  let redis: OwnRedisServer;
  let app: SpawnedApp;
  let clients: Client[];
  let token: string;

  beforeAll(async () => {
    // Redis keeps its data across a kill (fsync'd AOF), as a production Redis does across a restart,
    // so login sessions survive the outage and the same tokens work afterwards.
    [postgres, redis] = await Promise.all([
      OwnPostgresServer.start(),
      OwnRedisServer.start(["--appendonly", "yes", "--appendfsync", "always"]),
    ]);
    app = await spawnApp({
      LOCAL_USERS: USERS,
      SESSION_BACKEND: "redis",
      REDIS_URL: redis.url,
      CHECKPOINTER_BACKEND: "postgres",
      DATABASE_URL: postgres.url,
      // Eight workers of one user call in a loop for minutes: far past the default per-user limit.
      RATE_LIMIT_TOOL_CALLS_PER_MINUTE: "1000000000",
    });
    token = await login(app.url, "alice", "alice-pw");
    clients = await Promise.all(
      Array.from({ length: WORKERS }, async () => (await connect(app.url, token)).client),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled((clients ?? []).map((client) => client.close()));
    if (app && app.child.exitCode === null) {
      app.child.kill("SIGKILL");
      await app.exited;
    }
    await Promise.allSettled([postgres?.dispose(), redis?.dispose()]);
  });

  const alive = () => app.child.exitCode === null && app.child.signalCode === null;

  it("keeps serving through a Postgres restart: typed retryable tool errors while it is down, successes after", async () => {
    const traffic = startTraffic(clients);
    try {
      await until(app, "traffic flows", () => traffic.outcomes.filter((o) => o.kind === "ok").length >= 20);

      const stoppedAt = Date.now();
      await postgres.stop();
      await until(
        app,
        "calls fail while Postgres is down",
        () => traffic.since(stoppedAt).filter((o) => o.kind === "tool-error").length >= 3 * WORKERS,
      );
      expect(alive(), app.stderr()).toBe(true);

      const restartedAt = Date.now();
      await postgres.start();
      await until(
        app,
        "calls succeed again after Postgres is back",
        () => traffic.since(restartedAt).filter((o) => o.kind === "ok").length >= 3 * WORKERS,
      );

      const failures = traffic.outcomes.filter((o) => o.kind !== "ok");
      // Every failure is a typed, retryable outage error (conversation storage, or the ownership
      // tuples that live on the same Postgres); no crash, no hang, no generic INTERNAL.
      expect(failures.length).toBeGreaterThan(0);
      for (const failure of failures) {
        expect(failure).toMatchObject({ kind: "tool-error", retryable: true });
        expect(["CHECKPOINTER_UNAVAILABLE", "AUTHZ_UNAVAILABLE"]).toContain(
          failure.kind === "tool-error" ? failure.code : undefined,
        );
      }
    } finally {
      await traffic.stop();
    }
    expect(alive(), app.stderr()).toBe(true);
    expect(app.stderr()).not.toContain("Unhandled");
  }, 180_000);

  it("keeps serving through a Redis restart: 503 with Retry-After while it is down, successes after", async () => {
    const traffic = startTraffic(clients);
    try {
      await until(app, "traffic flows", () => traffic.outcomes.filter((o) => o.kind === "ok").length >= 20);

      const stoppedAt = Date.now();
      await redis.stop();
      await until(
        app,
        "calls fail while Redis is down",
        () => traffic.since(stoppedAt).filter((o) => o.kind === "http-error").length >= 3 * WORKERS,
      );
      const refused = await postMcp(app.url, INITIALIZE, { authorization: `Bearer ${token}` });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("5");
      expect(alive(), app.stderr()).toBe(true);

      const restartedAt = Date.now();
      await redis.start();
      await until(
        app,
        "calls succeed again after Redis is back",
        () => traffic.since(restartedAt).filter((o) => o.kind === "ok").length >= 3 * WORKERS,
      );

      const failures = traffic.outcomes.filter((o) => o.kind !== "ok");
      expect(failures.length).toBeGreaterThan(0);
      // The session store fails closed: the request is refused as a retryable 503, never served.
      // The rate-limit counters share that Redis and fail closed too: a call whose login session
      // was still readable while the counters' client had already seen Redis go (or not yet seen
      // it come back) is refused as a retryable RATE_LIMIT_UNAVAILABLE tool error; one that got past
      // them while the turn lock's client met the outage is a retryable SESSION_UNAVAILABLE (ADR 0165).
      for (const failure of failures) {
        if (failure.kind === "tool-error") {
          expect(["RATE_LIMIT_UNAVAILABLE", "SESSION_UNAVAILABLE"]).toContain(failure.code);
          expect(failure).toMatchObject({ retryable: true });
        } else {
          expect(failure).toMatchObject({ kind: "http-error", status: 503 });
        }
      }
    } finally {
      await traffic.stop();
    }
    expect(alive(), app.stderr()).toBe(true);
  }, 180_000);
});
