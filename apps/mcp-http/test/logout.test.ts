// POST /auth/logout ends the credential it was called with, in every identity mode.
import { randomUUID } from "node:crypto";
import { APP_CLIENT, startOidcServer } from "@mcp-langgraph/testkit/oidc";
import { OwnRedisServer, redisKeyspace, requireRedisBinaries } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { afterAll, describe, expect, it } from "vitest";
import { INITIALIZE, login, postMcp, startTestServer } from "./helpers.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const redisUp = await requireService({ name: "Redis", url: REDIS_URL });
const ownRedis = requireRedisBinaries();
const keyspace = redisKeyspace("logout");
afterAll(() => (redisUp ? keyspace.cleanup(REDIS_URL) : undefined));

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });
const logout = (url: string, credential: string) =>
  fetch(`${url}/auth/logout`, { method: "POST", headers: bearer(credential) });
/** The statuses a credential gets on /mcp and on the login-token-only /auth/api-keys. */
const access = async (url: string, credential: string) => [
  (await postMcp(url, INITIALIZE, bearer(credential))).status,
  (await fetch(`${url}/auth/api-keys`, { headers: bearer(credential) })).status,
];

describe.skipIf(!redisUp)("logout with AUTH_PROVIDER=oidc and SESSION_BACKEND=redis", () => {
  it("revokes the token at the issuer and denies it on every instance until it expires", async () => {
    const idp = await startOidcServer(undefined, { revocation: true });
    const env = {
      AUTH_PROVIDER: "oidc",
      OIDC_ISSUER: idp.issuer,
      OIDC_AUDIENCE: idp.resource,
      OIDC_CLIENT_ID: APP_CLIENT.clientId,
      OIDC_CLIENT_SECRET: APP_CLIENT.clientSecret,
      API_KEYS: "on",
      SESSION_BACKEND: "redis",
      REDIS_URL,
      SESSION_KEY_PREFIX: keyspace.uniquePrefix(),
    };
    const [first, second] = await Promise.all([startTestServer(env), startTestServer(env)]);
    try {
      const ended = await login(first.url, "alice", "alice-pw");
      const other = await login(first.url, "alice", "alice-pw");
      expect(await access(second.url, ended)).toEqual([200, 200]);

      expect((await logout(first.url, ended)).status).toBe(204);

      // The issuer got the revocation from this server's client (oidc-provider cannot revoke JWTs and
      // says so; Keycloak revokes them): the denylist is what ends the token here either way.
      expect(idp.revocations).toEqual([{ token: ended, status: 400, error: "unsupported_token_type" }]);
      expect(await access(first.url, ended)).toEqual([401, 401]);
      expect(await access(second.url, ended)).toEqual([401, 401]);
      expect((await logout(second.url, ended)).status).toBe(401);
      // The same user's separately obtained token is another token: it still works.
      expect(await access(first.url, other)).toEqual([200, 200]);
      expect(await access(second.url, other)).toEqual([200, 200]);
    } finally {
      await Promise.all([first.close(), second.close()]);
      await idp.close();
    }
  });
});

describe.skipIf(!ownRedis)("the logout denylist's Redis down (AUTH_PROVIDER=oidc)", () => {
  it("answers 503 with Retry-After on requests and on logout, never accepting the token", async () => {
    // A redis-server of this test's own: it is stopped mid-test.
    const [idp, redis] = await Promise.all([startOidcServer(), OwnRedisServer.start()]);
    try {
      const app = await startTestServer({
        AUTH_PROVIDER: "oidc",
        OIDC_ISSUER: idp.issuer,
        OIDC_AUDIENCE: idp.resource,
        OIDC_CLIENT_ID: APP_CLIENT.clientId,
        OIDC_CLIENT_SECRET: APP_CLIENT.clientSecret,
        SESSION_BACKEND: "redis",
        REDIS_URL: redis.url,
      });
      try {
        const token = await login(app.url, "alice", "alice-pw");
        expect((await postMcp(app.url, INITIALIZE, bearer(token))).status).toBe(200);
        await redis.stop();
        for (const response of [
          await postMcp(app.url, INITIALIZE, bearer(token)),
          await logout(app.url, token),
        ]) {
          expect(response.status).toBe(503);
          expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
        }
      } finally {
        await app.close();
      }
    } finally {
      await Promise.all([redis.dispose(), idp.close()]);
    }
  });
});

describe("logout with AUTH_PROVIDER=oidc and an issuer without a revocation endpoint", () => {
  it("still denies the token here (memory denylist) and sends the issuer nothing", async () => {
    const idp = await startOidcServer();
    const app = await startTestServer({
      AUTH_PROVIDER: "oidc",
      OIDC_ISSUER: idp.issuer,
      OIDC_AUDIENCE: idp.resource,
      OIDC_CLIENT_ID: APP_CLIENT.clientId,
      OIDC_CLIENT_SECRET: APP_CLIENT.clientSecret,
      API_KEYS: "on",
    });
    try {
      const ended = await login(app.url, "bob", "bob-pw");
      const other = await login(app.url, "bob", "bob-pw");
      expect((await logout(app.url, ended)).status).toBe(204);
      expect(await access(app.url, ended)).toEqual([401, 401]);
      expect(await access(app.url, other)).toEqual([200, 200]);
      expect(idp.revocations).toEqual([]);
    } finally {
      await app.close();
      await idp.close();
    }
  });
});

describe("logout with an API key", () => {
  it("revokes that key; the user's other key and login token keep working", async () => {
    const app = await startTestServer({ API_KEYS: "on" });
    try {
      const token = await login(app.url, "alice", "alice-pw");
      const create = async () => {
        const created = await fetch(`${app.url}/auth/api-keys`, {
          method: "POST",
          headers: { ...bearer(token), "content-type": "application/json" },
          body: JSON.stringify({ name: `k-${randomUUID().slice(0, 8)}` }),
        });
        expect(created.status).toBe(201);
        return ((await created.json()) as { api_key: string }).api_key;
      };
      const [ended, kept] = [await create(), await create()];

      expect((await logout(app.url, ended)).status).toBe(204);

      expect((await postMcp(app.url, INITIALIZE, bearer(ended))).status).toBe(401);
      expect((await postMcp(app.url, INITIALIZE, bearer(kept))).status).toBe(200);
      expect(await access(app.url, token)).toEqual([200, 200]);
      const listed = (await (await fetch(`${app.url}/auth/api-keys`, { headers: bearer(token) })).json()) as {
        keys: unknown[];
      };
      expect(listed.keys).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});
