import { randomUUID } from "node:crypto";
import { rejectionOf } from "@mcp-langgraph/testkit/errors";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createAuthorizer, isAuthzError } from "../src/index.ts";
import { CONTRACT_MODEL } from "./contract/authorizer-contract.ts";
import {
  expectCaughtUp,
  expectTuplesKeptAcrossRestart,
  writeThreeDeleteOne,
} from "./support/durable-storage.ts";
import { DATABASE_URL, postgresTuples } from "./support/postgres.ts";
import { startTcpProxy } from "./support/tcp-proxy.ts";

const available = await requireService({ name: "Postgres", url: DATABASE_URL });

const errorOf = rejectionOf;

describe.skipIf(!available)("Postgres tuple storage shared by several processes", () => {
  const tables = postgresTuples();
  afterAll(() => tables.drop());

  /** An authorizer whose Postgres connections all pass a TCP proxy the test can cut or hang. */
  async function behindProxy(timeouts: { connectTimeoutMs: number; queryTimeoutMs: number }) {
    const target = new URL(DATABASE_URL);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const via = new URL(DATABASE_URL);
    via.port = String(proxy.port);
    const authz = await createAuthorizer({
      backend: "embedded",
      model: CONTRACT_MODEL,
      storage: { backend: "postgres", connectionString: via.toString(), table: tables.table, ...timeouts },
    });
    return { proxy, authz };
  }

  it("lets exactly one of two processes win each claim, round after round", async () => {
    // Two authorizers with pools of their own stand for two processes.
    const [one, two] = [await tables.open(CONTRACT_MODEL), await tables.open(CONTRACT_MODEL)];
    for (let round = 0; round < 40; round++) {
      const object = `document:race-${round}-${randomUUID()}`;
      // Even rounds: two users; odd rounds: the same user from both processes.
      const users = round % 2 === 0 ? ["user:anne", "user:bob"] : ["user:anne", "user:anne"];
      const results = await Promise.all([
        one.claimTuple({ user: users[0]!, relation: "owner", object }),
        two.claimTuple({ user: users[1]!, relation: "owner", object }),
      ]);
      expect(results.filter((result) => result.claimed)).toHaveLength(1);
      const stored = await tables.query(`SELECT "user" FROM "${tables.table}" WHERE object = $1`, [object]);
      expect(stored).toHaveLength(1);
      const loser = results.find((result) => !result.claimed);
      expect(loser?.tuples.map((tuple) => tuple.user)).toEqual([stored[0]?.user]);
    }
  });

  it("honours in one process a tuple another process wrote, at once", async () => {
    const [writer, reader] = [await tables.open(CONTRACT_MODEL), await tables.open(CONTRACT_MODEL)];
    const tuple = { user: "user:carl", relation: "owner", object: `document:${randomUUID()}` };
    expect(await reader.check(tuple)).toBe(false);
    await writer.writeTuples([tuple]);
    // No wait: a deny from memory is confirmed against the store before it is given.
    expect(await reader.check(tuple)).toBe(true);
    expect(await reader.listObjects({ user: "user:carl", relation: "owner", type: "document" })).toContain(
      tuple.object,
    );
  });

  it("stops honouring a tuple another process deleted once the change is announced", async () => {
    const [writer, reader] = [await tables.open(CONTRACT_MODEL), await tables.open(CONTRACT_MODEL)];
    const tuple = { user: "user:dora", relation: "owner", object: `document:${randomUUID()}` };
    await writer.writeTuples([tuple]);
    expect(await reader.check(tuple)).toBe(true);
    await writer.deleteTuples([tuple]);
    // Reads list what is stored, so they catch up first.
    expect(await reader.readTuples({ object: tuple.object })).toEqual([]);
    await vi.waitFor(async () => expect(await reader.check(tuple)).toBe(false));
  });

  it("keeps tuples across a restart", () => expectTuplesKeptAcrossRestart(tables));

  it("reloads every tuple when the change log was pruned past what a process applied", async () => {
    const pruned = postgresTuples({ changeLogRetention: 1 });
    try {
      const reader = await pruned.open(CONTRACT_MODEL);
      const writer = await pruned.open(CONTRACT_MODEL);
      // Take the reader off the notification feed: its backend is ended, it must catch up from the log.
      await pruned.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()",
        [`LISTEN "public.${pruned.table}"`],
      );
      const objects = await writeThreeDeleteOne(writer);
      await expectCaughtUp(reader, objects);
    } finally {
      await pruned.drop();
    }
  });

  it("denies (AUTHZ_UNAVAILABLE) while Postgres is cut off, survives its dropped connections, and recovers", async () => {
    const { proxy, authz } = await behindProxy({ connectTimeoutMs: 500, queryTimeoutMs: 1_000 });
    try {
      const tuple = { user: "user:gil", relation: "owner", object: `document:${randomUUID()}` };
      await authz.writeTuples([tuple]);
      expect(await authz.check(tuple)).toBe(true);
      // Every connection (the listener's and the pool's) ends with an "error" event: the process must live on.
      proxy.cut();
      await vi.waitFor(async () => {
        const error = await errorOf(authz.check(tuple));
        expect(isAuthzError(error) && error.code).toBe("AUTHZ_UNAVAILABLE");
      });
      const claim = await errorOf(authz.claimTuple({ ...tuple, object: `document:${randomUUID()}` }));
      expect(isAuthzError(claim) && claim.code).toBe("AUTHZ_UNAVAILABLE");
      proxy.restore();
      await vi.waitFor(async () => expect(await authz.check(tuple)).toBe(true), { timeout: 5_000 });
    } finally {
      await authz.close();
      await proxy.close();
    }
  });

  it("ends a call to a hung Postgres at its deadline, or at once when the caller aborts", async () => {
    const { proxy, authz } = await behindProxy({ connectTimeoutMs: 500, queryTimeoutMs: 800 });
    try {
      proxy.hang();
      const tuple = { user: "user:hal", relation: "owner", object: `document:${randomUUID()}` };
      const late = await errorOf(authz.claimTuple(tuple));
      expect(isAuthzError(late) && late.code).toBe("AUTHZ_UNAVAILABLE");
      const controller = new AbortController();
      const aborted = errorOf(authz.claimTuple(tuple, { signal: controller.signal }));
      controller.abort(new Error("caller gave up"));
      expect(((await aborted) as Error).message).toBe("caller gave up");
    } finally {
      proxy.restore();
      await authz.close();
      await proxy.close();
    }
  });

  it("fails closed with AUTHZ_UNAVAILABLE when Postgres cannot be reached", async () => {
    const error = await errorOf(
      createAuthorizer({
        backend: "embedded",
        model: CONTRACT_MODEL,
        storage: {
          backend: "postgres",
          connectionString: "postgres://postgres@127.0.0.1:1/none",
          connectTimeoutMs: 500,
          setupTimeoutMs: 2_000,
        },
      }),
    );
    expect(isAuthzError(error) && error.code).toBe("AUTHZ_UNAVAILABLE");
  });

  it("rejects a table name that is not a plain identifier, before connecting", async () => {
    const error = await errorOf(
      createAuthorizer({
        backend: "embedded",
        model: CONTRACT_MODEL,
        storage: { backend: "postgres", connectionString: DATABASE_URL, table: 'x"; DROP TABLE y; --' },
      }),
    );
    expect(isAuthzError(error) && error.code).toBe("AUTHZ_VALIDATION");
  });
});
