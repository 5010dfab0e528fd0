import { describe, expect, it } from "vitest";
import { type Principal, VerificationCache } from "../src/index.ts";

const principal = (expiresAtMs: number): Principal => ({
  userId: "user:alice",
  username: "alice",
  roles: [],
  scopes: [],
  expiresAt: new Date(expiresAtMs),
  claims: {},
});

describe("verification cache", () => {
  it("serves a token until its exp, then forgets it", () => {
    let now = 1_000_000;
    const cache = new VerificationCache({ now: () => now });
    cache.set("token-a", principal(now + 5000));
    expect(cache.get("token-a")?.username).toBe("alice");
    expect(cache.get("token-b")).toBeUndefined();
    now += 5000;
    expect(cache.get("token-a")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("honours a shorter validity than exp (introspection answers)", () => {
    let now = 0;
    const cache = new VerificationCache({ now: () => now });
    cache.set("opaque", principal(60_000), 1000);
    now = 1000;
    expect(cache.get("opaque")).toBeUndefined();
  });

  it("never stores an already-expired principal", () => {
    const cache = new VerificationCache({ now: () => 10 });
    cache.set("old", principal(10));
    expect(cache.size).toBe(0);
  });

  it("stays within its bound, evicting the oldest entry first", () => {
    const cache = new VerificationCache({ maxEntries: 2, now: () => 0 });
    cache.set("one", principal(1000));
    cache.set("two", principal(1000));
    cache.set("three", principal(1000));
    expect(cache.size).toBe(2);
    expect(cache.get("one")).toBeUndefined();
    expect(cache.get("three")).toBeDefined();
  });

  it("skips the cache for a caller that has already aborted", async () => {
    const cache = new VerificationCache();
    cache.set("t", principal(Date.now() + 60_000));
    const controller = new AbortController();
    controller.abort(new Error("gone"));
    let verified = false;
    await cache
      .through("t", controller.signal, async () => {
        verified = true;
        throw controller.signal.reason;
      })
      .catch(() => undefined);
    expect(verified).toBe(true);
  });

  it("rejects a non-positive bound", () => {
    expect(() => new VerificationCache({ maxEntries: 0 })).toThrow(
      expect.objectContaining({ code: "AUTH_CONFIG" }),
    );
  });
});
