import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ApiKeyManager, type ApiKeyStore, createApiKeyManager } from "../src/index.ts";
import { expectAuthError } from "./helpers.ts";

export interface StoreFixture {
  store: ApiKeyStore;
  cleanup(): Promise<void>;
}

const alice = { username: "alice", roles: ["admin", "user"] };
const bob = { username: "bob", roles: ["user"] };

/** One behavioural contract for every ApiKeyStore, exercised through the manager. */
export function describeApiKeyStoreContract(name: string, makeStore: () => Promise<StoreFixture>) {
  describe(`API keys on the ${name} store`, () => {
    let fixture: StoreFixture;
    let keys: ApiKeyManager;
    let clock: number;

    beforeEach(async () => {
      fixture = await makeStore();
      clock = Date.now();
      keys = createApiKeyManager({ store: fixture.store, maxKeysPerUser: 3, now: () => clock });
    });
    afterEach(() => fixture.cleanup());

    it("creates a prefixed 256-bit key that resolves to its owner's principal", async () => {
      const { key, info } = await keys.create(alice, { name: "ci", scopes: ["mcp:tools"] });
      expect(key).toMatch(/^mcpk_[A-Za-z0-9_-]{16}_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(key.slice(-43), "base64url")).toHaveLength(32);
      expect(keys.looksLikeKey(key)).toBe(true);
      const principal = await keys.resolve(key);
      expect(principal).toMatchObject({
        userId: "user:alice",
        username: "alice",
        roles: ["admin", "user"],
        scopes: ["mcp:tools"],
        kind: "user",
        claims: { api_key_id: info.id, api_key_name: "ci" },
      });
    });

    it("never stores or lists the key itself", async () => {
      const { key, info } = await keys.create(alice);
      const stored = await fixture.store.get(info.id, clock);
      expect(JSON.stringify(stored)).not.toContain(key.slice(-43));
      const listed = await keys.list("alice");
      expect(listed).toEqual([info]);
      expect(JSON.stringify(listed)).not.toContain("hash");
    });

    it("rejects a key with a wrong secret, a malformed key and a foreign prefix", async () => {
      const { key } = await keys.create(alice);
      const forged = `${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`;
      await expectAuthError(keys.resolve(forged), "API_KEY_INVALID", "unknown");
      await expectAuthError(keys.resolve("mcpk_short"), "API_KEY_INVALID", "malformed");
      await expectAuthError(keys.resolve(key.replace(/^mcpk/, "ghpx")), "API_KEY_INVALID", "malformed");
    });

    it("enforces the per-user limit without affecting other users", async () => {
      for (let i = 0; i < 3; i++) await keys.create(alice, { name: `k${i}` });
      await expectAuthError(keys.create(alice), "API_KEY_LIMIT");
      expect(await keys.list("alice")).toHaveLength(3);
      await keys.create(bob);
    });

    it("expires keys, and expired keys stop counting against the limit", async () => {
      const { key } = await keys.create(alice, { ttlSeconds: 60 });
      await keys.create(alice, { ttlSeconds: 60 });
      await keys.create(alice, { ttlSeconds: null });
      clock += 61_000;
      await expectAuthError(keys.resolve(key), "API_KEY_INVALID");
      expect((await keys.list("alice")).map((info) => info.expiresAt)).toEqual([undefined]);
      await keys.create(alice);
      await keys.create(alice);
      await expectAuthError(keys.create(alice), "API_KEY_LIMIT");
    });

    it("revokes a key at once; another user cannot revoke it", async () => {
      const { key, info } = await keys.create(alice);
      await expectAuthError(keys.revoke("bob", info.id), "NOT_FOUND");
      expect((await keys.resolve(key)).username).toBe("alice");
      await keys.revoke("alice", info.id);
      await expectAuthError(keys.resolve(key), "API_KEY_INVALID");
      await expectAuthError(keys.revoke("alice", info.id), "NOT_FOUND");
    });

    it("rotates a key: the new one works, the old one stops, the count stays", async () => {
      for (let i = 0; i < 2; i++) await keys.create(alice);
      const old = await keys.create(alice, { name: "deploy", ttlSeconds: 3600, scopes: ["a"] });
      clock += 1000;
      const rotated = await keys.rotate("alice", old.info.id);
      await expectAuthError(keys.resolve(old.key), "API_KEY_INVALID");
      expect(await keys.resolve(rotated.key)).toMatchObject({ username: "alice", scopes: ["a"] });
      expect(rotated.info).toMatchObject({ name: "deploy", owner: "alice" });
      expect(rotated.info.expiresAt!.getTime()).toBe(clock + 3600_000);
      expect(await keys.list("alice")).toHaveLength(3);
      await expectAuthError(keys.rotate("bob", rotated.info.id), "NOT_FOUND");
      await expectAuthError(keys.rotate("alice", old.info.id), "NOT_FOUND");
    });

    it("rejects bad arguments and changes nothing", async () => {
      await expectAuthError(keys.create({ username: "has space", roles: [] }), "INVALID_ARGUMENT");
      await expectAuthError(keys.create(alice, { ttlSeconds: -1 }), "INVALID_ARGUMENT");
      await expectAuthError(keys.create(alice, { name: "" }), "INVALID_ARGUMENT");
      await expectAuthError(keys.create(alice, { scopes: ["a b"] }), "INVALID_ARGUMENT");
      expect(await keys.list("alice")).toEqual([]);
    });
  });
}
