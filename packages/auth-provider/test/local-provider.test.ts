import { describe, expect, it } from "vitest";
import { createLocalProvider, type LocalProviderOptions } from "../src/index.ts";
import { expectAuthError, makeKey, nowSeconds, sign } from "./helpers.ts";

const ISSUER = "http://127.0.0.1:3000";
const AUDIENCE = "http://127.0.0.1:3000/mcp";
const users = [
  { username: "alice", password: "correct horse", roles: ["admin", "user"] },
  { username: "bob", password: "battery staple", roles: [] },
];

function provider(extra: Partial<LocalProviderOptions> = {}) {
  return createLocalProvider({ issuer: ISSUER, audience: AUDIENCE, users, ...extra });
}

describe("local provider", () => {
  it("issues a token on login that verifies to the user's principal", async () => {
    const local = await provider({ defaultScopes: ["mcp:tools"] });
    const tokens = await local.authenticate("alice", "correct horse", { sessionId: "s-1" });
    expect(tokens).toMatchObject({ tokenType: "Bearer", expiresIn: 900 });
    const principal = await local.verifyToken(tokens.accessToken);
    expect(principal).toMatchObject({
      userId: "user:alice",
      username: "alice",
      roles: ["admin", "user"],
      scopes: ["mcp:tools"],
      sessionId: "s-1",
      kind: "user",
    });
    expect(principal.expiresAt.getTime()).toBeGreaterThan(Date.now() + 800_000);
    expect(principal.claims).toMatchObject({ iss: ISSUER, aud: AUDIENCE, sub: "alice" });
  });

  it("signs with EdDSA by default and ES256 on request, with a typed at+jwt header and kid", async () => {
    for (const algorithm of ["EdDSA", "ES256"] as const) {
      const local = await provider({ algorithm });
      const { accessToken } = await local.issueToken({ username: "bob", roles: [] }, { scopes: ["a", "b"] });
      const header = JSON.parse(Buffer.from(accessToken.split(".")[0]!, "base64url").toString());
      expect(header).toEqual({ alg: algorithm, kid: local.jwks().keys[0]!.kid, typ: "at+jwt" });
      expect((await local.verifyToken(accessToken)).scopes).toEqual(["a", "b"]);
    }
  });

  it("publishes only public key material in its JWKS", async () => {
    const { keys } = (await provider()).jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(keys[0]).not.toHaveProperty("d");
  });

  it("signs with a configured private key, so tokens survive a restart", async () => {
    const key = await makeKey("ES256");
    const first = await provider({ algorithm: "ES256", privateKeyJwk: key.privateJwk });
    const second = await provider({ algorithm: "ES256", privateKeyJwk: key.privateJwk });
    const { accessToken } = await first.issueToken({ username: "alice", roles: ["admin"] });
    expect((await second.verifyToken(accessToken)).username).toBe("alice");
    expect(second.jwks().keys[0]).not.toHaveProperty("d");
  });

  it("refuses tokens of a user removed from the user list, though signed with the shared key (regression)", async () => {
    const key = await makeKey("ES256");
    const before = await provider({ algorithm: "ES256", privateKeyJwk: key.privateJwk });
    const after = await provider({ algorithm: "ES256", privateKeyJwk: key.privateJwk, users: [users[0]!] });
    const bobToken = (await before.issueToken({ username: "bob", roles: [] })).accessToken;
    const aliceToken = (await before.issueToken({ username: "alice", roles: [] })).accessToken;
    expect((await before.verifyToken(bobToken)).username).toBe("bob");
    const error = await expectAuthError(after.verifyToken(bobToken), "TOKEN_INVALID");
    expect(error.reason).toBe("unknown_subject");
    expect((await after.verifyToken(aliceToken)).username).toBe("alice");
    expect([after.hasUser("alice"), after.hasUser("bob"), before.hasUser("bob")]).toEqual([
      true,
      false,
      true,
    ]);
  });

  it("fails a wrong password and an unknown user with the same error", async () => {
    const local = await provider();
    const wrong = await expectAuthError(local.verifyCredentials("alice", "nope"), "INVALID_CREDENTIALS");
    const unknown = await expectAuthError(local.authenticate("mallory", "nope"), "INVALID_CREDENTIALS");
    expect(unknown.message).toBe(wrong.message);
    await expectAuthError(local.verifyCredentials("alice", ""), "INVALID_CREDENTIALS");
    await expectAuthError(local.verifyCredentials("alice", "x".repeat(5000)), "INVALID_CREDENTIALS");
    expect(await local.verifyCredentials("bob", "battery staple")).toEqual({ username: "bob", roles: [] });
  });

  it("sheds logins beyond the hashing queue with AUTH_UNAVAILABLE instead of queueing without bound", async () => {
    const local = await provider({ passwordHashing: { concurrency: 1, maxQueue: 1 } });
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => local.verifyCredentials("alice", "correct horse")),
    );
    const fulfilled = results.filter((r) => r.status === "fulfilled");
    const shed = results.filter(
      (r) =>
        r.status === "rejected" && (r.reason as { code?: string; reason?: string }).reason === "overloaded",
    );
    expect(fulfilled.length).toBeGreaterThanOrEqual(1);
    expect(shed.length).toBeGreaterThanOrEqual(1);
    expect(fulfilled.length + shed.length).toBe(5);
  });

  it("rejects non-string credentials as INVALID_ARGUMENT", async () => {
    const local = await provider();
    await expectAuthError(local.verifyCredentials(42 as unknown as string, "x"), "INVALID_ARGUMENT");
  });

  it("honours an already-aborted signal on login", async () => {
    const local = await provider();
    const controller = new AbortController();
    controller.abort(new Error("client went away"));
    await expect(
      local.verifyCredentials("alice", "correct horse", { signal: controller.signal }),
    ).rejects.toThrow("client went away");
  });

  it("rejects tokens from another local issuer's key", async () => {
    const [one, two] = await Promise.all([provider(), provider()]);
    const { accessToken } = await one.issueToken({ username: "alice", roles: [] });
    await expectAuthError(two.verifyToken(accessToken), "TOKEN_INVALID", "unknown_kid");
  });

  it("rejects expired tokens as TOKEN_EXPIRED, beyond the clock tolerance", async () => {
    const key = await makeKey();
    const local = await provider({ privateKeyJwk: key.privateJwk, clockToleranceSeconds: 5 });
    const kid = local.jwks().keys[0]!.kid!;
    const base = { iss: ISSUER, aud: AUDIENCE, sub: "alice" };
    const expired = await sign({
      alg: "EdDSA",
      kid,
      key: key.privateKey,
      claims: { ...base, exp: nowSeconds() - 10 },
    });
    await expectAuthError(local.verifyToken(expired), "TOKEN_EXPIRED", "expired");
    const withinTolerance = await sign({
      alg: "EdDSA",
      kid,
      key: key.privateKey,
      claims: { ...base, exp: nowSeconds() - 2 },
    });
    expect((await local.verifyToken(withinTolerance)).username).toBe("alice");
  });

  it("rejects a token for another audience", async () => {
    const key = await makeKey();
    const elsewhere = await createLocalProvider({
      issuer: ISSUER,
      audience: "http://elsewhere/mcp",
      users: [],
      privateKeyJwk: key.privateJwk,
    });
    const here = await provider({ privateKeyJwk: key.privateJwk });
    const { accessToken } = await elsewhere.issueToken({ username: "alice", roles: [] });
    await expectAuthError(here.verifyToken(accessToken), "TOKEN_INVALID", "audience");
  });

  it("returns the same frozen principal from its cache, and verifies afresh without one", async () => {
    const cached = await provider();
    const { accessToken } = await cached.issueToken({ username: "alice", roles: ["admin"] });
    const first = await cached.verifyToken(accessToken);
    expect(await cached.verifyToken(accessToken)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.roles)).toBe(true);
    const uncached = await provider({ cache: false });
    const token = (await uncached.issueToken({ username: "bob", roles: [] })).accessToken;
    expect(await uncached.verifyToken(token)).not.toBe(await uncached.verifyToken(token));
  });

  it("rejects invalid issueToken arguments", async () => {
    const local = await provider();
    await expectAuthError(local.issueToken({ username: "bad name", roles: [] }), "INVALID_ARGUMENT");
    await expectAuthError(
      local.issueToken({ username: "alice", roles: [] }, { scopes: ["has space"] }),
      "INVALID_ARGUMENT",
    );
    await expectAuthError(
      local.issueToken({ username: "alice", roles: [] }, { sessionId: "" }),
      "INVALID_ARGUMENT",
    );
  });

  it("issues client-credentials tokens that verify as service principals", async () => {
    const local = await provider({
      serviceClients: [
        { clientId: "reporting-svc", clientSecret: "0123456789abcdef-secret", roles: ["service"] },
      ],
    });
    const { accessToken } = await local.clientCredentials("reporting-svc", "0123456789abcdef-secret", {
      scopes: ["mcp:tools"],
    });
    expect(await local.verifyToken(accessToken)).toMatchObject({
      userId: "service_principal:reporting-svc",
      username: "reporting-svc",
      kind: "service_principal",
      clientId: "reporting-svc",
      roles: ["service"],
      scopes: ["mcp:tools"],
    });
    await expectAuthError(local.clientCredentials("reporting-svc", "wrong"), "INVALID_CREDENTIALS");
    await expectAuthError(local.clientCredentials("alice", "correct horse"), "INVALID_CREDENTIALS");
  });

  describe("rejects bad configuration at creation", () => {
    it("a service client with a short secret", async () => {
      await expectAuthError(
        provider({ serviceClients: [{ clientId: "svc", clientSecret: "short", roles: [] }] }),
        "AUTH_CONFIG",
      );
    });
    it("a key of the wrong curve", async () => {
      const key = await makeKey("ES256");
      await expectAuthError(provider({ privateKeyJwk: key.privateJwk }), "AUTH_CONFIG");
    });
    it("a public key where a private one is needed", async () => {
      const key = await makeKey("EdDSA");
      await expectAuthError(provider({ privateKeyJwk: key.publicJwk }), "AUTH_CONFIG");
    });
    it("an unsupported algorithm", async () => {
      await expectAuthError(provider({ algorithm: "HS256" as never }), "AUTH_CONFIG");
    });
    it("a bad token lifetime", async () => {
      await expectAuthError(provider({ tokenTtlSeconds: 0 }), "AUTH_CONFIG");
    });
    it("an empty issuer", async () => {
      await expectAuthError(provider({ issuer: "" }), "AUTH_CONFIG");
    });
    it("an invalid user", async () => {
      await expectAuthError(provider({ users: [{ username: "x", password: "", roles: [] }] }), "AUTH_CONFIG");
    });
  });
});
