import { beforeEach, describe, expect, it } from "vitest";
import { type Authorizer, createAuthorizer, isAuthzError, loadProjectModel } from "../src/index.ts";

describe("project model (model/project.fga)", () => {
  let authz: Authorizer;

  beforeEach(async () => {
    authz = await createAuthorizer({ backend: "embedded", model: await loadProjectModel() });
    await authz.writeTuples([
      { user: "role:user#assignee", relation: "executor", object: "tool:agent_chat" },
      { user: "user:*", relation: "executor", object: "tool:calculator" },
      { user: "organization:acme#member", relation: "executor", object: "tool:conversation_search" },
      { user: "service_principal:ci", relation: "executor", object: "tool:conversation_get" },
      { user: "user:alice", relation: "member", object: "organization:acme" },
      { user: "user:olga", relation: "admin", object: "organization:acme" },
      { user: "user:alice", relation: "owner", object: "conversation:c1" },
      { user: "user:bob", relation: "editor", object: "conversation:c1" },
      { user: "organization:acme#member", relation: "viewer", object: "conversation:c2" },
      { user: "role:auditor#assignee", relation: "viewer", object: "conversation:c3" },
      { user: "service_principal:notetaker", relation: "delegate", object: "user:alice" },
    ]);
  });

  const roleClaim = (user: string, role: string) => [{ user, relation: "assignee", object: `role:${role}` }];

  describe("who may execute tools", () => {
    it("allows a user whose verified role claim grants the tool (contextual tuple)", async () => {
      const q = { user: "user:carol", relation: "executor", object: "tool:agent_chat" };
      expect(await authz.check({ ...q, contextualTuples: roleClaim("user:carol", "user") })).toBe(true);
      expect(await authz.check(q)).toBe(false);
      expect(await authz.check({ ...q, contextualTuples: roleClaim("user:carol", "guest") })).toBe(false);
    });

    it("allows every user on a user:* grant, but not a service principal", async () => {
      expect(
        await authz.check({ user: "user:anyone", relation: "executor", object: "tool:calculator" }),
      ).toBe(true);
      expect(
        await authz.check({ user: "service_principal:ci", relation: "executor", object: "tool:calculator" }),
      ).toBe(false);
    });

    it("allows organization members, including admins", async () => {
      const object = "tool:conversation_search";
      expect(await authz.check({ user: "user:alice", relation: "executor", object })).toBe(true);
      expect(await authz.check({ user: "user:olga", relation: "executor", object })).toBe(true);
      expect(await authz.check({ user: "user:mallory", relation: "executor", object })).toBe(false);
    });

    it("allows a directly granted service principal only", async () => {
      expect(
        await authz.check({
          user: "service_principal:ci",
          relation: "executor",
          object: "tool:conversation_get",
        }),
      ).toBe(true);
      expect(
        await authz.check({
          user: "service_principal:other",
          relation: "executor",
          object: "tool:conversation_get",
        }),
      ).toBe(false);
    });

    it("lists the tools a user may execute", async () => {
      const tools = await authz.listObjects({
        user: "user:alice",
        relation: "executor",
        type: "tool",
        contextualTuples: roleClaim("user:alice", "user"),
      });
      expect(tools.sort()).toEqual(["tool:agent_chat", "tool:calculator", "tool:conversation_search"]);
    });
  });

  describe("who may view or edit a conversation", () => {
    it("gives the owner edit and view, and nobody else by default", async () => {
      for (const relation of ["owner", "editor", "viewer"]) {
        expect(await authz.check({ user: "user:alice", relation, object: "conversation:c1" })).toBe(true);
      }
      expect(await authz.check({ user: "user:mallory", relation: "viewer", object: "conversation:c1" })).toBe(
        false,
      );
    });

    it("lets an editor view and edit but not own", async () => {
      expect(await authz.check({ user: "user:bob", relation: "viewer", object: "conversation:c1" })).toBe(
        true,
      );
      expect(await authz.check({ user: "user:bob", relation: "editor", object: "conversation:c1" })).toBe(
        true,
      );
      expect(await authz.check({ user: "user:bob", relation: "owner", object: "conversation:c1" })).toBe(
        false,
      );
    });

    it("grants view through organization membership and role assignment", async () => {
      expect(await authz.check({ user: "user:alice", relation: "viewer", object: "conversation:c2" })).toBe(
        true,
      );
      expect(await authz.check({ user: "user:alice", relation: "editor", object: "conversation:c2" })).toBe(
        false,
      );
      const auditor = { user: "user:dan", relation: "viewer", object: "conversation:c3" };
      expect(await authz.check(auditor)).toBe(false);
      expect(await authz.check({ ...auditor, contextualTuples: roleClaim("user:dan", "auditor") })).toBe(
        true,
      );
    });

    it("lists the conversations a user may view", async () => {
      expect(
        (await authz.listObjects({ user: "user:alice", relation: "viewer", type: "conversation" })).sort(),
      ).toEqual(["conversation:c1", "conversation:c2"]);
    });
  });

  describe("organization members", () => {
    it("treats admins as members, and members not as admins", async () => {
      expect(await authz.check({ user: "user:olga", relation: "member", object: "organization:acme" })).toBe(
        true,
      );
      expect(await authz.check({ user: "user:alice", relation: "admin", object: "organization:acme" })).toBe(
        false,
      );
    });
  });

  describe("service principals acting as a user", () => {
    it("lets a service principal act for a user only where the user made it a delegate", async () => {
      expect(
        await authz.check({
          user: "service_principal:notetaker",
          relation: "delegate",
          object: "user:alice",
        }),
      ).toBe(true);
      expect(
        await authz.check({ user: "service_principal:notetaker", relation: "delegate", object: "user:bob" }),
      ).toBe(false);
    });

    it("lets the owner's delegate edit the owner's conversation, not others'", async () => {
      await authz.writeTuples([{ user: "user:bob", relation: "owner", object: "conversation:c9" }]);
      const sp = "service_principal:notetaker";
      expect(await authz.check({ user: sp, relation: "editor", object: "conversation:c1" })).toBe(true);
      expect(await authz.check({ user: sp, relation: "owner", object: "conversation:c1" })).toBe(false);
      expect(await authz.check({ user: sp, relation: "viewer", object: "conversation:c9" })).toBe(false);
    });

    it("stops the delegate's access once the delegation is deleted", async () => {
      const sp = "service_principal:notetaker";
      await authz.deleteTuples([{ user: sp, relation: "delegate", object: "user:alice" }]);
      expect(await authz.check({ user: sp, relation: "editor", object: "conversation:c1" })).toBe(false);
    });
  });

  describe("bad input", () => {
    it("rejects a tuple the model does not allow and writes nothing", async () => {
      const before = await authz.readTuples({ object: "conversation:c5" });
      const error = await authz
        .writeTuples([
          { user: "user:alice", relation: "owner", object: "conversation:c5" },
          { user: "role:user#assignee", relation: "owner", object: "conversation:c5" },
        ])
        .catch((e: unknown) => e);
      expect(isAuthzError(error) && error.code).toBe("AUTHZ_VALIDATION");
      expect(isAuthzError(error) && error.openfgaCode).toBe(2027);
      expect(await authz.readTuples({ object: "conversation:c5" })).toEqual(before);
    });

    it("rejects a contextual tuple the model does not allow (role claims only as assignee)", async () => {
      const error = await authz
        .check({
          user: "user:carol",
          relation: "executor",
          object: "tool:agent_chat",
          contextualTuples: [{ user: "user:carol", relation: "executor", object: "role:user" }],
        })
        .catch((e: unknown) => e);
      expect(isAuthzError(error) && error.openfgaCode).toBe(2027);
    });
  });
});
