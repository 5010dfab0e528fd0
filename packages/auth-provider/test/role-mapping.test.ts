import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  createRoleMapping,
  loadRoleMappingFile,
  type Principal,
  parseRoleMapping,
  planTupleSync,
} from "../src/index.ts";
import { expectAuthError } from "./helpers.ts";

const alice: Principal = {
  userId: "user:alice",
  username: "alice",
  roles: ["admin", "user"],
  scopes: ["mcp:tools"],
  groups: ["/acme", "/acme/engineering", "/globex/sales"],
  kind: "user",
  clientId: "mcp-app",
  expiresAt: new Date(Date.now() + 60_000),
  claims: { department: "finance", org: { tier: ["gold", "beta"] } },
};

const RULES = `
rules:
  - when: { group: "/{org}" }
    grant: { relation: member, object: "organization:{org}" }
  - when: { group: "/{org}/*" }
    grant: { relation: member, object: "organization:{org}" }
  - when: { role: admin }
    grant: { relation: admin, object: "organization:acme" }
  - when: { role: "{role}" }
    grant: { relation: assignee, object: "role:{role}" }
  - when: { claim: org.tier, equals: gold }
    grant: { relation: executor, object: "tool:agent_chat" }
  - when: { clientId: mcp-app }
    grant: { relation: viewer, object: "conversation:{username}-inbox" }
`;

describe("role mapping", () => {
  it("turns groups, roles, claims and client into OpenFGA tuples, without duplicates", () => {
    const tuples = parseRoleMapping(RULES).tuplesFor(alice);
    expect(tuples).toEqual([
      { user: "user:alice", relation: "member", object: "organization:acme" },
      { user: "user:alice", relation: "member", object: "organization:globex" },
      { user: "user:alice", relation: "admin", object: "organization:acme" },
      { user: "user:alice", relation: "assignee", object: "role:admin" },
      { user: "user:alice", relation: "assignee", object: "role:user" },
      { user: "user:alice", relation: "executor", object: "tool:agent_chat" },
      { user: "user:alice", relation: "viewer", object: "conversation:alice-inbox" },
    ]);
  });

  it("reads JSON, and a rule may grant to a userset instead of the principal", () => {
    const mapping = parseRoleMapping(
      JSON.stringify({
        rules: [
          {
            when: { role: "{role}" },
            grant: { user: "role:{role}#assignee", relation: "member", object: "organization:acme" },
          },
        ],
      }),
      "json",
    );
    expect(mapping.tuplesFor({ ...alice, roles: ["ops"] })).toEqual([
      { user: "role:ops#assignee", relation: "member", object: "organization:acme" },
    ]);
  });

  it("skips a captured value that cannot form a valid object id", () => {
    const mapping = parseRoleMapping(
      `rules: [{ when: { role: "{r}" }, grant: { relation: assignee, object: "role:{r}" } }]`,
    );
    expect(mapping.tuplesFor({ ...alice, roles: ["has#hash", "ok"] })).toEqual([
      { user: "user:alice", relation: "assignee", object: "role:ok" },
    ]);
  });

  it("loads a rule file and names the file in errors", async () => {
    const dir = await mkdtemp(join(tmpdir(), "role-mapping-"));
    const good = join(dir, "rules.yaml");
    const bad = join(dir, "bad.json");
    await writeFile(good, RULES);
    await writeFile(
      bad,
      JSON.stringify({ rules: [{ when: { role: "x" }, grant: { relation: "Bad!", object: "a:b" } }] }),
    );
    expect((await loadRoleMappingFile(good)).rules).toHaveLength(6);
    const error = await expectAuthError(loadRoleMappingFile(bad), "AUTH_CONFIG");
    expect(error.message).toContain(bad);
    expect(error.message).toContain("rules[0].grant.relation");
    await expectAuthError(loadRoleMappingFile(join(dir, "missing.yaml")), "AUTH_CONFIG");
  });

  describe("rejects invalid rules at start-up, naming the failing path", () => {
    const invalid: Array<[string, unknown, RegExp]> = [
      ["no rules list", { rule: [] }, /rules must be a list/],
      ["a rule that is not an object", { rules: ["x"] }, /rules\[0\] must be an object/],
      [
        "no matcher",
        { rules: [{ when: {}, grant: { relation: "member", object: "organization:a" } }] },
        /exactly one/,
      ],
      [
        "two matchers",
        {
          rules: [
            { when: { role: "a", group: "b" }, grant: { relation: "member", object: "organization:a" } },
          ],
        },
        /exactly one/,
      ],
      [
        "an unknown matcher",
        { rules: [{ when: { role: "a", team: "b" }, grant: { relation: "m", object: "o:a" } }] },
        /unknown field "team"/,
      ],
      [
        "equals without claim",
        { rules: [{ when: { role: "a", equals: "b" }, grant: { relation: "m", object: "o:a" } }] },
        /only valid with `claim`/,
      ],
      [
        "a bad relation",
        { rules: [{ when: { role: "a" }, grant: { relation: "Member", object: "organization:a" } }] },
        /grant.relation/,
      ],
      [
        "an object without a type",
        { rules: [{ when: { role: "a" }, grant: { relation: "member", object: "acme" } }] },
        /grant.object must look like type:id/,
      ],
      [
        "a placeholder the pattern does not capture",
        { rules: [{ when: { role: "admin" }, grant: { relation: "member", object: "organization:{org}" } }] },
        /does not capture/,
      ],
      [
        "an unknown grant field",
        { rules: [{ when: { role: "a" }, grant: { relation: "m", object: "o:a", condition: "x" } }] },
        /unknown field "condition"/,
      ],
      [
        "an empty pattern",
        { rules: [{ when: { group: "" }, grant: { relation: "m", object: "o:a" } }] },
        /non-empty string/,
      ],
    ];
    for (const [name, document, message] of invalid) {
      it(name, async () => {
        const error = await expectAuthError((async () => createRoleMapping(document))(), "AUTH_CONFIG");
        expect(error.message).toMatch(message);
      });
    }
    it("a document that is not YAML", async () => {
      await expectAuthError((async () => parseRoleMapping("rules: [unclosed"))(), "AUTH_CONFIG");
    });
  });

  it("plans the writes and deletes that sync a user's relations on login", () => {
    const a = { user: "user:alice", relation: "member", object: "organization:acme" };
    const b = { user: "user:alice", relation: "member", object: "organization:globex" };
    const c = { user: "user:alice", relation: "admin", object: "organization:acme" };
    expect(planTupleSync([a, b], [b, c])).toEqual({ writes: [c], deletes: [a] });
  });
});
