import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKeyManager, createRedisApiKeyStore } from "../src/index.ts";
import { describeApiKeyStoreContract } from "./api-key-contract.ts";
import { expectAuthError } from "./helpers.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const available = await requireService({ name: "Redis", url: REDIS_URL });

describe.skipIf(!available)("Redis API key store", () => {
  const client = createClient({ url: REDIS_URL });

  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    await client.close();
  });

  describeApiKeyStoreContract("Redis", async () => {
    const keyPrefix = `test:apikey:${randomBytes(6).toString("hex")}`;
    return {
      store: createRedisApiKeyStore({ client, keyPrefix }),
      async cleanup() {
        const keys = await client.keys(`${keyPrefix}:*`);
        if (keys.length > 0) await client.del(keys);
      },
    };
  });

  it("keeps keys in one hash per owner plus an expiring id index", async () => {
    const keyPrefix = `test:apikey:${randomBytes(6).toString("hex")}`;
    const keys = createApiKeyManager({ store: createRedisApiKeyStore({ client, keyPrefix }) });
    const { info } = await keys.create({ username: "alice", roles: [] }, { ttlSeconds: 600 });
    expect(await client.exists(`${keyPrefix}:owner:{alice}`)).toBe(1);
    const ttl = await client.pTTL(`${keyPrefix}:id:${info.id}`);
    expect(ttl).toBeGreaterThan(590_000);
    await client.del([`${keyPrefix}:owner:{alice}`, `${keyPrefix}:id:${info.id}`]);
  });
});

describe("Redis API key store during an outage", () => {
  let server: ChildProcess | undefined;
  let port = 0;

  beforeAll(async () => {
    port = await freePort();
    const child = spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    server = child;
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (error) =>
        reject(new Error(`cannot start redis-server for the outage test: ${error.message}`)),
      );
    });
    await waitForPort(port);
  });
  afterAll(() => {
    server?.kill("SIGKILL");
  });

  it("fails with AUTH_UNAVAILABLE, bounded by the deadline, once Redis is gone", async () => {
    const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: 100 } });
    client.on("error", () => {});
    await client.connect();
    const keys = createApiKeyManager({ store: createRedisApiKeyStore({ client, timeoutMs: 300 }) });
    const { key } = await keys.create({ username: "alice", roles: [] });
    server?.kill("SIGKILL");
    await new Promise((resolve) => server?.once("exit", resolve));
    await expectAuthError(keys.resolve(key), "AUTH_UNAVAILABLE");
    await expectAuthError(keys.create({ username: "alice", roles: [] }), "AUTH_UNAVAILABLE");
    client.destroy();
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port: chosen } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return chosen;
}

async function waitForPort(target: number): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (
      await requireService({
        name: "spawned Redis",
        url: `redis://127.0.0.1:${target}`,
        timeoutMs: 200,
      }).catch(() => false)
    ) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("spawned redis-server did not start");
}
