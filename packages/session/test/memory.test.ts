import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createSessionStore, isSessionError, MemorySessionStore } from "../src/index.ts";
import { runSessionStoreContract } from "./contract.ts";

runSessionStoreContract("memory", (options) => createSessionStore({ backend: "memory" }, options));

describe("MemorySessionStore", () => {
  const alice = { userId: "user-alice", username: "alice", roles: ["user"] };

  it("sweeps expired sessions on its timer without any read touching them", async () => {
    const store = new MemorySessionStore({ sweepIntervalMs: 25 });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.create({ ...alice, userId: `u${i}`, ttlSeconds: 0.05 })),
    );
    await store.create({ ...alice, ttlSeconds: 60 });
    expect(store.size).toBe(21);
    await delay(250);
    expect(store.size).toBe(1);
    await store.close();
  });

  it("does not keep the process alive: its sweep timer is unref'd", async () => {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const store = new MemorySessionStore({ sweepIntervalMs: 10 });
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    expect(timersAfter).toBe(timersBefore);
    await store.close();
  });

  it("rejects a non-positive sweep interval", () => {
    let error: unknown;
    try {
      new MemorySessionStore({ sweepIntervalMs: 0 });
    } catch (e) {
      error = e;
    }
    expect(isSessionError(error) && error.code).toBe("SESSION_INVALID_INPUT");
  });

  it("an unknown backend is refused with a typed error", async () => {
    const error = await createSessionStore({ backend: "mongo" } as never).catch((e: unknown) => e);
    expect(isSessionError(error) && error.code).toBe("SESSION_INVALID_INPUT");
  });
});
