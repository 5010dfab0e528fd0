import { rejectionOf } from "@mcp-langgraph/testkit/errors";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Authorizer, isAuthzError, type Tuple } from "../../src/index.ts";

/** Creates a fresh, empty authorizer for `model` (and disposes of anything it needed in `close`). */
export type AuthorizerFactory = (model: string) => Promise<Authorizer>;

export const CONTRACT_MODEL = `model
  schema 1.1

type user

type group
  relations
    define member: [user, group#member]

type folder
  relations
    define owner: [user]
    define viewer: [user, user:*, group#member] or owner

type document
  relations
    define parent: [folder]
    define owner: [user]
    define blocked: [user]
    define editor: [user, user with office_hours] or owner
    define viewer: ([user, group#member] or editor or viewer from parent) but not blocked
    define auditor: [user] and viewer

condition office_hours(hour: int, opens: int) {
  hour >= opens && hour < 18
}
`;

const errorOf = rejectionOf;

/**
 * The behaviour every Authorizer implementation must share, run against each
 * backend (embedded engine, OpenFGA server API) so they answer alike.
 */
export function describeAuthorizerContract(
  name: string,
  create: AuthorizerFactory,
  options: {
    /** For an implementation whose service is missing (requireService decided). */
    skip?: boolean;
    /** Disposes of what the factory left behind (tables, say) once the suite is done. */
    cleanUp?: () => Promise<void>;
  } = {},
) {
  describe.skipIf(options.skip === true)(`Authorizer contract: ${name}`, () => {
    let authz: Authorizer;

    afterAll(async () => {
      await options.cleanUp?.();
    });

    beforeEach(async () => {
      authz = await create(CONTRACT_MODEL);
      await authz.writeTuples([
        { user: "user:anne", relation: "owner", object: "document:plan" },
        { user: "user:bob", relation: "member", object: "group:eng" },
        { user: "group:eng#member", relation: "member", object: "group:all" },
        { user: "group:all#member", relation: "viewer", object: "document:roadmap" },
        { user: "folder:shared", relation: "parent", object: "document:notes" },
        { user: "user:*", relation: "viewer", object: "folder:shared" },
        { user: "user:carl", relation: "blocked", object: "document:notes" },
        { user: "user:anne", relation: "auditor", object: "document:plan" },
        { user: "user:bob", relation: "auditor", object: "document:plan" },
        {
          user: "user:dora",
          relation: "editor",
          object: "document:plan",
          condition: { name: "office_hours", context: { opens: 9 } },
        },
      ]);
    });

    afterEach(async () => {
      await authz.close();
    });

    it("answers direct, computed, userset, wildcard and tuple-to-userset relations", async () => {
      const cases: Array<[string, string, string, boolean]> = [
        ["user:anne", "owner", "document:plan", true],
        ["user:anne", "viewer", "document:plan", true],
        ["user:bob", "viewer", "document:roadmap", true],
        ["user:zoe", "viewer", "document:roadmap", false],
        ["user:zoe", "viewer", "document:notes", true],
        ["user:bob", "owner", "document:plan", false],
      ];
      for (const [user, relation, object, expected] of cases) {
        expect(await authz.check({ user, relation, object }), `${user} ${relation} ${object}`).toBe(expected);
      }
    });

    it("applies exclusion and intersection", async () => {
      expect(await authz.check({ user: "user:carl", relation: "viewer", object: "document:notes" })).toBe(
        false,
      );
      expect(await authz.check({ user: "user:anne", relation: "auditor", object: "document:plan" })).toBe(
        true,
      );
      expect(await authz.check({ user: "user:bob", relation: "auditor", object: "document:plan" })).toBe(
        false,
      );
    });

    it("counts contextual tuples for one query only", async () => {
      const query = { user: "user:eve", relation: "viewer", object: "document:roadmap" };
      const contextualTuples: Tuple[] = [{ user: "user:eve", relation: "member", object: "group:eng" }];
      expect(await authz.check({ ...query, contextualTuples })).toBe(true);
      expect(await authz.check(query)).toBe(false);
    });

    it("evaluates conditions with the request context, the tuple's own context winning", async () => {
      const query = { user: "user:dora", relation: "editor", object: "document:plan" };
      expect(await authz.check({ ...query, context: { hour: 10 } })).toBe(true);
      expect(await authz.check({ ...query, context: { hour: 20 } })).toBe(false);
      expect(await authz.check({ ...query, context: { hour: 8, opens: 0 } })).toBe(false);
      const missing = await errorOf(authz.check(query));
      expect(isAuthzError(missing) && missing.openfgaCode).toBe(2000);
    });

    it("batch-checks in order", async () => {
      expect(
        await authz.batchCheck([
          { user: "user:anne", relation: "owner", object: "document:plan" },
          { user: "user:bob", relation: "owner", object: "document:plan" },
          { user: "user:bob", relation: "viewer", object: "document:roadmap" },
          { user: "user:dora", relation: "editor", object: "document:plan", context: { hour: 12 } },
        ]),
      ).toEqual([true, false, true, true]);
      expect(await authz.batchCheck([])).toEqual([]);
    });

    it("answers large batches and reads back more than one page of tuples", async () => {
      const owners = Array.from({ length: 150 }, (_, i) => ({
        user: `user:bulk${i}`,
        relation: "owner",
        object: `document:bulk${i}`,
      }));
      await authz.writeTuples(owners.slice(0, 90));
      await authz.writeTuples(owners.slice(90));
      const queries = owners.map((tuple, i) => ({
        ...tuple,
        user: i % 2 === 0 ? tuple.user : "user:nobody",
      }));
      const answers = await authz.batchCheck(queries);
      expect(answers).toEqual(queries.map((_, i) => i % 2 === 0));
      const read = await authz.readTuples({});
      expect(read).toHaveLength(160);
      expect(new Set(read.map((tuple) => tuple.object)).size).toBe(156);
    });

    it("fails a batch with an invalid query as a whole, with the query's OpenFGA code", async () => {
      const error = await errorOf(
        authz.batchCheck([
          { user: "user:anne", relation: "owner", object: "document:plan" },
          { user: "user:anne", relation: "nope", object: "document:plan" },
        ]),
      );
      expect(isAuthzError(error) && [error.code, error.openfgaCode]).toEqual(["AUTHZ_VALIDATION", 2000]);
    });

    it("lists objects", async () => {
      expect(
        (await authz.listObjects({ user: "user:bob", relation: "viewer", type: "document" })).sort(),
      ).toEqual(["document:notes", "document:roadmap"]);
      expect(
        (
          await authz.listObjects({
            user: "user:eve",
            relation: "owner",
            type: "document",
            contextualTuples: [{ user: "user:eve", relation: "owner", object: "document:draft" }],
          })
        ).sort(),
      ).toEqual(["document:draft"]);
    });

    it("writes idempotently, deletes, and reads back with OpenFGA's filters", async () => {
      const tuple = { user: "user:fay", relation: "owner", object: "document:spec" };
      await authz.writeTuples([tuple]);
      await authz.writeTuples([tuple]);
      expect(await authz.readTuples({ object: "document:spec" })).toEqual([tuple]);
      expect(await authz.readTuples({ user: "user:fay", object: "document:" })).toEqual([tuple]);
      expect(await authz.check({ ...tuple })).toBe(true);
      await authz.deleteTuples([tuple]);
      await authz.deleteTuples([tuple]);
      expect(await authz.readTuples({ object: "document:spec" })).toEqual([]);
      expect(await authz.check({ ...tuple })).toBe(false);
      const conditional = await authz.readTuples({ object: "document:plan", relation: "editor" });
      expect(conditional).toEqual([
        {
          user: "user:dora",
          relation: "editor",
          object: "document:plan",
          condition: { name: "office_hours", context: { opens: 9 } },
        },
      ]);
      expect((await authz.readTuples({})).length).toBe(10);
    });

    it("rejects a tuple the model does not allow with 2027 and writes nothing", async () => {
      const error = await errorOf(
        authz.writeTuples([
          { user: "user:gus", relation: "owner", object: "document:other" },
          { user: "group:eng#member", relation: "owner", object: "document:other" },
        ]),
      );
      expect(isAuthzError(error) && [error.code, error.openfgaCode]).toEqual(["AUTHZ_VALIDATION", 2027]);
      expect(await authz.readTuples({ object: "document:other" })).toEqual([]);
    });

    it("treats a re-write with another condition, or a tuple twice in one write, as a conflict", async () => {
      const conflicting = await errorOf(
        authz.writeTuples([
          {
            user: "user:dora",
            relation: "editor",
            object: "document:plan",
            condition: { name: "office_hours", context: { opens: 6 } },
          },
        ]),
      );
      expect(isAuthzError(conflicting) && [conflicting.code, conflicting.openfgaCode]).toEqual([
        "AUTHZ_VALIDATION",
        2017,
      ]);
      const identical = {
        user: "user:dora",
        relation: "editor",
        object: "document:plan",
        condition: { name: "office_hours", context: { opens: 9 } },
      };
      await authz.writeTuples([identical]);
      const tuple = { user: "user:hal", relation: "owner", object: "document:twice" };
      const twice = await errorOf(authz.writeTuples([tuple, { ...tuple }]));
      expect(isAuthzError(twice) && twice.openfgaCode).toBe(2004);
      expect(await authz.readTuples({ object: "document:twice" })).toEqual([]);
    });

    it("rejects a written tuple of an unknown type or relation with 2021 / 2022", async () => {
      const badType = await errorOf(
        authz.writeTuples([{ user: "user:anne", relation: "owner", object: "nope:1" }]),
      );
      expect(isAuthzError(badType) && badType.openfgaCode).toBe(2021);
      const badRelation = await errorOf(
        authz.writeTuples([{ user: "user:anne", relation: "nope", object: "document:1" }]),
      );
      expect(isAuthzError(badRelation) && badRelation.openfgaCode).toBe(2022);
    });

    it("rejects unknown types and relations with OpenFGA's codes", async () => {
      const badRelation = await errorOf(
        authz.check({ user: "user:anne", relation: "nope", object: "document:plan" }),
      );
      expect(isAuthzError(badRelation) && badRelation.openfgaCode).toBe(2000);
      const badType = await errorOf(
        authz.listObjects({ user: "user:anne", relation: "viewer", type: "nope" }),
      );
      expect(isAuthzError(badType) && badType.openfgaCode).toBe(2021);
      const badListRelation = await errorOf(
        authz.listObjects({ user: "user:anne", relation: "nope", type: "document" }),
      );
      expect(isAuthzError(badListRelation) && badListRelation.openfgaCode).toBe(2022);
      const badContextual = await errorOf(
        authz.check({
          user: "user:anne",
          relation: "viewer",
          object: "document:plan",
          contextualTuples: [{ user: "folder:x", relation: "owner", object: "document:plan" }],
        }),
      );
      expect(isAuthzError(badContextual) && badContextual.openfgaCode).toBe(2027);
    });

    it("rejects a read filter OpenFGA would reject", async () => {
      const error = await errorOf(authz.readTuples({ relation: "owner" }));
      expect(isAuthzError(error) && error.code).toBe("AUTHZ_VALIDATION");
    });

    it("claims a free object and relation once; later claims see the holder and change nothing", async () => {
      const anne = { user: "user:anne", relation: "owner", object: "document:fresh" };
      // Asked before the claim, so a decision cache holds a deny the claim must drop.
      expect(await authz.check(anne)).toBe(false);
      expect(await authz.claimTuple(anne)).toEqual({ claimed: true, tuples: [anne] });
      expect(await authz.check(anne)).toBe(true);
      const bob = { ...anne, user: "user:bob" };
      expect(await authz.claimTuple(bob)).toEqual({ claimed: false, tuples: [anne] });
      expect(await authz.claimTuple(anne)).toEqual({ claimed: false, tuples: [anne] });
      expect(await authz.check(bob)).toBe(false);
      expect(await authz.readTuples({ object: "document:fresh" })).toEqual([anne]);
      // Another relation of a held object is free.
      const blocked = { user: "user:carl", relation: "blocked", object: "document:plan" };
      expect(await authz.claimTuple(blocked)).toEqual({ claimed: true, tuples: [blocked] });
    });

    it("lets at most one of many concurrent claims win, and stores only the winner's tuple", async () => {
      const object = "document:contested";
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          authz.claimTuple({ user: `user:racer${i}`, relation: "owner", object }),
        ),
      );
      const winners = results.flatMap((result, i) => (result.claimed ? [`user:racer${i}`] : []));
      expect(winners.length).toBeLessThanOrEqual(1);
      const stored = await authz.readTuples({ object });
      expect(stored.map((tuple) => tuple.user)).toEqual(winners);
      expect(await authz.claimTuple({ user: "user:late", relation: "owner", object })).toMatchObject({
        claimed: winners.length === 0,
      });
    });

    it("rejects a claim the model does not allow and writes nothing", async () => {
      const badRelation = await errorOf(
        authz.claimTuple({ user: "user:anne", relation: "nope", object: "document:claimed" }),
      );
      expect(isAuthzError(badRelation) && badRelation.code).toBe("AUTHZ_VALIDATION");
      const badUser = await errorOf(
        authz.claimTuple({ user: "group:eng#member", relation: "owner", object: "document:claimed" }),
      );
      expect(isAuthzError(badUser) && [badUser.code, badUser.openfgaCode]).toEqual([
        "AUTHZ_VALIDATION",
        2027,
      ]);
      expect(await authz.readTuples({ object: "document:claimed" })).toEqual([]);
    });

    it("refuses calls after close", async () => {
      await authz.close();
      const error = await errorOf(
        authz.check({ user: "user:anne", relation: "owner", object: "document:plan" }),
      );
      expect(isAuthzError(error)).toBe(true);
    });
  });
}
