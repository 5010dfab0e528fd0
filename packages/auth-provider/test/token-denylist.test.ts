import { randomBytes } from "node:crypto";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthError,
  type AuthProvider,
  createMemoryTokenDenylist,
  createRedisTokenDenylist,
  createRevocableTokens,
  denylistKey,
  type Principal,
  type TokenDenylist,
} from "../src/index.ts";
import { expectAuthError } from "./helpers.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const redisUp = await requireService({ name: "Redis", url: REDIS_URL });

const principal = (claims: Record<string, unknown>, expiresInMs = 60_000): Principal => ({
  userId: "user:alice",
  username: "alice",
  roles: [],
  scopes: [],
  expiresAt: new Date(Date.now() + expiresInMs),
  claims,
});

/** A verifier that accepts any token naming its jti as "<jti>.<anything>", and counts its calls. */
function fakeIssuerTokens() {
  const seen: string[] = [];
  const tokens: AuthProvider = {
    async verifyToken(token) {
      seen.push(token);
      const [jti] = token.split(".");
      return principal(jti === "nojti" ? { iss: "https://issuer" } : { iss: "https://issuer", jti });
    },
  };
  return { tokens, seen };
}

describe("denylistKey", () => {
  it("names a token by issuer+jti when it has one, else by a hash of the token, never the token itself", () => {
    const a = denylistKey("t1", principal({ iss: "i", jti: "j" }));
    expect(a).toBe(denylistKey("t2", principal({ iss: "i", jti: "j" })));
    expect(a).not.toBe(denylistKey("t1", principal({ iss: "other", jti: "j" })));
    const bare = denylistKey("secret-token", principal({}));
    expect(bare).toMatch(/^tok:/);
    expect(bare).not.toContain("secret-token");
    expect(bare).not.toBe(denylistKey("secret-token2", principal({})));
  });
});

describe("memory token denylist", () => {
  it("denies until the expiry, then forgets", async () => {
    let now = 1_000;
    const denylist = createMemoryTokenDenylist({ now: () => now });
    await denylist.deny("k", 2_000);
    await denylist.deny("past", 500);
    expect(await denylist.has("k")).toBe(true);
    expect(await denylist.has("past")).toBe(false);
    now = 2_000;
    expect(await denylist.has("k")).toBe(false);
  });

  it("refuses a new entry when full instead of evicting a live one, and makes room from expired ones", async () => {
    let now = 0;
    const denylist = createMemoryTokenDenylist({ maxEntries: 2, now: () => now });
    await denylist.deny("a", 100);
    await denylist.deny("b", 1_000);
    await expectAuthError(denylist.deny("c", 1_000), "AUTH_UNAVAILABLE", "denylist_full");
    expect([await denylist.has("a"), await denylist.has("b"), await denylist.has("c")]).toEqual([
      true,
      true,
      false,
    ]);
    now = 100;
    await denylist.deny("c", 1_000);
    expect(await denylist.has("c")).toBe(true);
  });

  it("rejects a bad maxEntries", () => {
    expect(() => createMemoryTokenDenylist({ maxEntries: 0 })).toThrow(/maxEntries/);
  });
});

describe("revocable tokens", () => {
  it("rejects a denied token (by jti, or by hash without one) and leaves other tokens alone", async () => {
    const { tokens } = fakeIssuerTokens();
    const revocable = createRevocableTokens({ tokens, denylist: createMemoryTokenDenylist() });
    for (const token of ["j1.x", "nojti.a"]) {
      const who = await revocable.verifyToken(token);
      await revocable.deny(token, who);
      await expectAuthError(revocable.verifyToken(token), "TOKEN_INVALID", "revoked");
    }
    await expect(revocable.verifyToken("j2.x")).resolves.toMatchObject({ username: "alice" });
    await expect(revocable.verifyToken("nojti.b")).resolves.toMatchObject({ username: "alice" });
  });

  it("fails closed when the denylist cannot answer, and never asks it about an unverified token", async () => {
    const asked: string[] = [];
    const broken: TokenDenylist = {
      deny: async () => {},
      has: async (key) => {
        asked.push(key);
        throw new AuthError("AUTH_UNAVAILABLE", "denylist store down");
      },
    };
    const revocable = createRevocableTokens({
      tokens: {
        verifyToken: async (token) => {
          if (token === "forged") throw new AuthError("TOKEN_INVALID", "bad signature");
          return principal({ jti: token });
        },
      },
      denylist: broken,
    });
    await expectAuthError(revocable.verifyToken("good"), "AUTH_UNAVAILABLE");
    await expectAuthError(revocable.verifyToken("forged"), "TOKEN_INVALID");
    expect(asked).toHaveLength(1);
  });
});

describe.skipIf(!redisUp)("Redis token denylist", () => {
  const client = createClient({ url: REDIS_URL });
  const keyPrefix = `test:denylist:${randomBytes(6).toString("hex")}`;
  beforeAll(() => client.connect());
  afterAll(async () => {
    const keys = await client.keys(`${keyPrefix}:*`);
    if (keys.length > 0) await client.del(keys);
    await client.close();
  });

  it("shares denials through Redis, each expiring when its token would", async () => {
    const one = createRedisTokenDenylist({ client, keyPrefix });
    const other = createRedisTokenDenylist({ client, keyPrefix });
    const expiresAt = Date.now() + 60_000;
    await one.deny("k1", expiresAt, { signal: AbortSignal.timeout(2000) });
    await one.deny("past", Date.now() - 1);
    expect(await other.has("k1")).toBe(true);
    expect(await other.has("past")).toBe(false);
    expect(await other.has("never")).toBe(false);
    const ttl = await client.pTTL(`${keyPrefix}:k1`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("reports a Redis that cannot answer as AUTH_UNAVAILABLE (fail closed)", async () => {
    const closed = createClient({ url: REDIS_URL });
    await closed.connect();
    closed.destroy();
    const denylist = createRedisTokenDenylist({ client: closed, keyPrefix });
    await expectAuthError(denylist.has("k1"), "AUTH_UNAVAILABLE", "redis_error");
    await expectAuthError(denylist.deny("k2", Date.now() + 1000), "AUTH_UNAVAILABLE", "redis_error");
  });
});
