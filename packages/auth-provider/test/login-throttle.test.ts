import { randomBytes } from "node:crypto";
import { OwnRedisServer, requireRedisBinaries } from "@mcp-langgraph/testkit/redis";
import { createClient } from "redis";
import { describe, expect, it, vi } from "vitest";
import { AuthError, createLoginThrottle } from "../src/index.ts";
import { expectAuthError } from "./helpers.ts";

const signal = () => AbortSignal.timeout(5_000);
const wrong = () => Promise.reject(new AuthError("INVALID_CREDENTIALS", "bad password"));

describe("login throttle", () => {
  it("does not run the password check while throttled, right password or not", async () => {
    const throttle = createLoginThrottle({ store: { backend: "memory" }, maxFailuresPerUser: 2 });
    for (let i = 0; i < 2; i++)
      await expectAuthError(throttle.attempt("alice", "10.0.0.1", signal(), wrong), "INVALID_CREDENTIALS");
    const verify = vi.fn(async () => "tokens");
    const error = await expectAuthError(
      throttle.attempt("alice", "10.0.0.1", signal(), verify),
      "LOGIN_THROTTLED",
    );
    expect(verify).not.toHaveBeenCalled();
    expect(error.details?.retryAfterMs).toBeGreaterThan(0);
    // Another address, or another user at the same address, is not throttled.
    await expect(throttle.attempt("alice", "10.0.0.2", signal(), verify)).resolves.toBe("tokens");
    await expect(throttle.attempt("bob", "10.0.0.1", signal(), verify)).resolves.toBe("tokens");
  });

  it("does not count an outage of the password check as a failure", async () => {
    const throttle = createLoginThrottle({ store: { backend: "memory" }, maxFailuresPerUser: 1 });
    const outage = () => Promise.reject(new AuthError("AUTH_UNAVAILABLE", "hashing pool busy"));
    for (let i = 0; i < 3; i++)
      await expectAuthError(throttle.attempt("alice", "10.0.0.1", signal(), outage), "AUTH_UNAVAILABLE");
    await expect(throttle.attempt("alice", "10.0.0.1", signal(), async () => "ok")).resolves.toBe("ok");
  });

  it.skipIf(!requireRedisBinaries())(
    "fails closed with AUTH_UNAVAILABLE, without checking the password, when Redis is down",
    async () => {
      const redis = await OwnRedisServer.start();
      const client = createClient({ url: redis.url, disableOfflineQueue: true });
      client.on("error", () => {});
      try {
        await client.connect();
        const throttle = createLoginThrottle({
          store: { backend: "redis", client, keyPrefix: `test:${randomBytes(4).toString("hex")}:` },
        });
        await expect(throttle.attempt("alice", "10.0.0.1", signal(), async () => "ok")).resolves.toBe("ok");
        await redis.stop();
        const verify = vi.fn(async () => "ok");
        await expectAuthError(throttle.attempt("alice", "10.0.0.1", signal(), verify), "AUTH_UNAVAILABLE");
        expect(verify).not.toHaveBeenCalled();
      } finally {
        client.destroy();
        await redis.dispose();
      }
    },
  );
});
