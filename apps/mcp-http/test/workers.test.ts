import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { REDIS_URL, redisKeyspace } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { afterAll, describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";
import { INITIALIZE, login } from "./helpers.ts";
import { spawnApp } from "./spawn.ts";

const redisUp = await requireService({ name: "Redis", url: REDIS_URL });
const keyspace = redisKeyspace("workers");
const dir = mkdtempSync(join(tmpdir(), "mcp-workers-"));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (redisUp) await keyspace.cleanup();
});

const { privateKey } = generateKeyPairSync("ed25519");
/** Everything several processes must share, so any worker answers any request. */
const shared = {
  SESSION_BACKEND: "redis",
  REDIS_URL,
  LOCAL_SIGNING_KEY: JSON.stringify(privateKey.export({ format: "jwk" })),
  LOCAL_USERS: "alice:alice-pw:user",
  CHECKPOINTER_BACKEND: "sqlite",
};

/** A POST on a connection of its own: node:cluster hands each new connection to the next worker. */
function postOnNewConnection(url: string, token: string): Promise<number> {
  const body = JSON.stringify(INITIALIZE);
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/mcp`,
      {
        method: "POST",
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The pids in the app's JSON log lines with this message. */
function pidsLogged(stdout: string, msg: string): number[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { msg?: string; pid?: number })
    .filter((line) => line.msg === msg && typeof line.pid === "number")
    .map((line) => line.pid as number);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("WORKERS: configuration", () => {
  const base = { ...shared, SQLITE_PATH: join(dir, "config.sqlite") };

  it("defaults to 1, reads a number, and auto is the available cores", () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ ...base, WORKERS: "3" }).workers).toBe(3);
    expect(loadConfig({ ...base, WORKERS: "auto" }).workers).toBe(availableParallelism());
  });

  it.each(["0", "-1", "1.5", "two", "257", ""])("refuses WORKERS=%j", (value) => {
    expect(() => loadConfig({ ...base, WORKERS: value })).toThrow(
      /WORKERS: must be "auto" or a whole number/,
    );
  });

  it("refuses more than one worker whatever would live once per process, naming each", () => {
    const attempt = () => loadConfig({ WORKERS: "2" });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/SESSION_BACKEND=redis/);
    expect(attempt).toThrow(/CHECKPOINTER_BACKEND=postgres/);
    expect(attempt).toThrow(/LOCAL_SIGNING_KEY/);
    expect(attempt).toThrow(/LOCAL_USERS/);
    expect(() => loadConfig({ ...base, SESSION_BACKEND: "memory", WORKERS: "2" })).toThrow(
      /2 workers need SESSION_BACKEND=redis/,
    );
    // One worker is the single-process server: nothing to share.
    expect(loadConfig({ WORKERS: "1" }).workers).toBe(1);
  });

  it("the built app refuses WORKERS=2 with SESSION_BACKEND=memory and exits before listening", async () => {
    await expect(
      spawnApp({
        ...shared,
        SQLITE_PATH: join(dir, "refused.sqlite"),
        SESSION_BACKEND: "memory",
        WORKERS: "2",
      }),
    ).rejects.toThrow(/exited with 2[\s\S]*2 workers need SESSION_BACKEND=redis/);
  });
});

describe.skipIf(!redisUp)("WORKERS=2 with SESSION_BACKEND=redis", () => {
  it("serves one port from two workers, restarts one that dies, and drains both on SIGTERM", async () => {
    const app = await spawnApp({
      ...shared,
      SQLITE_PATH: join(dir, `${randomUUID()}.sqlite`),
      SESSION_KEY_PREFIX: keyspace.uniquePrefix(),
      WORKERS: "2",
      LOG_LEVEL: "info",
    });
    try {
      expect(app.stderr()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+\/mcp \(2 workers\)/);
      await vi.waitFor(() => expect(pidsLogged(app.stdout(), "worker listening")).toHaveLength(2));
      const workers = pidsLogged(app.stdout(), "worker listening");
      expect(new Set(workers).size).toBe(2);
      expect(workers).not.toContain(app.child.pid);

      // A token from one worker is good on the other: one signing key, sessions in Redis.
      const token = await login(app.url, "alice", "alice-pw");
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push(await postOnNewConnection(app.url, token));
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
      await vi.waitFor(() => expect(new Set(pidsLogged(app.stdout(), "request"))).toEqual(new Set(workers)));

      // A worker killed from outside is replaced, and the port keeps answering meanwhile.
      const [victim, survivor] = workers as [number, number];
      process.kill(victim, "SIGKILL");
      await vi.waitFor(() => expect(pidsLogged(app.stdout(), "worker listening")).toHaveLength(3), {
        timeout: 20_000,
      });
      const replacement = pidsLogged(app.stdout(), "worker listening")[2] as number;
      expect([victim, survivor]).not.toContain(replacement);
      expect(await postOnNewConnection(app.url, token)).toBe(200);

      app.child.kill("SIGTERM");
      expect(await app.exited).toBe(0);
      expect(alive(survivor)).toBe(false);
      expect(alive(replacement)).toBe(false);
      expect(app.stdout()).toContain("shutting down: draining every worker");
    } finally {
      app.child.kill("SIGKILL");
    }
  }, 60_000);
});
