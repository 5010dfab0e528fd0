import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rejectionOf } from "@mcp-langgraph/testkit/errors";
import { afterAll, describe, expect, it } from "vitest";
import { createAuthorizer, isAuthzError } from "../src/index.ts";
import { CONTRACT_MODEL } from "./contract/authorizer-contract.ts";
import {
  expectCaughtUp,
  expectTuplesKeptAcrossRestart,
  writeThreeDeleteOne,
} from "./support/durable-storage.ts";
import { sqliteTuples } from "./support/sqlite.ts";

const errorOf = rejectionOf;
const document = () => `document:${randomUUID()}`;

describe("SQLite tuple storage shared by several connections (worker processes of one node)", () => {
  const file = sqliteTuples();
  afterAll(() => file.drop());

  it("lets exactly one of two connections win each claim", async () => {
    const [one, two] = [await file.open(CONTRACT_MODEL), await file.open(CONTRACT_MODEL)];
    for (let round = 0; round < 20; round++) {
      const object = document();
      const users = round % 2 === 0 ? ["user:anne", "user:bob"] : ["user:anne", "user:anne"];
      const results = await Promise.all([
        one.claimTuple({ user: users[0]!, relation: "owner", object }),
        two.claimTuple({ user: users[1]!, relation: "owner", object }),
      ]);
      expect(results.filter((result) => result.claimed)).toHaveLength(1);
      const loser = results.find((result) => !result.claimed);
      expect(loser?.tuples.map((tuple) => tuple.user)).toEqual([users[0]]);
    }
  });

  it("honours at once a grant and a revocation made through another connection", async () => {
    const [writer, reader] = [await file.open(CONTRACT_MODEL), await file.open(CONTRACT_MODEL)];
    const tuple = { user: "user:carl", relation: "owner", object: document() };
    expect(await reader.check(tuple)).toBe(false);
    await writer.writeTuples([tuple]);
    expect(await reader.check(tuple)).toBe(true);
    expect(await reader.listObjects({ user: "user:carl", relation: "owner", type: "document" })).toContain(
      tuple.object,
    );
    await writer.deleteTuples([tuple]);
    // No wait: with no change feed every answer first reads the version row.
    expect(await reader.check(tuple)).toBe(false);
  });

  it("keeps tuples across a restart", () => expectTuplesKeptAcrossRestart(file));

  it("reloads every tuple when the change log was pruned past what a connection applied", async () => {
    const pruned = sqliteTuples({ changeLogRetention: 1 });
    try {
      const [reader, writer] = [await pruned.open(CONTRACT_MODEL), await pruned.open(CONTRACT_MODEL)];
      const objects = await writeThreeDeleteOne(writer);
      const raw = pruned.connect();
      expect(raw.prepare("SELECT count(*) AS n FROM authz_tuples_changes").get()).toEqual({ n: 1 });
      raw.close();
      await expectCaughtUp(reader, objects);
    } finally {
      await pruned.drop();
    }
  });

  it("a change blocked by another connection's write lock fails closed after busyTimeoutMs and changes nothing", async () => {
    const locked = sqliteTuples({ busyTimeoutMs: 50 });
    try {
      const authz = await locked.open(CONTRACT_MODEL);
      const tuple = { user: "user:gil", relation: "owner", object: document() };
      const holder = locked.connect();
      holder.exec("BEGIN IMMEDIATE");
      try {
        const error = await errorOf(authz.claimTuple(tuple));
        expect(isAuthzError(error) && error.code).toBe("AUTHZ_UNAVAILABLE");
      } finally {
        holder.exec("ROLLBACK");
        holder.close();
      }
      expect(await authz.readTuples({ object: tuple.object })).toEqual([]);
      expect((await authz.claimTuple(tuple)).claimed).toBe(true);
    } finally {
      await locked.drop();
    }
  });

  it("answers AUTHZ_CLOSED once closed", async () => {
    const authz = await file.open(CONTRACT_MODEL);
    await authz.close();
    const error = await errorOf(authz.check({ user: "user:x", relation: "owner", object: document() }));
    expect(isAuthzError(error) && error.code).toBe("AUTHZ_CLOSED");
  });
});

describe("SQLite tuple storage configuration", () => {
  const directory = mkdtempSync(join(tmpdir(), "authz-sqlite-config-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it("fails at start-up with AUTHZ_UNAVAILABLE, naming the path, when the path cannot be written", async () => {
    const notADirectory = join(directory, "plain-file");
    writeFileSync(notADirectory, "");
    const path = join(notADirectory, "tuples.sqlite");
    const error = await errorOf(
      createAuthorizer({ backend: "embedded", model: CONTRACT_MODEL, storage: { backend: "sqlite", path } }),
    );
    expect(isAuthzError(error) && error.code).toBe("AUTHZ_UNAVAILABLE");
    expect((error as Error).message).toContain(path);
  });

  it.each([
    [{ path: join(directory, "a.sqlite"), table: 'x"; DROP TABLE y; --' }],
    [{ path: "" }],
    [{ path: join(directory, "a.sqlite"), busyTimeoutMs: 0 }],
    [{ path: join(directory, "a.sqlite"), changeLogRetention: 1.5 }],
  ])("rejects %j with AUTHZ_VALIDATION before opening anything", async (storage) => {
    const error = await errorOf(
      createAuthorizer({
        backend: "embedded",
        model: CONTRACT_MODEL,
        storage: { backend: "sqlite", ...storage },
      }),
    );
    expect(isAuthzError(error) && error.code).toBe("AUTHZ_VALIDATION");
  });
});
