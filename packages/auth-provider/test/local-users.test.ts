import { describe, expect, it } from "vitest";
import { isAuthError, parseLocalUsers, parseServiceClients } from "../src/index.ts";

function configError(spec: string): Error {
  try {
    parseLocalUsers(spec);
  } catch (error) {
    expect(isAuthError(error)).toBe(true);
    expect((error as { code: string }).code).toBe("AUTH_CONFIG");
    return error as Error;
  }
  throw new Error("expected parseLocalUsers to throw");
}

describe("parseLocalUsers", () => {
  it("parses users, roles and passwords that contain colons", () => {
    expect(parseLocalUsers("alice:s3cret:admin|user, bob:pa:ss:word:user,carol:pw:")).toEqual([
      { username: "alice", password: "s3cret", roles: ["admin", "user"] },
      { username: "bob", password: "pa:ss:word", roles: ["user"] },
      { username: "carol", password: "pw", roles: [] },
    ]);
  });

  it("rejects an empty spec", () => {
    expect(configError("  ").message).toMatch(/empty/);
  });

  it("rejects an entry without a roles segment, naming its position but not the password", () => {
    const error = configError("alice:pw:admin,bob:hunter2");
    expect(error.message).toMatch(/#2/);
    expect(error.message).not.toContain("hunter2");
  });

  it("rejects a bad username", () => {
    expect(configError("al ice:pw:admin").message).toMatch(/username/);
  });

  it("rejects a duplicate username", () => {
    expect(configError("alice:a:x,alice:b:y").message).toMatch(/twice/);
  });

  it("rejects an empty password", () => {
    expect(configError("alice::admin").message).toMatch(/password is empty/);
  });

  it("rejects a bad role name", () => {
    expect(configError("alice:pw:ad min").message).toMatch(/role/);
  });

  it("parses service clients in the same format, requiring long secrets", () => {
    expect(parseServiceClients("ci-bot:0123456789abcdef:service")).toEqual([
      { clientId: "ci-bot", clientSecret: "0123456789abcdef", roles: ["service"] },
    ]);
    expect(() => parseServiceClients("ci-bot:short:service")).toThrow(/at least 16/);
  });
});
