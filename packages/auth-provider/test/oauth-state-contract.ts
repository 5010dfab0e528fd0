import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { OAuthStateStore } from "../src/index.ts";
import { expectAuthError } from "./helpers.ts";

export interface OAuthStateFixture {
  store: OAuthStateStore;
  /** Lets time pass for the store (a fake clock for memory, a real wait for Redis's own TTLs). */
  elapse(ms: number): Promise<void>;
  cleanup(): Promise<void>;
}

/** One behavioural contract for every OAuthStateStore (oidc-provider's Adapter semantics). */
export function describeOAuthStateContract(name: string, makeStore: () => Promise<OAuthStateFixture>) {
  describe(`OAuth state on the ${name} store`, () => {
    let fixture: OAuthStateFixture;

    beforeEach(async () => {
      fixture = await makeStore();
    });
    afterEach(() => fixture.cleanup());

    it("stores, finds and destroys an entry per model", async () => {
      const codes = fixture.store("AuthorizationCode");
      const grants = fixture.store("Grant");
      await codes.upsert("c1", { accountId: "alice", grantId: "g1" }, 60);
      expect(await codes.find("c1")).toEqual({ accountId: "alice", grantId: "g1" });
      expect(await grants.find("c1")).toBeUndefined();
      await codes.destroy("c1");
      expect(await codes.find("c1")).toBeUndefined();
    });

    it("returns copies: changing a found payload changes nothing stored", async () => {
      const codes = fixture.store("AuthorizationCode");
      await codes.upsert("c1", { scope: "mcp" }, 60);
      const found = await codes.find("c1");
      if (found) found.scope = "admin";
      expect(await codes.find("c1")).toEqual({ scope: "mcp" });
    });

    it("marks a consumed entry, so a replayed code is recognised", async () => {
      const codes = fixture.store("AuthorizationCode");
      await codes.upsert("c1", { grantId: "g1" }, 60);
      expect((await codes.find("c1"))?.consumed).toBeUndefined();
      await codes.consume("c1");
      expect((await codes.find("c1"))?.consumed).toEqual(expect.any(Number));
    });

    it("consuming a missing entry creates nothing", async () => {
      const codes = fixture.store("AuthorizationCode");
      await codes.consume("gone");
      expect(await codes.find("gone")).toBeUndefined();
    });

    it("finds sessions by uid and device codes by user code", async () => {
      await fixture.store("Session").upsert("s1", { uid: "u1", accountId: "alice" }, 60);
      await fixture.store("DeviceCode").upsert("d1", { userCode: "ABCD-EFGH" }, 60);
      expect(await fixture.store("Session").findByUid("u1")).toMatchObject({ accountId: "alice" });
      expect(await fixture.store("DeviceCode").findByUserCode("ABCD-EFGH")).toMatchObject({
        userCode: "ABCD-EFGH",
      });
      expect(await fixture.store("Session").findByUid("nope")).toBeUndefined();
    });

    it("revokes every artefact of a grant and nothing of another", async () => {
      await fixture.store("AuthorizationCode").upsert("c1", { grantId: "g1" }, 60);
      await fixture.store("RefreshToken").upsert("r1", { grantId: "g1" }, 600);
      await fixture.store("RefreshToken").upsert("r2", { grantId: "g2" }, 600);
      await fixture.store("AuthorizationCode").revokeByGrantId("g1");
      expect(await fixture.store("AuthorizationCode").find("c1")).toBeUndefined();
      expect(await fixture.store("RefreshToken").find("r1")).toBeUndefined();
      expect(await fixture.store("RefreshToken").find("r2")).toEqual({ grantId: "g2" });
    });

    it("forgets an entry once its lifetime has passed", async () => {
      const interactions = fixture.store("Interaction");
      await interactions.upsert("i1", { uid: "u9" }, 1);
      expect(await interactions.find("i1")).toBeDefined();
      await fixture.elapse(2_100);
      expect(await interactions.find("i1")).toBeUndefined();
      expect(await interactions.findByUid("u9")).toBeUndefined();
    });

    it("refuses malformed ids and lifetimes without storing anything", async () => {
      const codes = fixture.store("AuthorizationCode");
      await expectAuthError(codes.find(""), "INVALID_ARGUMENT");
      await expectAuthError(codes.upsert("a b", {}, 60), "INVALID_ARGUMENT");
      await expectAuthError(codes.upsert("x".repeat(513), {}, 60), "INVALID_ARGUMENT");
      await expectAuthError(codes.upsert("ok", {}, -1), "INVALID_ARGUMENT");
      expect(await codes.find("ok")).toBeUndefined();
      expect(() => fixture.store("bad model")).toThrow(/model/);
    });
  });
}
