import { generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { OwnRedisServer, rawRedisClient, requireRedisBinaries } from "@mcp-langgraph/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INITIALIZE, login, postMcp, USERS } from "./helpers.ts";
import { type SpawnedApp, spawnApp } from "./spawn.ts";

const haveRedis = requireRedisBinaries();
const { privateKey } = generateKeyPairSync("ed25519");

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;

/** `token` re-signed with the app's key and `changes` to its claims: what a holder of the key could mint. */
function reSigned(token: string, changes: Record<string, unknown>): string {
  const [header] = token.split(".");
  const input = `${header}.${Buffer.from(JSON.stringify({ ...claimsOf(token), ...changes })).toString("base64url")}`;
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString("base64url")}`;
}

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
      LOCAL_SIGNING_KEY: JSON.stringify(privateKey.export({ format: "jwk" })),
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

  /** The PTTL of the session's record, in this Redis of its own (one record per id). */
  async function recordTtl(sessionId: string): Promise<number> {
    const client = await rawRedisClient(redis.url);
    try {
      const [key] = await client.keys(`*mcp-session:*${sessionId}`);
      return key === undefined ? -2 : await client.pTTL(key);
    } finally {
      client.destroy();
    }
  }

  async function shortenRecordTtl(sessionId: string): Promise<void> {
    const client = await rawRedisClient(redis.url);
    try {
      const [key] = await client.keys(`*mcp-session:*${sessionId}`);
      expect(key).toBeDefined();
      await client.pExpire(key as string, 5_000);
    } finally {
      client.destroy();
    }
  }

  it("a token whose login session ended gets 401 on its MCP session, which it neither reads nor slides; the user's other login still serves it", async () => {
    const headers = await openSession();
    const sessionId = headers["mcp-session-id"] as string;
    const other = await login(app.url, "alice", "alice-pw");
    const logout = await fetch(`${app.url}/auth/logout`, {
      method: "POST",
      headers: { authorization: headers.authorization as string },
    });
    expect(logout.status).toBe(204);
    await shortenRecordTtl(sessionId);
    for (const method of ["POST", "GET", "DELETE"]) {
      const response = await fetch(`${app.url}/mcp`, {
        method,
        headers: {
          ...headers,
          accept: "application/json, text/event-stream",
          "content-type": "application/json",
        },
        ...(method === "POST" ? { body: JSON.stringify(CALL) } : {}),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
      await response.text();
    }
    expect(await recordTtl(sessionId)).toBeLessThanOrEqual(5_000);
    // Not ended by the refused token: the same user's live login reaches it, and slides it.
    const served = await postMcp(app.url, CALL, { ...headers, authorization: `Bearer ${other}` });
    expect(served.status).toBe(200);
    expect(await served.text()).toContain("simple text");
    expect(await recordTtl(sessionId)).toBeGreaterThan(5_000);
    token = other;
  });

  it("a token naming another user's live login session gets 401 on its MCP session, which it does not slide", async () => {
    const headers = await openSession();
    const sessionId = headers["mcp-session-id"] as string;
    const bobToken = await login(app.url, "bob", "bob-pw");
    const borrowed = reSigned(token, { jti: randomUUID(), sid: claimsOf(bobToken).sid });
    await shortenRecordTtl(sessionId);
    const response = await postMcp(app.url, CALL, { ...headers, authorization: `Bearer ${borrowed}` });
    expect(response.status).toBe(401);
    await response.text();
    expect(await recordTtl(sessionId)).toBeLessThanOrEqual(5_000);
    // The same forgery with alice's own sid is accepted: the refusal above was the borrowed session.
    const own = reSigned(token, { jti: randomUUID() });
    expect((await postMcp(app.url, CALL, { ...headers, authorization: `Bearer ${own}` })).status).toBe(200);
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
