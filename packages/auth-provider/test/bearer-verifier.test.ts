import { describe, expect, it } from "vitest";
import {
  createApiKeyManager,
  createBearerVerifier,
  createLocalProvider,
  createMemoryApiKeyStore,
} from "../src/index.ts";
import { expectAuthError } from "./helpers.ts";

describe("bearer verifier", () => {
  it("resolves API keys by prefix and everything else as a token", async () => {
    const tokens = await createLocalProvider({
      issuer: "http://127.0.0.1:3000",
      audience: "http://127.0.0.1:3000/mcp",
      users: [{ username: "alice", password: "pw-alice", roles: ["user"] }],
    });
    const apiKeys = createApiKeyManager({ store: createMemoryApiKeyStore() });
    const bearer = createBearerVerifier({ tokens, apiKeys });

    const { key } = await apiKeys.create({ username: "bob", roles: ["ci"] });
    expect(await bearer.verifyToken(key)).toMatchObject({ userId: "user:bob", roles: ["ci"] });
    const { accessToken } = await tokens.authenticate("alice", "pw-alice");
    expect(await bearer.verifyToken(accessToken)).toMatchObject({ userId: "user:alice" });
    const forged = `${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`;
    await expectAuthError(bearer.verifyToken(forged), "API_KEY_INVALID");
    await expectAuthError(bearer.verifyToken("neither"), "TOKEN_INVALID", "malformed");
  });

  it("treats API keys as tokens (and rejects them) when no key manager is configured", async () => {
    const tokens = await createLocalProvider({ issuer: "http://127.0.0.1:3000", audience: "a", users: [] });
    const { key } = await createApiKeyManager({ store: createMemoryApiKeyStore() }).create({
      username: "bob",
      roles: [],
    });
    await expectAuthError(createBearerVerifier({ tokens }).verifyToken(key), "TOKEN_INVALID");
  });
});
