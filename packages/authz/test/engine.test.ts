import { describe, expect, it } from "vitest";
import { isAuthzError } from "../src/index.ts";
import { Engine } from "../src/internal.ts";

function codeOf(operation: () => unknown): unknown {
  try {
    operation();
  } catch (error) {
    return isAuthzError(error) ? (error.openfgaCode ?? error.code) : error;
  }
  return "no error";
}

const DOCS = `model
  schema 1.1
type user
type group
  relations
    define member: [user, group#member]
type document
  relations
    define viewer: [user, group#member]
    define editor: [user]
`;

describe("embedded engine: model changes", () => {
  it("ignores stored tuples the new model no longer allows, keeps them readable and deletable", () => {
    const engine = new Engine(DOCS);
    engine.write([{ user: "user:ann", relation: "editor", object: "document:1" }]);
    engine.setModel(DOCS.replace("define editor: [user]", "define editor: [group#member]"));
    expect(engine.check({ user: "user:ann", relation: "editor", object: "document:1" })).toBe(false);
    expect(engine.read({ object: "document:1" })).toHaveLength(1);
    engine.delete([{ user: "user:ann", relation: "editor", object: "document:1" }]);
    expect(engine.read({ object: "document:1" })).toHaveLength(0);
  });
});

describe("embedded engine: contextual tuples", () => {
  it("validates contextual tuples against the current model every time, even repeated ones", () => {
    const engine = new Engine(DOCS);
    const query = {
      user: "user:ann",
      relation: "editor",
      object: "document:1",
      contextualTuples: [{ user: "user:ann", relation: "editor", object: "document:1" }],
    };
    expect(engine.check(query)).toBe(true);
    expect(engine.check(query)).toBe(true);
    engine.setModel(DOCS.replace("define editor: [user]", "define editor: [group#member]"));
    expect(codeOf(() => engine.check(query))).toBe(2027);
    const malformed = {
      ...query,
      contextualTuples: [{ user: ["user:ann"], relation: "editor", object: "document:1" }],
    };
    expect(codeOf(() => engine.check(malformed as never))).toBe(2027);
  });
});

describe("embedded engine: resolution limits", () => {
  it("reports resolution deeper than 25 as 2002 and a cycle as false", () => {
    const engine = new Engine(DOCS);
    const chain = Array.from({ length: 30 }, (_, i) => ({
      user: `group:g${i + 1}#member`,
      relation: "member",
      object: `group:g${i}`,
    }));
    engine.write([...chain, { user: "user:zed", relation: "member", object: "group:g30" }]);
    expect(engine.check({ user: "user:zed", relation: "member", object: "group:g20" })).toBe(true);
    expect(codeOf(() => engine.check({ user: "user:zed", relation: "member", object: "group:g0" }))).toBe(
      2002,
    );

    engine.write([
      { user: "group:b#member", relation: "member", object: "group:a" },
      { user: "group:a#member", relation: "member", object: "group:b" },
    ]);
    expect(engine.check({ user: "user:zed", relation: "member", object: "group:a" })).toBe(false);
  });
});

describe("embedded engine: bad input changes nothing", () => {
  const engine = new Engine(DOCS);
  engine.write([{ user: "user:ann", relation: "viewer", object: "document:1" }]);

  it.each([
    ["a non-string object", { user: "user:ann", relation: "viewer", object: 7 }],
    ["an object without id", { user: "user:ann", relation: "viewer", object: "document" }],
    ["an empty object id", { user: "user:ann", relation: "viewer", object: "document:" }],
    ["a wildcard object", { user: "user:ann", relation: "viewer", object: "document:*" }],
    ["an object with a relation", { user: "user:ann", relation: "viewer", object: "document:1#viewer" }],
    ["an object with whitespace", { user: "user:ann", relation: "viewer", object: "document:a b" }],
    [
      "an object with a non-ASCII space",
      { user: "user:ann", relation: "viewer", object: "document:a\u2003b" },
    ],
    ["a malformed user", { user: "ann", relation: "viewer", object: "document:1" }],
    ["an unknown relation", { user: "user:ann", relation: "owner", object: "document:1" }],
    ["a non-object context", { user: "user:ann", relation: "viewer", object: "document:1", context: [1] }],
    [
      "contextual tuples that are not an array",
      { user: "user:ann", relation: "viewer", object: "document:1", contextualTuples: {} },
    ],
  ])("rejects a check with %s as 2000", (_, query) => {
    expect(codeOf(() => engine.check(query as never))).toBe(2000);
  });

  it("rejects a malformed delete with 2027 and deletes nothing", () => {
    expect(
      codeOf(() =>
        engine.delete([
          { user: "user:ann", relation: "viewer", object: "document:1" },
          { user: "user:ann", relation: "viewer", object: "document" },
        ]),
      ),
    ).toBe(2027);
    expect(engine.read({ object: "document:1" })).toHaveLength(1);
  });

  it("rejects writes whose user type or userset the model does not allow with 2027", () => {
    expect(codeOf(() => engine.write([{ user: "group:x", relation: "viewer", object: "document:1" }]))).toBe(
      2027,
    );
    expect(codeOf(() => engine.write([{ user: "user:*", relation: "viewer", object: "document:1" }]))).toBe(
      2027,
    );
    expect(
      codeOf(() => engine.write([{ user: "group:x#nope", relation: "viewer", object: "document:1" }])),
    ).toBe(2027);
    expect(engine.size).toBe(1);
  });

  it("reads with OpenFGA's filter rules", () => {
    expect(engine.read({})).toHaveLength(1);
    expect(engine.read({ user: "user:ann", object: "document:" })).toHaveLength(1);
    expect(codeOf(() => engine.read({ object: "document:" }))).toBe(2000);
    expect(codeOf(() => engine.read({ user: "user:ann" }))).toBe(2000);
  });

  it("rejects an invalid model, including a condition that is not valid CEL", () => {
    expect(codeOf(() => new Engine("model\n  schema 1.1\ntype user\n  relations\n    define x: y"))).toBe(
      "AUTHZ_INVALID_MODEL",
    );
    const badCel = `${DOCS}\ncondition broken(x: int) {\n  x <\n}\n`.replace(
      "define editor: [user]",
      "define editor: [user with broken]",
    );
    expect(codeOf(() => new Engine(badCel))).toBe("AUTHZ_INVALID_MODEL");
  });
});

describe("embedded engine: condition parameter types", () => {
  const engine = new Engine(`model
  schema 1.1
type user
type resource
  relations
    define access: [user with in_network, user with before_deadline, user with within_quota, user with tagged, user with limits]
condition in_network(ip: ipaddress, cidr: string) {
  ip.in_cidr(cidr)
}
condition before_deadline(now: timestamp, deadline: timestamp, grace: duration) {
  now < deadline + grace
}
condition within_quota(used: uint, ratio: double, enabled: bool) {
  enabled && used < 10u && ratio <= 0.5
}
condition tagged(tags: list<string>, wanted: string) {
  wanted in tags
}
condition limits(max: map<int>, kind: string) {
  max[kind] > 3
}
`);
  engine.write([
    {
      user: "user:ip",
      relation: "access",
      object: "resource:r",
      condition: { name: "in_network", context: { cidr: "10.0.0.0/8" } },
    },
    {
      user: "user:time",
      relation: "access",
      object: "resource:r",
      condition: { name: "before_deadline", context: { deadline: "2030-01-01T00:00:00Z" } },
    },
    {
      user: "user:quota",
      relation: "access",
      object: "resource:r",
      condition: { name: "within_quota", context: { enabled: true } },
    },
    {
      user: "user:tags",
      relation: "access",
      object: "resource:r",
      condition: { name: "tagged", context: { wanted: "beta" } },
    },
    {
      user: "user:maps",
      relation: "access",
      object: "resource:r",
      condition: { name: "limits", context: { kind: "cpu" } },
    },
  ]);
  const check = (user: string, context: Record<string, unknown>) => () =>
    engine.check({ user, relation: "access", object: "resource:r", context });

  it("evaluates ipaddress.in_cidr, IPv4 and IPv6", () => {
    expect(check("user:ip", { ip: "10.1.2.3" })()).toBe(true);
    expect(check("user:ip", { ip: "192.168.1.1" })()).toBe(false);
    expect(check("user:ip", { ip: "::1" })()).toBe(false);
    expect(codeOf(check("user:ip", { ip: "not-an-ip" }))).toBe(2000);
  });

  it("evaluates timestamps and durations from their string forms", () => {
    expect(check("user:time", { now: "2030-01-01T00:30:00Z", grace: "1h" })()).toBe(true);
    expect(check("user:time", { now: "2030-01-01T02:00:00Z", grace: "1h" })()).toBe(false);
    expect(codeOf(check("user:time", { now: "yesterday", grace: "1h" }))).toBe(2000);
  });

  it("converts uint, double and bool as OpenFGA does", () => {
    expect(check("user:quota", { used: 3, ratio: 0.25 })()).toBe(true);
    expect(check("user:quota", { used: "12", ratio: 0.25 })()).toBe(false);
    expect(codeOf(check("user:quota", { used: -1, ratio: 0.25 }))).toBe(2000);
    expect(codeOf(check("user:quota", { used: 1.5, ratio: 0.25 }))).toBe(2000);
    // The stored tuple's context wins over the request's.
    expect(check("user:quota", { used: 1, ratio: 0.1, enabled: false })()).toBe(true);
  });

  it("evaluates lists and maps of typed values", () => {
    expect(check("user:tags", { tags: ["alpha", "beta"] })()).toBe(true);
    expect(check("user:tags", { tags: ["alpha"] })()).toBe(false);
    expect(codeOf(check("user:tags", { tags: "beta" }))).toBe(2000);
    expect(check("user:maps", { max: { cpu: 4, mem: 1 } })()).toBe(true);
    expect(check("user:maps", { max: { cpu: 2 } })()).toBe(false);
  });

  it("reports a missing parameter as 2000", () => {
    expect(codeOf(check("user:tags", {}))).toBe(2000);
  });
});

describe("embedded engine: null comparisons cel-go's checker rejects", () => {
  // cel-go lets only nullable types (timestamp, duration, object types, any) meet `null`;
  // OpenFGA compiles conditions when the model is written, so these models are invalid
  // there. The accepted types' vectors are in vectors/project/null-comparisons.yaml.
  const model = (type: string, expression: string) => `model
  schema 1.1
type user
type document
  relations
    define viewer: [user with c]
condition c(x: ${type}) {
  ${expression}
}
`;
  for (const type of ["bool", "string", "int", "uint", "double", "list<string>", "map<timestamp>"]) {
    it(`rejects a model comparing a ${type} parameter with null`, () => {
      for (const expression of ["x == null", "null != x"]) {
        expect(codeOf(() => new Engine(model(type, expression)))).toBe("AUTHZ_INVALID_MODEL");
      }
    });
  }

  it("rejects a condition that is not boolean or does not type-check, as OpenFGA does", () => {
    expect(codeOf(() => new Engine(model("string", "x + 'suffix'")))).toBe("AUTHZ_INVALID_MODEL");
    expect(codeOf(() => new Engine(model("string", "x > 3")))).toBe("AUTHZ_INVALID_MODEL");
    expect(new Engine(model("timestamp", "x != null")).model.conditions.size).toBe(1);
  });
});
