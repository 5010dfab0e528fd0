import { generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { describe, expect, it } from "vitest";
import { INITIALIZE, login, postMcp } from "./helpers.ts";
import { type SpawnedApp, spawnApp } from "./spawn.ts";

/**
 * Regressions from issue 13 item 8: with SESSION_BACKEND=redis, credentials outlive the process
 * that issued them, so each request must re-check them against the current user list and the
 * session's owner. These run the built app (dist), as operators do.
 */

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const redisUp = await requireService({ name: "Redis", url: REDIS_URL });

const { privateKey } = generateKeyPairSync("ed25519");
const env = {
  SESSION_BACKEND: "redis",
  REDIS_URL,
  SESSION_KEY_PREFIX: `mcp-http-recheck:${randomUUID()}:`,
  LOCAL_SIGNING_KEY: JSON.stringify(privateKey.export({ format: "jwk" })),
  TOKEN_ISSUER: "http://mcp.test",
  TOKEN_AUDIENCE: "http://mcp.test/mcp",
  API_KEYS: "on",
  LOG_LEVEL: "silent",
  DRAIN_TIMEOUT_MS: "500",
};

async function stop(app: SpawnedApp): Promise<void> {
  app.child.kill("SIGTERM");
  await app.exited;
}

async function createKey(url: string, token: string): Promise<string> {
  const response = await fetch(`${url}/auth/api-keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: "{}",
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { api_key: string }).api_key;
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;

/** A token signed with the shared key: what any holder of LOCAL_SIGNING_KEY could mint. */
function signToken(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${encode(header)}.${encode(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString("base64url")}`;
}

const mcpStatus = async (url: string, credential: string) =>
  (await postMcp(url, INITIALIZE, { authorization: `Bearer ${credential}` })).status;

describe.skipIf(!redisUp)("identity re-checks with SESSION_BACKEND=redis", () => {
  it("stops a removed user's API keys and login tokens, keeping the remaining users'", async () => {
    const before = await spawnApp({ ...env, LOCAL_USERS: "alice:alice-pw:user,bob:bob-pw:user" });
    let bobToken: string;
    let bobKey: string;
    let aliceToken: string;
    let aliceKey: string;
    try {
      bobToken = await login(before.url, "bob", "bob-pw");
      bobKey = await createKey(before.url, bobToken);
      aliceToken = await login(before.url, "alice", "alice-pw");
      aliceKey = await createKey(before.url, aliceToken);
      expect(await mcpStatus(before.url, bobKey)).toBe(200);
      expect(await mcpStatus(before.url, bobToken)).toBe(200);
    } finally {
      await stop(before);
    }

    const after = await spawnApp({ ...env, LOCAL_USERS: "alice:alice-pw:user" });
    try {
      expect(await mcpStatus(after.url, bobKey)).toBe(401);
      expect(await mcpStatus(after.url, bobToken)).toBe(401);
      expect(await mcpStatus(after.url, aliceKey)).toBe(200);
      expect(await mcpStatus(after.url, aliceToken)).toBe(200);
    } finally {
      await stop(after);
    }
    // Two start-ups of the built app (module load and argon2 hashing of the users) on a shared machine.
  }, 90_000);

  it("refuses a token whose sid names another user's login session", async () => {
    const app = await spawnApp({ ...env, LOCAL_USERS: "alice:alice-pw:user,bob:bob-pw:user" });
    try {
      const aliceToken = await login(app.url, "alice", "alice-pw");
      const bobToken = await login(app.url, "bob", "bob-pw");
      const [header] = aliceToken.split(".");
      const alice = claimsOf(aliceToken);
      const borrowed = signToken(JSON.parse(Buffer.from(header ?? "", "base64url").toString()), {
        ...alice,
        jti: randomUUID(),
        sid: claimsOf(bobToken).sid,
      });
      expect(await mcpStatus(app.url, aliceToken)).toBe(200);
      expect(await mcpStatus(app.url, borrowed)).toBe(401);
      // Once alice logs out, a token borrowing bob's live session must not keep her in.
      const logout = await fetch(`${app.url}/auth/logout`, {
        method: "POST",
        headers: { authorization: `Bearer ${aliceToken}` },
      });
      expect(logout.status).toBe(204);
      expect(await mcpStatus(app.url, borrowed)).toBe(401);
      expect(await mcpStatus(app.url, bobToken)).toBe(200);
    } finally {
      await stop(app);
    }
  }, 60_000);
});
