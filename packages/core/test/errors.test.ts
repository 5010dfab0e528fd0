import { describe, expect, it } from "vitest";
import { CodedError, CoreError, isCodedError, isCoreError } from "../src/index.ts";

describe("CodedError", () => {
  it("carries family, code, details and cause", () => {
    const cause = new Error("root");
    const error = new CodedError("session", "SESSION_UNAVAILABLE", "redis down", {
      cause,
      details: { retryable: true },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.family).toBe("session");
    expect(error.code).toBe("SESSION_UNAVAILABLE");
    expect(error.details).toEqual({ retryable: true });
    expect(error.cause).toBe(cause);
  });

  it("guards by brand, so a structurally identical error from another bundle copy still matches", () => {
    // A second copy of the class (as a duplicated bundle would have) brands with the same global symbol.
    const foreign = Object.assign(new Error("x"), { family: "core", code: "TIMEOUT" });
    Object.defineProperty(foreign, Symbol.for("@mcp-langgraph/coded-error"), { value: true });
    expect(isCoreError(foreign)).toBe(true);
    expect(isCodedError(foreign, "session")).toBe(false);
  });

  it("rejects plain errors and look-alikes without the brand", () => {
    expect(isCodedError(new Error("x"))).toBe(false);
    expect(isCodedError({ code: "TIMEOUT", family: "core" })).toBe(false);
    expect(isCodedError(null)).toBe(false);
    expect(isCoreError(new CoreError("TIMEOUT", "t"))).toBe(true);
  });
});
