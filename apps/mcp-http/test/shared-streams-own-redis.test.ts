import { generateKeyPairSync } from "node:crypto";
import { OwnRedisServer, rawRedisClient, requireRedisBinaries } from "@mcp-langgraph/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INITIALIZE, login, postMcp, USERS } from "./helpers.ts";
import { type SpawnedApp, spawnApp } from "./spawn.ts";

const haveRedis = requireRedisBinaries();

const CALL = {
  jsonrpc: "2.0",
  id: 5,
  method: "tools/call",
  params: { name: "test_simple_text", arguments: {} },
};

/**
 * One instance on a Redis of its own (SESSION_BACKEND=redis), so every command Redis sees is this
 * app's: what one tools/call costs, and what a client gets while Redis is down.
 */
describe.skipIf(!haveRedis)("MCP sessions on a Redis of their own", () => {
  let redis: OwnRedisServer;
  let app: SpawnedApp;
  let token: string;

  beforeAll(async () => {
    redis = await OwnRedisServer.start();
    app = await spawnApp({
      LOCAL_USERS: USERS,
      SESSION_BACKEND: "redis",
      REDIS_URL: redis.url,
      LOCAL_SIGNING_KEY: JSON.stringify(generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" })),
      TOKEN_ISSUER: "http://mcp.test",
      TOKEN_AUDIENCE: "http://mcp.test/mcp",
      MCP_CONFORMANCE_FIXTURES: "true",
      MCP_SESSION_STORE_TIMEOUT_MS: "500",
    });
    token = await login(app.url, "alice", "alice-pw");
  }, 60_000);

  afterAll(async () => {
    app?.child.kill("SIGTERM");
    await app?.exited;
    await redis?.dispose();
  });

  async function openSession(): Promise<Record<string, string>> {
    const response = await postMcp(app.url, INITIALIZE, { authorization: `Bearer ${token}` });
    expect(response.status).toBe(200);
    await response.text();
    return {
      authorization: `Bearer ${token}`,
      "mcp-session-id": response.headers.get("mcp-session-id") as string,
      "mcp-protocol-version": "2025-11-25",
    };
  }

  it("costs two Redis round trips per tools/call: the login session check with the record's touch in one script, then the answer's events", async () => {
    const headers = await openSession();
    await (await postMcp(app.url, CALL, headers)).text(); // warm: rate-limit windows and the like exist
    const monitor = await rawRedisClient(redis.url);
    const seen: string[] = [];
    await monitor.monitor((line) => {
      // Commands a script runs are listed too ("[0 lua]"): they cost no round trip.
      if (!line.includes(" lua]")) seen.push(line);
    });
    const calls = 5;
    for (let n = 0; n < calls; n++) {
      const response = await postMcp(app.url, { ...CALL, id: 10 + n }, headers);
      expect(await response.text()).toContain("simple text");
    }
    // The events of the last answer are appended behind it.
    await expect
      .poll(() => seen.filter((line) => line.includes("mcp-stream:")).length, { timeout: 5_000 })
      .toBe(calls);
    monitor.destroy();
    // Per call: one script with the bearer token's login session and the MCP session record as keys…
    const checks = seen.filter((line) => line.includes(":session:"));
    expect(checks).toHaveLength(calls);
    for (const line of checks) expect(line).toContain("mcp-session:");
    // …and the append script on the answer's stream; nothing else.
    expect(seen.filter((line) => line.includes("mcp-stream:"))).toHaveLength(calls);
    expect(seen).toHaveLength(2 * calls);
  });

  it("answers 503 with Retry-After while Redis is down (calls, opens, GET streams), and serves again once it is back", async () => {
    const headers = await openSession();
    await redis.stop();
    try {
      for (const request of [
        postMcp(app.url, CALL, headers),
        postMcp(app.url, INITIALIZE, { authorization: `Bearer ${token}` }),
        fetch(`${app.url}/mcp`, { headers: { ...headers, accept: "text/event-stream" } }),
      ]) {
        const response = await request;
        expect(response.status).toBe(503);
        expect(response.headers.get("retry-after")).toBeTruthy();
        await response.text();
      }
    } finally {
      await redis.start();
    }
    // This Redis keeps nothing across a restart: the login session went with it, so log in again.
    await expect
      .poll(async () => (token = await login(app.url, "alice", "alice-pw").catch(() => "")), {
        timeout: 15_000,
        interval: 200,
      })
      .not.toBe("");
    // The directory and bus have connections of their own, which reconnect on their own schedule
    // (node-redis backoff, under a second): the login above does not prove they are back yet.
    await expect
      .poll(
        async () => {
          const response = await postMcp(app.url, INITIALIZE, { authorization: `Bearer ${token}` });
          await response.text();
          return response.status;
        },
        { timeout: 15_000, interval: 200 },
      )
      .toBe(200);
    const again = await openSession();
    expect((await postMcp(app.url, CALL, again)).status).toBe(200);
  }, 60_000);
});
