import { describe, expect, it } from "vitest";
import { actForUser, type Principal, type RelationTuple } from "../src/index.ts";
import { expectAuthError } from "./helpers.ts";

const service: Principal = {
  userId: "service_principal:reporting-svc",
  username: "reporting-svc",
  roles: ["service"],
  scopes: ["mcp:tools"],
  kind: "service_principal",
  clientId: "reporting-svc",
  expiresAt: new Date(Date.now() + 60_000),
  claims: { sub: "reporting-svc" },
};

/** The project model's delegation, as tuples: alice lets reporting-svc act for her. */
const delegations = new Set(["service_principal:reporting-svc delegate user:alice"]);
const check = async (t: RelationTuple) => delegations.has(`${t.user} ${t.relation} ${t.object}`);

describe("service principals acting for users", () => {
  it("acts for a user who made the service a delegate", async () => {
    const acting = await actForUser(service, "alice", { check });
    expect(acting).toMatchObject({
      userId: "user:alice",
      username: "alice",
      roles: ["service"],
      clientId: "reporting-svc",
      claims: { act: { sub: "service_principal:reporting-svc" } },
    });
  });

  it("refuses a user who did not delegate (FORBIDDEN)", async () => {
    await expectAuthError(actForUser(service, "bob", { check }), "FORBIDDEN", "delegation_denied");
  });

  it("fails closed when the authorization check errors", async () => {
    const failing = async () => {
      throw new Error("openfga down");
    };
    await expectAuthError(actForUser(service, "alice", { check: failing }), "AUTH_UNAVAILABLE");
  });

  it("refuses a human principal trying to act for someone else", async () => {
    const human = { ...service, userId: "user:mallory", kind: "user" as const };
    await expectAuthError(actForUser(human, "alice", { check }), "INVALID_ARGUMENT", "not_service_principal");
  });

  it("refuses a malformed username", async () => {
    await expectAuthError(actForUser(service, "user:alice", { check }), "INVALID_ARGUMENT");
  });
});
