import { describe, expect, it } from "vitest";
import { DecisionCache } from "../src/decision-cache.ts";

describe("DecisionCache", () => {
  it("evicts the least recently used decision, a read counting as a use", () => {
    const cache = new DecisionCache({ maxEntries: 2, ttlMs: 1_000, now: () => 0 });
    cache.set("doc:1", "viewer", "user:a", true);
    cache.set("doc:2", "viewer", "user:a", false);
    expect(cache.get("doc:1", "viewer", "user:a")).toBe(true);
    cache.set("doc:3", "viewer", "user:a", true);
    expect(cache.get("doc:2", "viewer", "user:a")).toBeUndefined();
    expect(cache.get("doc:1", "viewer", "user:a")).toBe(true);
    expect(cache.get("doc:3", "viewer", "user:a")).toBe(true);
    expect(cache.size).toBe(2);
  });

  it("forgets a decision once its TTL has passed, and a re-set renews it", () => {
    let now = 0;
    const cache = new DecisionCache({ maxEntries: 10, ttlMs: 100, now: () => now });
    cache.set("doc:1", "viewer", "user:a", true);
    now = 99;
    expect(cache.get("doc:1", "viewer", "user:a")).toBe(true);
    cache.set("doc:1", "viewer", "user:a", false);
    now = 150;
    expect(cache.get("doc:1", "viewer", "user:a")).toBe(false);
    now = 200;
    expect(cache.get("doc:1", "viewer", "user:a")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("keys on all three parts and empties completely on clear", () => {
    const cache = new DecisionCache({ maxEntries: 10, ttlMs: 1_000, now: () => 0 });
    cache.set("doc:1", "viewer", "user:a", true);
    expect(cache.get("doc:1", "editor", "user:a")).toBeUndefined();
    expect(cache.get("doc:1", "viewer", "user:b")).toBeUndefined();
    expect(cache.get("doc:2", "viewer", "user:a")).toBeUndefined();
    cache.clear();
    expect(cache.get("doc:1", "viewer", "user:a")).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
