import { randomBytes } from "node:crypto";
import { REDIS_URL } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createLocalProvider,
  createMemoryOAuthState,
  createRedisOAuthState,
  generateSigningJwk,
} from "../src/index.ts";
import { expectAuthError } from "./helpers.ts";
import { describeOAuthStateContract } from "./oauth-state-contract.ts";
import { redisToStop } from "./redis-outage.ts";

const available = await requireService({ name: "Redis", url: REDIS_URL });

describeOAuthStateContract("memory", async () => {
  let clock = Date.now();
  return {
    store: createMemoryOAuthState({ now: () => clock }),
    elapse: async (ms) => {
      clock += ms;
    },
    cleanup: async () => {},
  };
});

describe.skipIf(!available)("Redis OAuth state", () => {
  const client = createClient({ url: REDIS_URL });
  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    await client.close();
  });

  describeOAuthStateContract("Redis", async () => {
    const keyPrefix = `test:oauth:${randomBytes(6).toString("hex")}:`;
    return {
      store: createRedisOAuthState({ client, keyPrefix }),
      // Redis expires keys by its own clock: the test lets real time pass.
      elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      async cleanup() {
        const keys = await client.keys(`${keyPrefix}*`);
        if (keys.length > 0) await client.del(keys);
      },
    };
  });

  it("gives every key a lifetime, registered clients included, and the grant list the longest", async () => {
    const keyPrefix = `test:oauth:${randomBytes(6).toString("hex")}:`;
    const store = createRedisOAuthState({ client, keyPrefix, defaultTtlSeconds: 3_600 });
    await store("Client").upsert("client-1", { client_name: "Inspector" });
    await store("RefreshToken").upsert("r1", { grantId: "g1" }, 600);
    await store("AccessToken").upsert("a1", { grantId: "g1" }, 60);
    const ttl = (key: string) => client.ttl(`${keyPrefix}${key}`);
    expect(await ttl("Client:client-1")).toBeGreaterThan(3_000);
    expect(await ttl("grant:g1")).toBeGreaterThan(500);
    expect(await ttl("AccessToken:a1")).toBeLessThanOrEqual(60);
    await client.del(await client.keys(`${keyPrefix}*`));
  });
});

describe("Redis OAuth state during an outage", () => {
  const redis = redisToStop();

  it("fails with AUTH_UNAVAILABLE within its deadline once Redis is gone", async () => {
    const client = await redis.connect();
    const store = createRedisOAuthState({ client, timeoutMs: 300 });
    await store("Grant").upsert("g1", { accountId: "alice" }, 60);
    await redis.stop();
    await expectAuthError(store("Grant").find("g1"), "AUTH_UNAVAILABLE");
    await expectAuthError(store("Grant").upsert("g2", {}, 60), "AUTH_UNAVAILABLE");
    client.destroy();
  });
});

describe("generateSigningJwk", () => {
  it("makes a private JWK a local provider signs with, under the same kid", async () => {
    const jwk = await generateSigningJwk();
    expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(typeof jwk.d).toBe("string");
    const provider = await createLocalProvider({
      issuer: "https://issuer.test",
      audience: "https://issuer.test/mcp",
      users: [],
      privateKeyJwk: jwk,
    });
    expect(provider.jwks().keys[0]?.kid).toBe(jwk.kid);
  });
});
