import { describe, it } from "vitest";
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
