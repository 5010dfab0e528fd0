import { OwnRedisServer, requireRedisBinaries } from "@mcp-langgraph/testkit/redis";
import { afterEach, describe, expect, it } from "vitest";
import { createReadiness } from "../src/readiness.ts";
import type { RunningHttpServer } from "../src/server.ts";
import { startTestServer } from "./helpers.ts";

const ready = async (url: string) => {
  const response = await fetch(`${url}/health/ready`);
  return { status: response.status, body: (await response.json()) as { status: string; checks: object } };
};

describe("readiness", () => {
  const servers: RunningHttpServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  // Regression (issue 12): readiness checked the grant `role:user executor tool:agent_chat`, so it
  // was 503 forever when TOOL_ROLES did not contain `user`.
  it("is ready with TOOL_ROLES=admin (no hard-coded grant)", async () => {
    const server = await startTestServer({ TOOL_ROLES: "admin" });
    servers.push(server);
    expect(await ready(server.url)).toEqual({
      status: 200,
      body: { status: "ready", checks: { sessionStore: true, authorizer: true, checkpointer: true } },
    });
  });

  it("turns 503 at once when shutdown begins", async () => {
    const probes = { backend: async () => true };
    const readiness = createReadiness(probes, 1_000);
    expect(await readiness.check()).toEqual({ ready: true, checks: { backend: true } });
    readiness.drain();
    expect(await readiness.check()).toEqual({ ready: false, draining: true, checks: {} });
  });

  it("counts a backend that outlives the deadline as down", async () => {
    const hanging = (signal: AbortSignal) =>
      new Promise<boolean>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    const never = () => new Promise<boolean>(() => {});
    const readiness = createReadiness({ up: async () => true, hanging, never }, 50);
    expect(await readiness.check()).toEqual({
      ready: false,
      checks: { up: true, hanging: false, never: false },
    });
  });

  describe.skipIf(!requireRedisBinaries())("with SESSION_BACKEND=redis", () => {
    it("is 503 naming the session store while its Redis is down, ready again after", async () => {
      const redis = await OwnRedisServer.start();
      try {
        const server = await startTestServer({
          SESSION_BACKEND: "redis",
          REDIS_URL: redis.url,
          SESSION_KEY_PREFIX: `ready-${crypto.randomUUID()}`,
          READINESS_TIMEOUT_MS: "500",
        });
        servers.push(server);
        expect((await ready(server.url)).status).toBe(200);
        await redis.stop();
        expect(await ready(server.url)).toEqual({
          status: 503,
          body: {
            status: "unavailable",
            checks: { sessionStore: false, authorizer: true, checkpointer: true },
          },
        });
        await redis.start();
        await expect.poll(async () => (await ready(server.url)).status, { timeout: 10_000 }).toBe(200);
      } finally {
        await Promise.allSettled(servers.splice(0).map((server) => server.close()));
        await redis.dispose();
      }
    }, 30_000);
  });
});
