import { setTimeout as delay } from "node:timers/promises";
import { OwnRedisServer, requireRedisBinaries } from "@mcp-langgraph/testkit/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionStore, isSessionError, type SessionStore } from "../src/index.ts";

const alice = { userId: "user-alice", username: "alice", roles: ["user"] };

async function failureOf(
  promise: Promise<unknown>,
): Promise<{ code: string | undefined; elapsedMs: number }> {
  const started = performance.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return {
    code: isSessionError(error) ? error.code : `not a SessionError: ${String(error)}`,
    elapsedMs: performance.now() - started,
  };
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await delay(100);
  }
  return false;
}

// Runs against a redis-server this suite owns on a free port; the shared Redis is never touched.
describe.skipIf(!requireRedisBinaries())("redis store outages", () => {
  let server: OwnRedisServer;
  let store: SessionStore;

  beforeAll(async () => {
    server = await OwnRedisServer.start();
    // Default commandTimeoutMs (2000 ms): the bound these tests hold the store to.
    store = await createSessionStore({ backend: "redis", url: server.url, keyPrefix: "outage:" });
  });

  afterAll(async () => {
    await store?.close();
    await server?.dispose();
  });

  it("a hung Redis (process frozen) fails calls with SESSION_UNAVAILABLE within the 2 s default", async () => {
    const id = await store.create(alice);
    server.pause();
    try {
      const results = await Promise.all([
        failureOf(store.get(id)),
        failureOf(store.create(alice)),
        failureOf(store.listUserSessions(alice.userId)),
      ]);
      for (const { code, elapsedMs } of results) {
        expect(code).toBe("SESSION_UNAVAILABLE");
        expect(elapsedMs).toBeLessThan(3000);
      }
      expect(await store.ping()).toBe(false);
    } finally {
      server.resume();
    }
    // The frozen server answers its backlog once resumed; the store keeps working on the same connection.
    expect((await store.get(id))?.userId).toBe(alice.userId);
  });

  it("a stopped Redis fails calls fast and typed; the store reconnects by itself when Redis returns", async () => {
    await store.create(alice);
    await server.stop();
    const down = await failureOf(store.get(`${"x".repeat(22)}.${"y".repeat(43)}`));
    expect(down.code).toBe("SESSION_UNAVAILABLE");
    expect(down.elapsedMs).toBeLessThan(3000);
    const downCreate = await failureOf(store.create(alice));
    expect(downCreate.code).toBe("SESSION_UNAVAILABLE");
    expect(await store.ping()).toBe(false);

    await server.start();
    // No call into the store restarts it: the client's own reconnect loop finds the server again.
    expect(await waitUntil(() => store.ping(), 8000)).toBe(true);
    // The restarted server has an empty script cache: the store reloads its scripts on NOSCRIPT.
    const id = await store.create(alice);
    expect((await store.get(id))?.username).toBe("alice");
    expect(await store.update(id, { back: true })).toBe(true);
  });

  it("an aborted caller gets its own reason back even while Redis hangs", async () => {
    server.pause();
    try {
      const controller = new AbortController();
      const reason = new Error("client went away");
      const pending = store.get(`${"a".repeat(22)}.${"b".repeat(43)}`, { signal: controller.signal });
      setTimeout(() => controller.abort(reason), 50);
      await expect(pending).rejects.toBe(reason);
    } finally {
      server.resume();
    }
  });

  it("creating a store against a Redis that is not there fails with SESSION_UNAVAILABLE in bounded time", async () => {
    const gone = await OwnRedisServer.start();
    const url = gone.url;
    await gone.dispose();
    const result = await failureOf(createSessionStore({ backend: "redis", url, commandTimeoutMs: 500 }));
    expect(result.code).toBe("SESSION_UNAVAILABLE");
    expect(result.elapsedMs).toBeLessThan(1500);
  });

  it("logs the outage and the recovery, never the password from the URL", async () => {
    const guarded = await OwnRedisServer.start(["--requirepass", "s3cret-pass"]);
    const entries: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
    const record =
      (level: string) =>
      (fields: Record<string, unknown>, message: string): void => {
        entries.push({ level, fields, message });
      };
    const logger = {
      debug: record("debug"),
      info: record("info"),
      warn: record("warn"),
      error: record("error"),
    };
    const url = `redis://:s3cret-pass@127.0.0.1:${guarded.port}`;
    const secured = await createSessionStore({ backend: "redis", url, commandTimeoutMs: 500 }, { logger });
    try {
      await secured.create(alice);
      await guarded.stop();
      const error = await secured.create(alice).catch((e: unknown) => e);
      expect(isSessionError(error) && error.code).toBe("SESSION_UNAVAILABLE");
      expect(
        `${String(error)} ${JSON.stringify((error as Error & { details?: unknown }).details)}`,
      ).not.toContain("s3cret-pass");
      await guarded.start();
      expect(await waitUntil(() => secured.ping(), 8000)).toBe(true);
      expect(entries.some((e) => e.level === "warn" && e.message.includes("connection lost"))).toBe(true);
      expect(
        entries.filter((e) => e.level === "info" && e.message.includes("ready")).length,
      ).toBeGreaterThanOrEqual(2);
      expect(JSON.stringify(entries)).not.toContain("s3cret-pass");
    } finally {
      await secured.close();
      await guarded.dispose();
    }
  });

  it("a custom commandTimeoutMs bounds calls to a hung Redis", async () => {
    const quick = await createSessionStore({ backend: "redis", url: server.url, commandTimeoutMs: 300 });
    server.pause();
    try {
      const result = await failureOf(quick.get(`${"a".repeat(22)}.${"b".repeat(43)}`));
      expect(result.code).toBe("SESSION_UNAVAILABLE");
      expect(result.elapsedMs).toBeGreaterThanOrEqual(250);
      expect(result.elapsedMs).toBeLessThan(1200);
    } finally {
      server.resume();
      await quick.close();
    }
  });
});
