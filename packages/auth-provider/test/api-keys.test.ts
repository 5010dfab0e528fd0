import { describe, expect, it } from "vitest";
import { createApiKeyManager, createMemoryApiKeyStore } from "../src/index.ts";
import { describeApiKeyStoreContract } from "./api-key-contract.ts";
import { expectAuthError } from "./helpers.ts";

describeApiKeyStoreContract("memory", async () => ({
  store: createMemoryApiKeyStore(),
  cleanup: async () => {},
}));

describe("API key manager configuration", () => {
  it("rejects a prefix that scanners could not recognise", () =>
    expectAuthError(
      (async () => createApiKeyManager({ store: createMemoryApiKeyStore(), prefix: "a_b" }))(),
      "AUTH_CONFIG",
    ));
  it("rejects a non-positive per-user limit", () =>
    expectAuthError(
      (async () => createApiKeyManager({ store: createMemoryApiKeyStore(), maxKeysPerUser: 0 }))(),
      "AUTH_CONFIG",
    ));
});

describe("API keys of removed owners (regression: a removed user's key kept working)", () => {
  it("stops resolving a key once ownerExists says its owner is gone, and keeps others working", async () => {
    const users = new Set(["alice", "bob"]);
    const manager = createApiKeyManager({
      store: createMemoryApiKeyStore(),
      ownerExists: async (username) => users.has(username),
    });
    const bobs = await manager.create({ username: "bob", roles: ["user"] });
    const alices = await manager.create({ username: "alice", roles: ["user"] });
    expect((await manager.resolve(bobs.key)).username).toBe("bob");
    users.delete("bob");
    const error = await expectAuthError(manager.resolve(bobs.key), "API_KEY_INVALID");
    expect(error.reason).toBe("owner_removed");
    expect((await manager.resolve(alices.key)).username).toBe("alice");
  });
});
