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

  it("costs the MCP session two Redis round trips per tools/call (the record's touch, then the answer's events), three with the login session", async () => {
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
    const session = seen.filter((line) => /mcp-session:|mcp-stream:/.test(line));
    // Per call: EVAL of the touch script on the session record, EVAL of the append script on its stream.
    expect(session.filter((line) => line.includes("mcp-session:"))).toHaveLength(calls);
    expect(session).toHaveLength(2 * calls);
    // And the bearer token's login session (SESSION_BACKEND=redis), checked before the request reaches /mcp.
    expect(seen.filter((line) => line.includes(":session:"))).toHaveLength(calls);
    expect(seen).toHaveLength(3 * calls);
  });

  it("refuses a resources/subscribe while Redis does not answer (503 with Retry-After) and stores nothing", async () => {
    const headers = await openSession();
    const thread = `t-${Date.now().toString(36)}`;
    const turn = await postMcp(
      app.url,
      {
        jsonrpc: "2.0",
        id: 20,
        method: "tools/call",
        params: { name: "agent_chat", arguments: { message: "hi", thread_id: thread } },
      },
      headers,
    );
    expect(await turn.text()).toContain('"result"');
    const subscribe = (id: number) =>
      postMcp(
        app.url,
        { jsonrpc: "2.0", id, method: "resources/subscribe", params: { uri: `conversation://${thread}` } },
        headers,
      );
    const stored = async () => {
      const raw = await rawRedisClient(redis.url);
      try {
        return await raw.keys("*mcp-subscriptions:*");
      } finally {
        raw.destroy();
      }
    };

    redis.pause();
    try {
      const refused = await subscribe(21);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBeTruthy();
      await refused.text();
    } finally {
      redis.resume();
    }
    expect(await stored()).toEqual([]);
    const accepted = await subscribe(22);
    expect(await accepted.text()).toContain('"result"');
    expect(await stored()).toHaveLength(1);
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
