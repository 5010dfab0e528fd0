import { generateKeyPairSync, randomBytes } from "node:crypto";
import { sleep } from "@mcp-langgraph/core";
import { REDIS_URL, redisKeyspace } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, login, startTestServer } from "./helpers.ts";

const POSTGRES_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const canRun =
  (await requireService({ name: "PostgreSQL", url: POSTGRES_URL })) &&
  (await requireService({ name: "Redis", url: REDIS_URL }));

describe.skipIf(!canRun)("conversation retention (CONVERSATION_RETENTION_DAYS) through the HTTP app", () => {
  // A database of its own: retention deletes every idle thread of the store it sweeps.
  const database = `retention_${randomBytes(6).toString("hex")}`;
  const databaseUrl = Object.assign(new URL(POSTGRES_URL), { pathname: `/${database}` }).toString();
  const keyspace = redisKeyspace("retention");
  let servers: RunningHttpServer[] = [];
  let db: pg.Client;

  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    await admin(`CREATE DATABASE ${database}`);
    const env = {
      SESSION_BACKEND: "redis",
      REDIS_URL,
      SESSION_KEY_PREFIX: keyspace.uniquePrefix(),
      CHECKPOINTER_BACKEND: "postgres",
      DATABASE_URL: databaseUrl,
      CONVERSATION_RETENTION_DAYS: "30",
      CONVERSATION_RETENTION_BATCH_SIZE: "1",
      MAINTENANCE_INTERVAL_SECONDS: "1",
      // One issuer for both instances: a token from either is good on the other.
      LOCAL_SIGNING_KEY: JSON.stringify(generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" })),
      TOKEN_ISSUER: "http://mcp.test",
      TOKEN_AUDIENCE: "http://mcp.test/mcp",
    };
    // Two instances sharing Redis and Postgres: one of them sweeps at a time.
    servers = [await startTestServer(env), await startTestServer(env)];
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(servers.map((server) => server.close()));
    await db?.end().catch(() => {});
    await Promise.allSettled([admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`), keyspace.cleanup()]);
  });

  async function chat(url: string, token: string, threadId: string) {
    const { client } = await connect(url, token);
    try {
      const result = await client.callTool({
        name: "agent_chat",
        arguments: { message: `hello from ${threadId}`, thread_id: threadId },
      });
      expect(result.isError).toBeFalsy();
    } finally {
      await client.close();
    }
  }

  async function exported(url: string, token: string) {
    const response = await fetch(`${url}/api/v1/users/me/export`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as {
      conversations: { thread_id: string }[];
      authorization_tuples: { object: string; relation: string }[];
    };
  }

  /** Moves every checkpoint of the threads whose key ends in `_<threadId>` `days` into the past. */
  async function age(threadId: string, days: number) {
    const ts = new Date(Date.now() - days * 86_400_000).toISOString();
    const { rowCount } = await db.query(
      `UPDATE checkpoints SET checkpoint = jsonb_set(checkpoint, '{ts}', to_jsonb($1::text))
       WHERE thread_id LIKE $2`,
      [ts, `%\\_${threadId}`],
    );
    expect(rowCount).toBeGreaterThan(0);
  }

  const countRows = async (sql: string, threadId: string) =>
    Number((await db.query(sql, [`%\\_${threadId}`])).rows[0].count);
  const checkpointsOf = (threadId: string) =>
    countRows("SELECT count(*) FROM checkpoints WHERE thread_id LIKE $1", threadId);
  const tuplesOf = (threadId: string) =>
    countRows("SELECT count(*) FROM authz_tuples WHERE object LIKE $1", threadId);

  it("deletes a conversation idle past the limit, checkpoints and tuples, and keeps a recent one", async () => {
    const [first, second] = servers.map((server) => server.url) as [string, string];
    const alice = await login(first, "alice", "alice-pw");
    const bob = await login(second, "bob", "bob-pw");
    await chat(first, alice, "stale");
    await chat(second, alice, "fresh");
    await chat(second, alice, "borderline");
    await chat(first, bob, "bobs-stale");
    expect((await exported(first, alice)).conversations.map((c) => c.thread_id).sort()).toEqual([
      "borderline",
      "fresh",
      "stale",
    ]);

    await age("stale", 31);
    await age("bobs-stale", 400);
    // Inside the limit by a day: kept.
    await age("borderline", 29);
    for (
      let i = 0;
      // Checkpoints go first, then the tuples, thread by thread: wait for all four to be gone.
      i < 300 &&
      ((await checkpointsOf("stale")) > 0 ||
        (await tuplesOf("stale")) > 0 ||
        (await checkpointsOf("bobs-stale")) > 0 ||
        (await tuplesOf("bobs-stale")) > 0);
      i++
    ) {
      await sleep(100);
    }

    expect(await checkpointsOf("stale")).toBe(0);
    expect(await tuplesOf("stale")).toBe(0);
    expect(await checkpointsOf("bobs-stale")).toBe(0);
    expect(await tuplesOf("bobs-stale")).toBe(0);
    for (const kept of ["fresh", "borderline"]) {
      expect(await checkpointsOf(kept)).toBeGreaterThan(0);
      expect(await tuplesOf(kept)).toBeGreaterThan(0);
    }

    // Gone for its owner on every instance: not listed, not readable; the others are intact.
    for (const url of [first, second]) {
      const doc = await exported(url, alice);
      expect(doc.conversations.map((c) => c.thread_id).sort()).toEqual(["borderline", "fresh"]);
      expect(doc.authorization_tuples.filter((t) => t.object.endsWith("_stale"))).toEqual([]);
    }
    const { client } = await connect(second, alice);
    try {
      const stale = await client.callTool({ name: "conversation_get", arguments: { thread_id: "stale" } });
      expect(stale.isError).toBe(true);
      const fresh = await client.callTool({ name: "conversation_get", arguments: { thread_id: "fresh" } });
      expect(fresh.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    // The id is free again for its owner: a new conversation starts under it.
    await chat(first, alice, "stale");
    expect(await checkpointsOf("stale")).toBeGreaterThan(0);
  }, 120_000);
});
